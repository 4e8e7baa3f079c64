"""Drive the add-in's macros on a real `xlwings.Book` without desktop Excel.

xlwings' remote engine (what xlwings Lite and xlwings Server run) builds a Book from the payload
the Excel client sends and returns the actions Excel would apply. We build that payload from a
real file exactly as the client in xlwings/js/xlwings.ts does, and apply the returned actions
back to the file with openpyxl. Only Excel itself is missing: this module stands in for it.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlwings as xw
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

CLIENT = "Microsoft Office Scripts"


def _client_value(value):
    # xlwings.ts sends date-formatted numbers as ISO strings and empty cells as "".
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00.000Z"
    return "" if value is None else value


def payload_from_file(path: Path, name: str | None = None) -> dict:
    wb = load_workbook(path, data_only=True)
    sheets = []
    for ws in wb.worksheets:
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
        sheets.append({"name": ws.title, "values": values, "pictures": [], "tables": tables})
    return {
        "client": CLIENT, "version": xw.__version__,
        "book": {"name": name or Path(path).name, "active_sheet_index": wb.index(wb.active), "selection": "A1"},
        "names": [], "sheets": sheets,
    }


def book_from_file(path: Path, name: str | None = None) -> xw.Book:
    return xw.Book(json=payload_from_file(path, name))


def apply_actions(path: Path, actions: list[dict], target: Path) -> list[list]:
    """Apply the Book's actions to the file as Excel would; returns the alerts shown."""
    wb = load_workbook(path)
    alerts = []
    for action in actions:
        func, args = action["func"], action["args"]
        ws = wb.worksheets[action["sheet_position"]] if action.get("sheet_position") is not None else None
        row, column = (action.get("start_row") or 0) + 1, (action.get("start_column") or 0) + 1
        if func == "setValues":
            for r, values in enumerate(action["values"]):
                for c, value in enumerate(values):
                    ws.cell(row=row + r, column=column + c, value=None if value == "" else value)
        elif func == "setRangeColor":
            for r in range(action["row_count"]):
                for c in range(action["column_count"]):
                    cell = ws.cell(row=row + r, column=column + c)
                    cell.fill = PatternFill("solid", fgColor=args[0].lstrip("#")) if args[0] else PatternFill()
        elif func == "addSheet":
            wb.create_sheet(args[1], args[0])
        elif func == "sheetDelete":
            wb.remove(ws)
        elif func == "addHyperlink":
            ws.cell(row=row, column=column).hyperlink = args[0]
        elif func == "addNote":
            ws[args[0]].comment = Comment(args[1], "BranchBook")
        elif func == "alert":
            alerts.append(args)
        elif func == "rangeClearContents":
            for r in range(action["row_count"]):
                for c in range(action["column_count"]):
                    ws.cell(row=row + r, column=column + c).value = None
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
