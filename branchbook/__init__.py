"""BranchBook: a party branch campaign ledger kept in Excel.

The sub-packages map to the repository's top-level folders: workbook/ (the core),
sync/ (the service), addin/ (xlwings macros) and schemas/ (data).
"""
__version__ = "0.1.0"
