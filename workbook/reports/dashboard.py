"""The 进度看板 sheet of the master: a row per branch with conditional formatting, a weekly trend,
and native Excel charts a user can edit. Drawn on every write of the master."""
from __future__ import annotations

from datetime import date

from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, DataBarRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from .. import layout
from ..flags import Flag
from .progress import Progress, compute_progress

SHEET_NAME = {"zh": "进度看板", "en": "Dashboard"}
COLUMNS = {
    "zh": ["支部", "联系委员", "党员数", "本周回执", "累计回执（周）", "人均学时", "进度目标学时", "达标占比", "出勤率",
           "笔记已查", "笔记合格", "笔记逾期", "征求意见人次", "落后提醒"],
    "en": ["Branch", "Liaison", "Members", "Return this week", "Returns (weeks)", "Avg hours", "Target to date",
           "On target", "Attendance", "Notebooks checked", "Notebooks passed", "Overdue fixes", "People asked", "Flags"],
}
TREND = {"zh": ["周次", "收到回执", "出勤率"], "en": ["Week", "Returns", "Attendance"]}
RETURNED = {"zh": ("已交", "未交"), "en": ("yes", "missing")}
HEADER_ROW = 3
RED, AMBER, GREEN = "F8696B", "FFEB84", "63BE7B"


def trend_first_row(branches: int) -> int:
    """Where the weekly trend's figures start, below the branch table and its header."""
    return HEADER_ROW + max(branches, 1) + 4


def _cell(ws, value, number_format: str | None = None, bold: bool = False):
    cell = WriteOnlyCell(ws, value=value)
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def branch_rows(progress: Progress, lang: str) -> list[list]:
    """The table's values, branch by branch; shared with the add-in, which writes them into an open master."""
    yes, no = RETURNED[lang]
    return [[b.name, b.liaison, b.members, yes if b.returned_this_week else no, b.returns_total,
             round(b.average_hours, 1), round(b.expected_hours, 1), b.on_target_share, b.attendance_rate,
             b.inspected, b.passed, b.overdue, b.opinions, b.flags] for b in progress.branches]


def write_dashboard(wb, progress: Progress, lang: str) -> None:
    ws = wb.create_sheet(SHEET_NAME[lang])
    columns = COLUMNS[lang]
    for index, width in enumerate([24, 10] + [11] * (len(columns) - 2), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    title = (f"进度看板　截至 {progress.as_of:%Y-%m-%d}（第{progress.week}周：{progress.week_start:%m月%d日}—"
             f"{progress.week_end:%m月%d日}）" if lang == "zh" else
             f"Dashboard as of {progress.as_of:%Y-%m-%d} (week {progress.week})")
    # A write-only sheet writes its view and page settings with its first row: set them before.
    ws.freeze_panes = f"B{HEADER_ROW + 1}"
    ws.page_setup.orientation = "landscape"  # printed (or made a PDF) on one A4 page, charts included
    ws.page_setup.paperSize = "9"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.append([_cell(ws, title, bold=True)])
    ws.append([])
    ws.append([layout.header_cell(ws, text) for text in columns])
    formats = [None, None, None, None, None, "0.0", "0.0", "0%", "0%", None, None, None, None, None]
    rows = branch_rows(progress, lang)
    for values in rows:
        ws.append([_cell(ws, v, f) for v, f in zip(values, formats)])
    first, last = HEADER_ROW + 1, HEADER_ROW + max(len(rows), 1)
    trend_header = trend_first_row(len(rows)) - 1
    ws.append([])
    ws.append([])
    ws.append([layout.header_cell(ws, text) for text in TREND[lang]])
    for week in progress.weeks:
        ws.append([week.week, week.returns, _cell(ws, week.attendance_rate, "0%")])
    trend_last = trend_header + max(len(progress.weeks), 1)
    _format(ws, first, last, lang)
    _charts(ws, first, last, trend_header, trend_last, lang)


def _format(ws, first: int, last: int, lang: str) -> None:
    def span(column: int) -> str:
        letter = get_column_letter(column)
        return f"{letter}{first}:{letter}{last}"

    ws.conditional_formatting.add(span(6), DataBarRule(start_type="num", start_value=0, end_type="max",
                                                       color="5B9BD5", showValue=True))
    for column in (8, 9):  # on-target share and attendance: red / amber / green
        ws.conditional_formatting.add(span(column), ColorScaleRule(
            start_type="num", start_value=0.5, start_color=RED, mid_type="num", mid_value=0.8, mid_color=AMBER,
            end_type="num", end_value=1, end_color=GREEN))
    missing = RETURNED[lang][1]
    ws.conditional_formatting.add(span(4), CellIsRule(operator="equal", formula=[f'"{missing}"'],
                                                      fill=PatternFill("solid", fgColor=RED)))
    ws.conditional_formatting.add(span(12), CellIsRule(operator="greaterThan", formula=["0"],
                                                       fill=PatternFill("solid", fgColor=AMBER)))
    ws.conditional_formatting.add(span(14), DataBarRule(start_type="num", start_value=0, end_type="max",
                                                        color=RED, showValue=True))


def _charts(ws, first: int, last: int, trend_header: int, trend_last: int, lang: str) -> None:
    hours = BarChart()
    hours.type = "bar"
    hours.title = "各支部人均学时与进度目标" if lang == "zh" else "Average hours against the target to date"
    hours.y_axis.title = "学时" if lang == "zh" else "hours"
    hours.add_data(Reference(ws, min_col=6, max_col=7, min_row=HEADER_ROW, max_row=last), titles_from_data=True)
    hours.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    hours.height, hours.width = 9 + 0.35 * (last - first), 18
    ws.add_chart(hours, f"A{trend_last + 3}")
    trend = LineChart()
    trend.title = "每周回执与出勤率" if lang == "zh" else "Returns and attendance by week"
    trend.add_data(Reference(ws, min_col=2, min_row=trend_header, max_row=trend_last), titles_from_data=True)
    trend.set_categories(Reference(ws, min_col=1, min_row=trend_header + 1, max_row=trend_last))
    trend.y_axis.title = "支部数" if lang == "zh" else "branches"
    rate = LineChart()
    rate.add_data(Reference(ws, min_col=3, min_row=trend_header, max_row=trend_last), titles_from_data=True)
    rate.y_axis.axId = 200
    rate.y_axis.title = "出勤率" if lang == "zh" else "attendance"
    rate.y_axis.number_format = "0%"
    rate.y_axis.crosses = "max"
    trend += rate
    for series in (*trend.series, *rate.series):
        series.smooth = False  # weekly counts are points, not a curve    trend.height, trend.width = 8, 18
    ws.add_chart(trend, f"I{trend_last + 3}")


def dashboard_painter(as_of: date, flags: list[Flag] | None = None):
    """A painter for write_master: the dashboard as of a date, from the tables being written and
    the flags already computed for them (computed here when not given)."""
    def paint(wb, tables, lang):
        write_dashboard(wb, compute_progress(tables, as_of, flags=flags), lang)
    return paint
