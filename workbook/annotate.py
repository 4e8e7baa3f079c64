"""Mark a workbook's findings in a copy: red cells with a comment, and a 校验结果 sheet with links."""
from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink

from . import layout
from .cells import put
from .findings import ERROR, Report
from .i18n import LANGS, Domain
from .safe_open import BROKEN_CONTENT, UnreadableFile

say = Domain("workbook")
ERROR_FILL = PatternFill("solid", fgColor="FF9999")
WARNING_FILL = PatternFill("solid", fgColor="FFE699")
RESULT_SHEET = {lang: say(lang, "Validation") for lang in LANGS}  # the sheet's name, by language
RESULT_HEADERS = {lang: [say(lang, "Severity"), say(lang, "Sheet"), say(lang, "Cell"), say(lang, "Problem"),
                         say(lang, "Value")] for lang in LANGS}
SEVERITY = {lang: {"error": say(lang, "error"), "warning": say(lang, "warning")} for lang in LANGS}


def result_rows(report: Report, lang: str) -> list[list]:
    """The 校验结果 sheet's rows below its header; shared with the xlwings macro."""
    return [[SEVERITY[lang][f.severity], f.sheet or "", f.cell or "", f.message(lang), f.to_dict(lang)["value"] or ""]
            for f in report.findings]


def _cells(ws, reference: str) -> list:
    found = ws[reference]
    if not isinstance(found, tuple):
        return [found]
    return [cell for row in found for cell in (row if isinstance(row, tuple) else (row,))]


def annotate(source: Path, report: Report, target: Path, lang: str = "zh") -> Path:
    try:
        wb = load_workbook(source)
    except Exception as error:  # noqa: BLE001 - openpyxl reads parts the value reader never needed: said in words
        raise UnreadableFile("corrupt", Path(source), reason=say.later(BROKEN_CONTENT)) from error
    for finding in report.findings:
        if not (finding.sheet and finding.cell and finding.sheet in wb.sheetnames):
            continue
        note = finding.message(lang)
        for cell in _cells(wb[finding.sheet], finding.cell):  # a run of rows (D5:D40) marks each of its cells
            cell.fill = ERROR_FILL if finding.severity == ERROR else WARNING_FILL
            cell.comment = Comment(f"{cell.comment.text}\n{note}" if cell.comment else note, "BranchBook")
    title = RESULT_SHEET[lang]
    if title in wb.sheetnames:
        del wb[title]
    ws = wb.create_sheet(title, 0)
    for column, text in enumerate(RESULT_HEADERS[lang], start=1):
        layout.style_header(ws.cell(row=1, column=column, value=text))
    for width, letter in zip((8, 14, 10, 90, 20), "ABCDE"):
        ws.column_dimensions[letter].width = width
    for number, (finding, values) in enumerate(zip(report.findings, result_rows(report, lang)), start=2):
        for column, value in enumerate(values, start=1):
            put(ws.cell(row=number, column=column), value)
        if finding.cell and finding.sheet in wb.sheetnames:
            link = ws.cell(row=number, column=3)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheetname(finding.sheet)}!{finding.cell}")
            link.font = Font(color="0563C1", underline="single")
    wb.active = 0
    wb.save(target)
    return target
