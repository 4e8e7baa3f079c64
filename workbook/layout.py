"""The look and the in-Excel checks shared by every sheet BranchBook writes.

Two writers use them: openpyxl (branch returns, annotated copies, the add-in) and XlsxWriter (the
master). The colours, fonts and widths are defined once, here; each writer gets them in its own form.
"""
from __future__ import annotations

import unicodedata
from datetime import date
from typing import TYPE_CHECKING

from .cells import DATE_FORMAT, column_letter, excel_serial
from .i18n import Domain
from .schema import Field

if TYPE_CHECKING:
    from openpyxl.worksheet.datavalidation import DataValidation

say = Domain("workbook")

PARTY_RED = "B22222"
SYSTEM_GREY = "808080"  # columns BranchBook fills itself (来源, 行指纹)
LOCKED_GREY = "F2F2F2"
BORDER_GREY = "BFBFBF"
HEADER_FONT_NAME = "等线"
HEADER_FONT_COLOR = "FFFFFF"

LAST_ROW = 1_048_576
# Validation covers this many rows below the header in the master; enough for a university.
MASTER_VALIDATED_ROWS = LAST_ROW

_TYPE_WIDTH = {"date": 12, "datetime": 19, "number": 8, "integer": 8, "enum": 10, "string": 14}
_OPENPYXL_STYLES = ("HEADER_FONT", "HEADER_FILL", "SYSTEM_FILL", "LOCKED_FILL", "HEADER_ALIGN", "BOX")


def __getattr__(name: str):
    """The looks as openpyxl objects (HEADER_FONT, LOCKED_FILL, ...), made when first asked: the master's
    writer (XlsxWriter) does without openpyxl, whose import costs `branchbook merge` a third of a second."""
    if name not in _OPENPYXL_STYLES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color=BORDER_GREY)
    styles = {
        "HEADER_FONT": Font(name=HEADER_FONT_NAME, bold=True, color=HEADER_FONT_COLOR),
        "HEADER_FILL": PatternFill("solid", fgColor=PARTY_RED),
        "SYSTEM_FILL": PatternFill("solid", fgColor=SYSTEM_GREY),
        "LOCKED_FILL": PatternFill("solid", fgColor=LOCKED_GREY),
        "HEADER_ALIGN": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "BOX": Border(left=thin, right=thin, top=thin, bottom=thin),
    }
    globals().update(styles)
    return styles[name]


def display_width(text: str) -> int:
    """Columns a string takes: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def column_width(field: Field, lang: str) -> float:
    if field.width is not None:  # chosen in the schema: the sheet's columns together print at a readable scale
        return field.width
    label = display_width(field.label(lang))
    longest_code = max((display_width(x) for x in field.codes.labels(lang)), default=0) if field.codes else 0
    return min(max(label, longest_code, _TYPE_WIDTH[field.type]) + 3, 40)


def style_header(cell, system: bool = False) -> None:
    """The header look, for an openpyxl cell."""
    cell.font = __getattr__("HEADER_FONT")
    cell.fill = __getattr__("SYSTEM_FILL" if system else "HEADER_FILL")
    cell.alignment = __getattr__("HEADER_ALIGN")
    cell.border = __getattr__("BOX")


def set_widths(ws, fields: list[Field], lang: str, first_column: int = 1) -> None:
    for offset, field in enumerate(fields):
        ws.column_dimensions[column_letter(first_column + offset)].width = column_width(field, lang)


def xlsx_header_format(workbook, system: bool = False):
    """The header look as an XlsxWriter format of `workbook`."""
    return workbook.add_format({
        "font_name": HEADER_FONT_NAME, "bold": True, "font_color": f"#{HEADER_FONT_COLOR}",
        "pattern": 1, "bg_color": f"#{SYSTEM_GREY if system else PARTY_RED}",
        "align": "center", "valign": "vcenter", "text_wrap": True,
        "border": 1, "border_color": f"#{BORDER_GREY}",
    })


LINE_POINTS = 15  # a line of 11-point text, Excel's default row height


def one_line_length(width: float) -> int:
    """Characters that fit on one line of a column `width` wide whatever they are (CJK ones are two wide)."""
    return 10 * max(int(width) - 1, 1) // 22


def wrapped_lines(text, width: float) -> int:
    """Lines `text` takes wrapped in a column `width` characters wide, a little generously (proportional
    fonts, breaks at word ends)."""
    if type(text) is not str or len(text) <= one_line_length(width):
        return 1
    return max(1, -(-display_width(text) * 11 // (10 * max(int(width) - 1, 1))))


def xlsx_wrap_format(workbook):
    """Long text wrapped within its column (docs/design.md, "Printing"). At the foot of its row, as the row's
    other cells are: top-aligned, a row's text read as the row above's."""
    return workbook.add_format({"text_wrap": True})


def xlsx_date_format(workbook):
    return workbook.add_format({"num_format": DATE_FORMAT})


def _messages(field: Field, lang: str, text: str) -> dict[str, str]:
    title = field.label(lang)[:32]
    return {"promptTitle": title, "prompt": text[:255], "errorTitle": title, "error": text[:255]}


def _validation_rule(
    field: Field,
    lang: str,
    list_source: str | None = None,
    date_bounds: tuple[date, date] | None = None,
) -> dict | None:
    """Excel's own check for a field, in Excel's terms (type, operator, formula1/2, messages), for
    either writer to render; None for a field Excel cannot check."""
    blank = not field.required
    if list_source or field.type == "enum":
        if list_source:
            formula = list_source
            text = say(lang, "Choose from the drop-down list.")
        else:
            choices = field.codes.labels(lang)
            formula = '"' + ",".join(choices) + '"'
            text = say(lang, "Choose one of: {choices}", choices=choices)
        return {"type": "list", "formula1": formula, "allow_blank": blank, **_messages(field, lang, text)}
    if field.type in ("number", "integer"):
        low = field.minimum if field.minimum is not None else 0
        high = field.maximum if field.maximum is not None else 1_000_000
        whole = field.type == "integer"
        text = say(lang, "Enter a whole number from {low} to {high}.", low=low, high=high) if whole else \
            say(lang, "Enter a number from {low} to {high}.", low=low, high=high)
        return {"type": "whole" if whole else "decimal", "operator": "between", "formula1": str(low),
                "formula2": str(high), "allow_blank": blank, **_messages(field, lang, text)}
    if field.type == "date":
        low_day, high_day = date_bounds or (date(2000, 1, 1), date(2099, 12, 31))
        text = say(lang, "Enter a date from {low} to {high}, as 2005-03-07.", low=f"{low_day:%Y-%m-%d}",
                   high=f"{high_day:%Y-%m-%d}")
        return {"type": "date", "operator": "between", "formula1": str(excel_serial(low_day)),
                "formula2": str(excel_serial(high_day)), "allow_blank": blank, **_messages(field, lang, text)}
    return None


def validation_for(
    field: Field,
    lang: str,
    list_source: str | None = None,
    date_bounds: tuple[date, date] | None = None,
) -> DataValidation | None:
    """Excel's own check for a field, for openpyxl: stops a wrong code, date or number as it is typed."""
    from openpyxl.worksheet.datavalidation import DataValidation

    rule = _validation_rule(field, lang, list_source, date_bounds)
    if rule is None:
        return None
    return DataValidation(**rule, showInputMessage=True, showErrorMessage=True)


_XLSX_VALIDATE = {"list": "list", "whole": "integer", "decimal": "decimal", "date": "date"}


def xlsx_validation(
    field: Field,
    lang: str,
    list_source: str | None = None,
    date_bounds: tuple[date, date] | None = None,
) -> dict | None:
    """The same check as `validation_for`, as XlsxWriter's data_validation() options."""
    rule = _validation_rule(field, lang, list_source, date_bounds)
    if rule is None:
        return None
    options = {
        "validate": _XLSX_VALIDATE[rule["type"]], "ignore_blank": rule["allow_blank"],
        "input_title": rule["promptTitle"], "input_message": rule["prompt"],
        "error_title": rule["errorTitle"], "error_message": rule["error"],
        "show_input": True, "show_error": True,
    }
    if rule["type"] == "list":
        options["source"] = rule["formula1"]  # a quoted list or a range, written as it is
    else:
        options.update(criteria=rule["operator"], minimum=rule["formula1"], maximum=rule["formula2"])
    return options
