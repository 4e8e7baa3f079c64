"""BranchBook's core: schemas, workbook read/write, validation, merge, flags and reports.

Knows nothing of xlwings or watchdog; the add-in and the sync service call into it.
"""
