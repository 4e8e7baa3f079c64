"""The look and the in-Excel checks shared by every sheet BranchBook writes."""
from __future__ import annotations

import unicodedata
from datetime import date

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .cells import DATE_FORMAT, FORMULA_STARTS, excel_serial, put
from .schema import Field

HEADER_FONT = Font(name="等线", bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B22222")  # party red
SYSTEM_FILL = PatternFill("solid", fgColor="808080")
LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LAST_ROW = 1_048_576
# Validation covers this many rows below the header in the master; enough for a university.
MASTER_VALIDATED_ROWS = LAST_ROW

_TYPE_WIDTH = {"date": 12, "number": 8, "integer": 8, "enum": 10, "string": 14}


def display_width(text: str) -> int:
    """Columns a string takes: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def column_width(field: Field, lang: str) -> float:
    label = display_width(field.label(lang))
    longest_code = max((display_width(x) for x in field.codes.labels(lang)), default=0) if field.codes else 0
    return min(max(label, longest_code, _TYPE_WIDTH[field.type]) + 3, 40)


def header_cell(ws, text: str, system: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=text)
    style_header(cell, system)
    return cell


def style_header(cell, system: bool = False) -> None:
    """The header look, for a write-only or a normal cell."""
    cell.font = HEADER_FONT
    cell.fill = SYSTEM_FILL if system else HEADER_FILL
    cell.alignment = HEADER_ALIGN
    cell.border = BOX


def set_widths(ws, fields: list[Field], lang: str, first_column: int = 1) -> None:
    for offset, field in enumerate(fields):
        ws.column_dimensions[get_column_letter(first_column + offset)].width = column_width(field, lang)


def _messages(field: Field, lang: str, text_zh: str, text_en: str) -> dict[str, str]:
    title = field.label(lang)[:32]
    text = text_zh if lang == "zh" else text_en
    return {"promptTitle": title, "prompt": text[:255], "errorTitle": title, "error": text[:255]}


def validation_for(
    field: Field,
    lang: str,
    list_source: str | None = None,
    date_bounds: tuple[date, date] | None = None,
) -> DataValidation | None:
    """Excel's own check for a field: stops a wrong code, date or number as it is typed."""
    blank = not field.required
    if list_source or field.type == "enum":
        if list_source:
            formula = list_source
            zh, en = "请从下拉列表中选择。", "Choose from the drop-down list."
        else:
            choices = field.codes.labels(lang)
            formula = '"' + ",".join(choices) + '"'
            zh = "请从下拉列表中选择：" + "、".join(choices)
            en = "Choose one of: " + ", ".join(choices)
        dv = DataValidation(type="list", formula1=formula, allow_blank=blank, **_messages(field, lang, zh, en))
    elif field.type in ("number", "integer"):
        low = field.minimum if field.minimum is not None else 0
        high = field.maximum if field.maximum is not None else 1_000_000
        whole = field.type == "integer"
        noun_zh = "整数" if whole else "数字"
        zh = f"请输入 {low} 到 {high} 之间的{noun_zh}。"
        en = f"Enter a {'whole ' if whole else ''}number from {low} to {high}."
        dv = DataValidation(
            type="whole" if whole else "decimal", operator="between", formula1=str(low), formula2=str(high),
            allow_blank=blank, **_messages(field, lang, zh, en),
        )
    elif field.type == "date":
        low_day, high_day = date_bounds or (date(2000, 1, 1), date(2099, 12, 31))
        zh = f"请输入 {low_day:%Y-%m-%d} 至 {high_day:%Y-%m-%d} 之间的日期，格式 2005-03-07。"
        en = f"Enter a date from {low_day:%Y-%m-%d} to {high_day:%Y-%m-%d}, as 2005-03-07."
        dv = DataValidation(
            type="date", operator="between", formula1=str(excel_serial(low_day)),
            formula2=str(excel_serial(high_day)), allow_blank=blank, **_messages(field, lang, zh, en),
        )
    else:
        return None
    dv.showInputMessage = True
    dv.showErrorMessage = True
    return dv


def body_cell(ws, value, field: Field | None = None):
    """A write-only cell for a value; plain values stay plain, which keeps big masters fast."""
    is_date = field is not None and field.type == "date" and value is not None
    if not is_date and not (isinstance(value, str) and value.startswith(FORMULA_STARTS)):
        return value
    cell = WriteOnlyCell(ws)
    put(cell, value)
    if is_date:
        cell.number_format = DATE_FORMAT
    return cell
