"""Drive the add-in's macros on a real `xlwings.Book` without desktop Excel.

xlwings' remote engine (what xlwings Lite and xlwings Server run) builds a Book from the payload
the Excel client sends and returns the actions Excel would apply. We build that payload from a
real file as the Office.js client does (the client of xlwings Lite, and the only one with notes:
`Range.add_note` refuses any other), and apply the returned actions back to the file with openpyxl,
refusing what Excel refuses. Only Excel itself is missing: this module stands in for it.

What Excel enforces and this stand-in enforces too (docs/design.md, "Buttons"):
- a protected sheet refuses a value written to a locked cell, a fill or number format unless its
  protection allows formatting cells, and a note added or deleted unless it allows editing objects
  (notes are drawing objects); the cell must also be unlocked for a note (the stricter reading, kept
  until a real Excel says otherwise). xlwings' remote engine has no action to unprotect a sheet, so
  nothing here lifts a protection: a macro must leave protected sheets alone on this path;
- a note cannot be added where there is one, nor deleted where there is none;
- every action must be one this stand-in knows: an unknown one fails the test.
"""
from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime
from pathlib import Path

import xlwings as xw
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import range_boundaries

CLIENT = "Office.js"
NOTE_AUTHOR = "BranchBook"
_VISIBILITY = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}


class ExcelRefused(Exception):
    """What Excel raises for a change a protected sheet does not allow."""


def _client_value(value):
    # The client sends date-formatted numbers as ISO strings and empty cells as "".
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00.000Z"
    return "" if value is None else value


def _sheet_payload(ws) -> dict:
    rows = ws.max_row if ws.max_row and ws.calculate_dimension() != "A1:A1" or ws["A1"].value is not None else 1
    values = [[_client_value(c) for c in row] for row in ws.iter_rows(min_row=1, max_row=max(rows, 1),
                                                                      max_col=max(ws.max_column, 1),
                                                                      values_only=True)]
    tables = [{
        "name": table.displayName, "range_address": table.ref,
        "header_row_range_address": table.ref.split(":")[0] + ":" + table.ref.split(":")[1].rstrip("0123456789") + "1",
        "data_body_range_address": table.ref, "total_row_range_address": None, "show_headers": True,
        "show_totals": False, "table_style": "TableStyleLight9", "show_autofilter": True,
    } for table in ws.tables.values()]
    notes = [{"address": cell.coordinate} for row in ws.iter_rows() for cell in row if cell.comment]
    return {"name": ws.title, "values": values, "pictures": [], "shapes": [], "charts": [], "tables": tables,
            "pivot_tables": [], "notes": notes, "notes_supported": True, "show_gridlines": True,
            "visibility": _VISIBILITY[ws.sheet_state], "print_area": None}


def payload_from_file(path: Path, name: str | None = None) -> dict:
    wb = load_workbook(path, data_only=True)
    return {
        "client": CLIENT, "version": xw.__version__,
        "book": {"name": name or Path(path).name, "active_sheet_index": wb.index(wb.active), "selection": "A1"},
        "names": [], "sheets": [_sheet_payload(ws) for ws in wb.worksheets],
    }


def book_from_file(path: Path, name: str | None = None) -> xw.Book:
    return xw.Book(json=payload_from_file(path, name))


def server_side() -> bool:
    """Whether xlwings' server-side decorators are on (XLWINGS_ON_SERVER=true, as in Lite and Server)."""
    return xw.on_server


def run_script(script, book: xw.Book, module=None):
    """Run a script as its runtime does: through xlwings' own `custom_scripts_call` when the server-side
    `script` decorator is on (the Book injected, the coroutine awaited), else as RunPython calls it."""
    if not hasattr(script, "__xlscript__"):
        return script(book)
    from xlwings.pro.udfs_officejs import custom_scripts_call

    module = module or sys.modules[script.__module__]
    assert getattr(module, script.__name__) is script, "the runtime finds scripts by name in their module"
    asyncio.run(custom_scripts_call(module, script.__name__, typehint_to_value={xw.Book: book}))
    return None


def _cells(ws, action: dict):
    row, column = (action.get("start_row") or 0) + 1, (action.get("start_column") or 0) + 1
    for r in range(action.get("row_count") or 1):
        for c in range(action.get("column_count") or 1):
            yield ws.cell(row=row + r, column=column + c)


def _refuse_if_locked(ws, cells, what: str) -> None:
    if ws.protection.sheet and any(cell.protection.locked for cell in cells):
        raise ExcelRefused(f"{what} on {ws.title}: the cell is on a protected sheet")


def _refuse_if(ws, rule_locked: bool, what: str) -> None:
    # openpyxl's SheetProtection flags are the file's: True means "protected", i.e. not allowed.
    if ws.protection.sheet and rule_locked:
        raise ExcelRefused(f"{what} on protected sheet {ws.title}")


def _note_cell(ws, address: str):
    min_col, min_row, max_col, max_row = range_boundaries(address.replace("$", ""))
    if (min_col, min_row) != (max_col, max_row):
        raise ExcelRefused(f"a note belongs to one cell, not {address}")
    return ws.cell(row=min_row, column=min_col)


def apply_actions(path: Path, actions: list[dict], target: Path) -> list[list]:
    """Apply the Book's actions to the file as Excel would; returns the alerts shown."""
    wb = load_workbook(path)
    alerts = []
    for action in actions:
        func, args = action["func"], action["args"]
        ws = wb.worksheets[action["sheet_position"]] if action.get("sheet_position") is not None else None
        if func == "setValues":
            first = next(_cells(ws, action))
            cells = [ws.cell(row=first.row + r, column=first.column + c)
                     for r, values in enumerate(action["values"]) for c in range(len(values))]
            _refuse_if_locked(ws, cells, "a value")
            for cell, value in zip(cells, (v for values in action["values"] for v in values)):
                cell.value = None if value == "" else value
        elif func == "rangeClearContents":
            cells = list(_cells(ws, action))
            _refuse_if_locked(ws, cells, "clearing values")
            for cell in cells:
                cell.value = None
        elif func == "setRangeColor":
            _refuse_if(ws, ws.protection.formatCells, "a fill")
            for cell in _cells(ws, action):
                cell.fill = PatternFill("solid", fgColor=args[0].lstrip("#")) if args[0] else PatternFill()
        elif func in ("addNote", "deleteNote"):
            cell = _note_cell(ws, args[0])
            _refuse_if(ws, ws.protection.objects, "a note")
            _refuse_if_locked(ws, [cell], "a note")
            if func == "addNote":
                if cell.comment is not None:
                    raise ExcelRefused(f"{ws.title}!{cell.coordinate} has a note already")
                cell.comment = Comment(args[1], NOTE_AUTHOR)
            else:
                if cell.comment is None:
                    raise ExcelRefused(f"{ws.title}!{cell.coordinate} has no note to delete")
                cell.comment = None
        elif func == "addSheet":
            wb.create_sheet(args[1], args[0])
        elif func == "sheetDelete":
            wb.remove(ws)
        elif func == "addHyperlink":
            cell = next(_cells(ws, action))
            _refuse_if(ws, ws.protection.insertHyperlinks, "a hyperlink")
            cell.hyperlink = args[0]
        elif func == "alert":
            alerts.append(args)
        elif func == "save":
            pass  # the target file below is the saved workbook
        else:
            raise AssertionError(f"the macro asked Excel for {func!r}, which this stand-in does not apply")
    wb.save(target)
    return alerts


def fill_of(ws, cell: str) -> str | None:
    fill = ws[cell].fill
    if fill is None or fill.fill_type != "solid":
        return None
    return "#" + str(fill.fgColor.rgb)[-6:].upper()


def note_of(ws, cell: str) -> str | None:
    comment = ws[cell].comment
    return comment.text if comment is not None else None
