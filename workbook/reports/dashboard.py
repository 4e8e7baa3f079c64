"""The 进度看板 sheet of the master: a row per branch with conditional formatting, a weekly trend,
and native Excel charts a user can edit. Drawn on every write of the master (with XlsxWriter).

Its figures are progress.py's, as the bulletin's are: each branch measured to its data cut-off (the last
column says to which day), its return in the state return_states.py gives it."""
from __future__ import annotations

import re
from datetime import date

from .. import layout, print_setup
from ..campaign_definition import CampaignDefinition
from ..flags import Facts, Flag, day_words
from ..i18n import N_, Domain
from ..return_states import state_word
from ..schema import load_schemas
from ..sheetio import find_sheet
from .progress import Progress, compute_progress

say = Domain("reports")


class Worded:
    """Fixed words looked up by language, as `COLUMNS[lang]`: the messages rendered in that language."""

    def __init__(self, *messages: str):
        self.messages = messages

    def __getitem__(self, lang: str) -> tuple[str, ...]:
        return tuple(say(lang, message) for message in self.messages)


SHEET_NAME = {"zh": "进度看板", "en": "Dashboard"}  # a sheet's name, as the add-in finds it: not a message
COLUMNS = Worded(N_("Branch"), N_("Liaison"), N_("Members"), N_("Return this week"), N_("Returns (weeks)"),
                 N_("Avg hours"), N_("Target to date"), N_("On target"), N_("Attendance"), N_("Notebooks checked"),
                 N_("Notebooks passed"), N_("Overdue fixes"), N_("People asked"), N_("Flags"), N_("Data up to"))
# Phases 2 and 3, from the analysis phase's start on (phase_progress.shown): a phase-1 sheet keeps its width.
PHASE_COLUMNS = Worded(N_("Self-analyses final"), N_("Talks held"), N_("Appraised"), N_("Items done"),
                       N_("Items overdue"))
TREND = Worded(N_("Week"), N_("Returns"), N_("Attendance"))
NOT_IN = ("missing", "rejected", "empty")  # return states shown red: the week's return is not in the ledger
HEADER_ROW = 3
AS_OF_IN_TITLE = re.compile(r"\d{4}-\d{2}-\d{2}")  # the title gives as_of in ISO form, in either language
RED, AMBER, GREEN = "F8696B", "FFEB84", "63BE7B"


def trend_first_row(branches: int) -> int:
    """Where the weekly trend's figures start, below the branch table and its header."""
    return HEADER_ROW + max(branches, 1) + 4


def with_phases(progress: Progress) -> bool:
    return progress.phases is not None


def columns(progress: Progress, lang: str, unit: str | None = None) -> tuple[str, ...]:
    """The table's header: a row's unit (a branch, or a college in the roll-up), then the figures."""
    names = COLUMNS[lang] if unit is None else (unit, *COLUMNS[lang][1:])
    return (*names, *PHASE_COLUMNS[lang]) if with_phases(progress) else names


def of(done: int, total: int) -> str:
    """n/N, as the office counts (党性分析定稿 12/30)."""
    return f"{done}/{total}"


def branch_rows(progress: Progress, lang: str) -> list[list]:
    """The table's values, branch by branch; shared with the add-in, which writes them into an open master."""
    def hours(value: float, branch) -> float | None:
        return None if branch.measured_to is None else round(value, 1)

    def phases(b) -> list:
        if not with_phases(progress):
            return []
        f = b.phases
        if f is None:  # a college row of the roll-up whose master has no phase figures
            return [None] * len(PHASE_COLUMNS.messages)
        return [of(f.analyses_final, f.members), of(f.talked, f.members), of(f.appraised, f.members),
                of(f.items_done, f.items), f.items_overdue]

    return [[b.name, b.liaison, b.members, b.return_state.word(lang), b.returns_total,
             hours(b.average_hours, b), hours(b.expected_hours, b), b.on_target_share, b.attendance_rate,
             b.inspected, b.passed, b.overdue, b.opinions, b.flags,
             day_words(lang, b.measured_to) if b.measured_to else "—", *phases(b)] for b in progress.branches]


CM_PER_PIXEL = 2.54 / 96  # Excel's charts are sized in pixels at 96 dpi
FORMATS = [None, None, None, None, None, "0.0", "0.0", "0%", "0%", None, None, None, None, None, None]


def _pixels(cm: float) -> int:
    return round(cm / CM_PER_PIXEL)


def _put(ws, row: int, column: int, value, cell_format=None) -> None:
    """One cell; text always as text (a branch named "=..." stays a name)."""
    if value is None:
        ws.write_blank(row, column, None, cell_format)
    elif isinstance(value, str):
        ws.write_string(row, column, value, cell_format)
    else:
        ws.write_number(row, column, value, cell_format)


def write_dashboard(wb, progress: Progress, lang: str, unit: str | None = None, campaign: str | None = None) -> None:
    """The dashboard sheet, added to an XlsxWriter workbook (saved by the caller). `unit`: what a row is, when
    not a branch (the university's roll-up draws a row per college: workbook/rollup.py); `campaign`: its name,
    in the title (a college's master; docs/design.md, "Campaigns")."""
    ws = wb.add_worksheet(SHEET_NAME[lang])
    header_words = columns(progress, lang, unit)
    # a header wider than its column would be cut: the header row is one line high
    widths = [24, 10] + [max(11, layout.display_width(name) + 2) for name in header_words[2:]]
    for index, width in enumerate(widths):
        ws.set_column(index, index, width)
    when = {"as_of": progress.as_of.isoformat(), "week": progress.week, "start": day_words(lang, progress.week_start),
            "end": day_words(lang, progress.week_end)}
    title = say(lang, "{campaign}: dashboard as of {as_of} (week {week}: {start}–{end})", campaign=campaign, **when) \
        if campaign else say(lang, "Dashboard as of {as_of} (week {week}: {start}–{end})", **when)
    ws.freeze_panes(HEADER_ROW, 1)  # below the header, right of the branch names
    # printed (or made a PDF) on one A4 page, charts included
    print_setup.apply_xlsxwriter(ws, widths, lang, title_rows=0, pages_tall=1, landscape=True)
    header = layout.xlsx_header_format(wb)
    formats = [wb.add_format({"num_format": f}) if f else None for f in FORMATS]
    formats += [None] * (len(header_words) - len(formats))  # the phase columns: n/N as text, a count
    ws.write_string(0, 0, title, wb.add_format({"bold": True}))
    for column, text in enumerate(header_words):
        ws.write_string(HEADER_ROW - 1, column, text, header)
    rows = branch_rows(progress, lang)
    for offset, values in enumerate(rows):
        for column, (value, cell_format) in enumerate(zip(values, formats)):
            _put(ws, HEADER_ROW + offset, column, value, cell_format)
    first, last = HEADER_ROW + 1, HEADER_ROW + max(len(rows), 1)  # 1-based, as Excel shows them
    trend_header = trend_first_row(len(rows)) - 1
    for column, text in enumerate(TREND[lang]):
        ws.write_string(trend_header - 1, column, text, header)
    percent = formats[7]
    for offset, week in enumerate(progress.weeks):
        row = trend_header + offset
        ws.write_number(row, 0, week.week)
        ws.write_number(row, 1, week.returns)
        _put(ws, row, 2, week.attendance_rate, percent)
    trend_last = trend_header + max(len(progress.weeks), 1)
    _format(wb, ws, first, last, lang)
    if with_phases(progress):  # items overdue: amber, as the notebook fixes overdue
        overdue = len(header_words) - 1
        ws.conditional_format(first - 1, overdue, last - 1, overdue, {
            "type": "cell", "criteria": "greater than", "value": 0,
            "format": wb.add_format({"bg_color": f"#{AMBER}", "pattern": 1})})
    _charts(wb, ws, first, last, trend_header, trend_last, lang)


def _format(wb, ws, first: int, last: int, lang: str) -> None:
    def span(column: int) -> tuple[int, int, int, int]:  # a 1-based column, first to last row, 0-based
        return first - 1, column - 1, last - 1, column - 1

    # Plain (Excel 2007) data bars, as before: the 2010 extension is read by openpyxl with a warning only.
    bar = {"type": "data_bar", "min_type": "num", "min_value": 0, "max_type": "max", "data_bar_2010": False}
    ws.conditional_format(*span(6), {**bar, "bar_color": "#5B9BD5"})
    for column in (8, 9):  # on-target share and attendance: red / amber / green
        ws.conditional_format(*span(column), {
            "type": "3_color_scale", "min_type": "num", "min_value": 0.5, "min_color": f"#{RED}",
            "mid_type": "num", "mid_value": 0.8, "mid_color": f"#{AMBER}",
            "max_type": "num", "max_value": 1, "max_color": f"#{GREEN}"})
    red = wb.add_format({"bg_color": f"#{RED}", "pattern": 1})
    for state in NOT_IN:
        word = state_word(state, lang)
        ws.conditional_format(*span(4), {"type": "cell", "criteria": "equal to", "value": f'"{word}"', "format": red})
    ws.conditional_format(*span(12), {"type": "cell", "criteria": "greater than", "value": 0,
                                      "format": wb.add_format({"bg_color": f"#{AMBER}", "pattern": 1})})
    ws.conditional_format(*span(14), {**bar, "bar_color": f"#{RED}"})


def _charts(wb, ws, first: int, last: int, trend_header: int, trend_last: int, lang: str) -> None:
    name = ws.name

    def ref(first_row: int, column: int, last_row: int) -> list:  # a column's rows, 1-based as Excel shows them
        return [name, first_row - 1, column - 1, last_row - 1, column - 1]

    def cell(row: int, column: int) -> list:
        return [name, row - 1, column - 1]

    hours = wb.add_chart({"type": "bar"})
    hours.set_title({"name": say(lang, "Average hours against the target to date")})
    for column in (6, 7):
        hours.add_series({"name": cell(HEADER_ROW, column), "categories": ref(first, 1, last),
                          "values": ref(first, column, last)})
    hours.set_x_axis({"name": say(lang, "hours")})  # a bar chart's x axis is its value axis
    hours.set_size({"width": _pixels(18), "height": _pixels(9 + 0.35 * (last - first))})
    ws.insert_chart(f"A{trend_last + 3}", hours)
    trend = wb.add_chart({"type": "line"})
    trend.set_title({"name": say(lang, "Returns and attendance by week")})
    weeks = ref(trend_header + 1, 1, trend_last)
    # Weekly counts are points, not a curve: no smoothing.
    trend.add_series({"name": cell(trend_header, 2), "categories": weeks, "values": ref(trend_header + 1, 2, trend_last),
                      "smooth": False})
    trend.add_series({"name": cell(trend_header, 3), "categories": weeks, "values": ref(trend_header + 1, 3, trend_last),
                      "smooth": False, "y2_axis": True})
    trend.set_y_axis({"name": say(lang, "branches")})
    trend.set_y2_axis({"name": say(lang, "attendance"), "num_format": "0%"})
    trend.set_size({"width": _pixels(18), "height": _pixels(8)})
    ws.insert_chart(f"I{trend_last + 3}", trend)


def dashboard_as_of(sheets) -> date | None:
    """The day a master's dashboard is as of (its 数据截至), read back from the title write_dashboard wrote;
    None when the master has no dashboard or its title carries no date."""
    ws = find_sheet(sheets, SHEET_NAME)
    if ws is None:
        return None
    first = next(iter(ws.iter_rows(min_row=1, values_only=True)), ())
    # The last date of the title: the campaign's name before it may hold one of its own (docs/design.md, "Campaigns").
    found = AS_OF_IN_TITLE.findall(str(first[0])) if first and first[0] is not None else []
    return date.fromisoformat(found[-1]) if found else None


def dashboard_painter(as_of: date, flags: list[Flag] | None = None, facts: Facts | None = None,
                      campaign: CampaignDefinition | None = None):
    """A painter for write_master: the dashboard as of a date, from the tables being written and
    the flags already computed for them (computed here when not given; `facts`, their index, when
    the caller has it), drawn into the XlsxWriter workbook write_master is writing; titled with the
    campaign's name (HOME's; None: the packaged campaign.yaml's)."""
    campaign = campaign or load_schemas().campaign

    def paint(wb, tables, lang):
        write_dashboard(wb, compute_progress(tables, as_of, flags=flags, facts=facts), lang,
                        campaign=campaign.title(lang))
    return paint
