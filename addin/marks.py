"""The Validate button's marks in the open workbook: a colour and a note on each finding's cell, undone
on the next run, on protected sheets too (docs/design.md, "Buttons").

Desktop Excel lifts a sheet's protection with the template's password (schemas/returns.yaml, read
through workbook/schema.py) and puts it back as it was. xlwings' remote engine (Lite, Server) has no
action for protection, and Excel refuses a fill or a note on a protected sheet: there the protected
sheets are left alone, and the 校验结果 sheet lists their findings with links.
"""
from __future__ import annotations

from contextlib import contextmanager

import xlwings as xw

from ..workbook.findings import ERROR, Report
from ..workbook.schema import load_schemas

ERROR_COLOR = "#FF9999"
WARNING_COLOR = "#FFE699"
NOTED_COLUMN = 6  # the 校验结果 sheet's column saying a note of ours was added (after annotate's five)

# What Protect must be given back to restore a protection as it was: Excel's Worksheet.Protect takes
# Password, DrawingObjects, Contents, Scenarios, UserInterfaceOnly, then these, in this order (positional:
# COM's late binding is surest so).
_ALLOW = ("AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns",
          "AllowInsertingRows", "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows",
          "AllowSorting", "AllowFiltering", "AllowUsingPivotTables")


def can_unprotect(book: xw.Book) -> bool:
    """Desktop Excel on Windows lets a macro lift a protection (COM); the remote engine cannot."""
    return book.app.engine.name == "excel" and hasattr(book.sheets[0].api, "Unprotect")


def protected_sheets(book: xw.Book) -> set[str]:
    """The open workbook's sheets the return template protects."""
    return {s.name for s in book.sheets} & load_schemas().returns.protected_sheet_names()


@contextmanager
def unprotected(sheet: xw.Sheet):
    """Desktop Excel: the sheet's protection lifted for the block, and put back as it was after it."""
    api = sheet.api
    if not api.ProtectContents:
        yield
        return
    allowed = [getattr(api.Protection, name) for name in _ALLOW]
    drawing, scenarios = api.ProtectDrawingObjects, api.ProtectScenarios
    password = load_schemas().returns.password
    api.Unprotect(password)
    try:
        yield
    finally:
        api.Protect(password, drawing, True, scenarios, False, *allowed)


def _sheet_edits(book: xw.Book, names: set[str]):
    """(sheet, context) for each sheet a run may edit: a protected one only where it can be unprotected."""
    protected = protected_sheets(book)
    desktop = can_unprotect(book)
    for name in sorted(names):
        if name not in protected:
            yield book.sheets[name], _nothing()
        elif desktop:
            yield book.sheets[name], unprotected(book.sheets[name])


@contextmanager
def _nothing():
    yield


def _first_cell(rng: xw.Range) -> xw.Range:
    return rng[0, 0] if rng.count > 1 else rng  # a note belongs to one cell; a run (D5:D40) gets it on its first


def clear_marks(book: xw.Book, rows: list[list]) -> None:
    """Undo an earlier run from its 校验结果 rows: each listed cell's colour, and the note the run added (a
    sheet written by the service's annotate has no note column: each listed cell got a note there)."""
    names = {s.name for s in book.sheets}
    cells: dict[str, list[tuple[str, bool]]] = {}
    for row in rows:
        sheet, cell = row[1], row[2]
        noted = bool(row[NOTED_COLUMN - 1]) if len(row) >= NOTED_COLUMN else True
        if sheet in names and cell:
            cells.setdefault(sheet, []).append((cell, noted))
    for sheet, edit in _sheet_edits(book, set(cells)):
        with edit:
            for cell, noted in cells[sheet.name]:
                rng = sheet[cell]
                rng.color = None
                first = _first_cell(rng)
                if noted and first.note is not None:
                    first.note.delete()


def mark(book: xw.Book, report: Report, lang: str) -> tuple[set[int], set[str]]:
    """Colour each finding's cell and note it where it has no note yet. Returns the findings noted (by
    their place in the report) and the sheets left unmarked because they cannot be unprotected here."""
    by_sheet: dict[str, list[int]] = {}
    names = {s.name for s in book.sheets}
    for number, finding in enumerate(report.findings):
        if finding.sheet in names and finding.cell:
            by_sheet.setdefault(finding.sheet, []).append(number)
    noted: set[int] = set()
    marked: set[str] = set()
    for sheet, edit in _sheet_edits(book, set(by_sheet)):
        marked.add(sheet.name)
        with edit:
            for number in by_sheet[sheet.name]:
                finding = report.findings[number]
                rng = sheet[finding.cell]
                rng.color = ERROR_COLOR if finding.severity == ERROR else WARNING_COLOR
                first = _first_cell(rng)
                if first.note is None:  # the office's own note stays; the 校验结果 sheet says it all
                    try:
                        first.add_note(finding.message(lang))
                    except NotImplementedError:
                        continue  # Office Scripts (xlwings Server's other client) has no notes
                    noted.add(number)
    return noted, set(by_sheet) - marked
