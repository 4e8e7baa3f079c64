"""The university's workbook (汇总表) from a roll-up (workbook/rollup.py): a row per college and per branch, the
returns of each week, a dashboard drawn by the colleges' own dashboard code (a row per college), where each
college's figures come from, and the masters that could not be rolled up.

A college's row adds up its branches as the college's bulletin does (bulletin.college_figures: hours over the
branches measured to the report week's end, weighted by members); attendance adds up the counts."""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import xlsxwriter

from .. import layout, print_setup
from ..flags import LEVEL_WORDS, LEVELS, day_words
from ..i18n import N_, Domain
from ..master import WORKBOOK_OPTIONS
from ..rollup import AS_OF_SOURCES, College, RollUp
from .bulletin import college_figures
from .dashboard import FORMATS, Worded, _put, write_dashboard
from .progress import BranchProgress, Progress, WeekProgress, rate

say = Domain("reports")

SHEETS = Worded(N_("Colleges"), N_("Branches"), N_("Returns by week"), N_("Sources"), N_("Not rolled up"))
COLLEGE_COLUMNS = Worded(N_("College"), N_("Number of branches"), N_("Members"), N_("Data up to"), N_("Week"),
                         N_("Returns this week"), N_("Returns expected"), N_("Avg hours"), N_("Target to date"),
                         N_("On target"), N_("Attendance"))
BRANCH_COLUMNS = Worded(N_("College"), N_("Branch ID"), N_("Branch"), N_("Members"), N_("Return this week"),
                        N_("Returns (weeks)"), N_("Returns expected"), N_("Avg hours"), N_("Target to date"),
                        N_("On target"), N_("Attendance"))
WEEK_COLUMNS = Worded(N_("College"), N_("Week"), N_("Returns received"), N_("Returns expected"), N_("Attendance"))
SOURCE_COLUMNS = Worded(N_("College"), N_("File"), N_("Data up to"), N_("Data up to, from"), N_("SHA-256"),
                        N_("Last modified"), N_("Saved (as recorded in the file, UTC)"))
PROBLEM_COLUMNS = Worded(N_("File"), N_("What is wrong"))
say_flags = Domain("flags")  # the levels' words are the flags' own


def flag_columns(lang: str) -> list[str]:
    """提示, 督促, 重点督办 (the least pressing first), then all the open flags."""
    return [*(say_flags(lang, LEVEL_WORDS[level]) for level in reversed(LEVELS)), say(lang, "Flags")]


class CollegeReturns:
    """A college's returns this week, as the dashboard's return column shows them: received of expected."""

    def __init__(self, received: int, expected: int):
        self.received, self.expected = received, expected

    def word(self, lang: str) -> str:
        return say(lang, "{received} of {expected}", received=self.received, expected=self.expected)


def college_row(college: College) -> BranchProgress:
    """The college as one row of the dashboard: its branches added up."""
    progress = college.progress
    branches = progress.branches
    figures = college_figures(progress)
    complete = progress.complete()
    measured = sum(b.measured for b in complete)
    present, absent = sum(b.present for b in branches), sum(b.absent for b in branches)
    return BranchProgress(
        branch_id=college.name, name=college.name, liaison="", secretary="", members=sum(b.members for b in branches),
        return_state=CollegeReturns(len(branches) - len(progress.missing), len(branches)),  # type: ignore[arg-type]
        returns_total=sum(b.returns_total for b in branches), average_hours=figures["hours"],
        expected_hours=figures["due"], on_target_share=sum(b.on_target for b in complete) / measured if measured else None,
        attendance_rate=rate(present, absent), inspected=sum(b.inspected for b in branches),
        passed=sum(b.passed for b in branches), overdue=sum(b.overdue for b in branches),
        opinions=sum(b.opinions for b in branches), flags=sum(college.levels.values()),
        on_target=sum(b.on_target for b in complete), measured=measured,
        measured_to=progress.week_end if complete else None, present=present, absent=absent,
        phases=progress.phases)  # its branches' phase-2/3 figures with the college committee's own items


def university_progress(colleges: list[College]) -> Progress:
    """The colleges as the rows of one Progress, as of the latest college's day; weeks added up."""
    latest = max(colleges, key=lambda c: c.as_of).progress
    weeks: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for college in colleges:
        for week in college.progress.weeks:
            weeks[week.week][0] += week.returns
            weeks[week.week][1] += week.present
            weeks[week.week][2] += week.absent
    phases = [c.progress.phases for c in colleges if c.progress.phases is not None]
    return Progress(latest.as_of, latest.week, latest.week_start, latest.week_end,
                    [college_row(c) for c in colleges],
                    [WeekProgress(n, r, rate(p, a), p, a) for n, (r, p, a) in sorted(weeks.items())],
                    phases=sum(phases[1:], phases[0]) if phases else None)


def _levels(counter) -> list[int]:
    ordered = [counter.get(level, 0) for level in reversed(LEVELS)]
    return [*ordered, sum(ordered)]


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def college_rows(colleges: list[College], lang: str) -> list[list]:
    rows = []
    for college in colleges:
        row = college_row(college)
        known = row.measured_to is not None
        rows.append([college.name, len(college.progress.branches), row.members, day_words(lang, college.as_of),
                     college.progress.week, row.return_state.received, row.return_state.expected,
                     round(row.average_hours, 1) if known else None, round(row.expected_hours, 1) if known else None,
                     _share(row.on_target_share), _share(row.attendance_rate), *_levels(college.levels)])
    return rows


def branch_rows(colleges: list[College], lang: str) -> list[list]:
    rows = []
    for college in colleges:
        progress = college.progress
        for b in progress.branches:
            known = b.measured_to is not None
            rows.append([college.name, b.branch_id, b.name, b.members, b.return_state.word(lang), b.returns_total,
                         progress.week, round(b.average_hours, 1) if known else None,
                         round(b.expected_hours, 1) if known else None, _share(b.on_target_share),
                         _share(b.attendance_rate), *_levels(college.branch_levels.get(b.branch_id, {}))])
    return rows


def week_rows(colleges: list[College]) -> list[list]:
    return [[c.name, w.week, w.returns, c.returns_expected(), _share(w.attendance_rate)]
            for c in colleges for w in c.progress.weeks]


def source_rows(colleges: list[College], lang: str) -> list[list]:
    return [[c.name, str(c.master), c.as_of.isoformat(), say(lang, AS_OF_SOURCES[c.as_of_source]), c.sha256,
             c.modified.isoformat(sep=" "), c.saved.isoformat(sep=" ") if c.saved else "—"] for c in colleges]


def _table(wb, name: str, header: list[str], rows: list[list], lang: str, formats: dict[int, object]) -> None:
    ws = wb.add_worksheet(name)
    widths = [min(max([layout.display_width(h) + 2, *(layout.display_width(r[i]) + 2 for r in rows[:200]
                                                      if isinstance(r[i], str))]), 60) for i, h in enumerate(header)]
    for column, width in enumerate(widths):
        ws.set_column(column, column, width)
    head = layout.xlsx_header_format(wb)
    for column, text in enumerate(header):
        ws.write_string(0, column, text, head)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            _put(ws, number, column, value, formats.get(column))
    ws.freeze_panes(1, 1)
    if rows:
        ws.autofilter(0, 0, len(rows), len(header) - 1)
    print_setup.apply_xlsxwriter(ws, widths, lang)


def write_university(path: Path, result: RollUp, lang: str = "zh") -> None:
    """The university workbook at `path`, written to a temp file beside it and moved in place when whole
    (docs/hazards.md 6)."""
    path = Path(path)
    temp = path.with_name(f".{path.stem}.writing{path.suffix}")
    wb = xlsxwriter.Workbook(str(temp), {**WORKBOOK_OPTIONS, "in_memory": True})
    try:
        hours, share = wb.add_format({"num_format": FORMATS[5]}), wb.add_format({"num_format": FORMATS[7]})
        names, flag_words = SHEETS[lang], flag_columns(lang)
        if result.colleges:
            write_dashboard(wb, university_progress(result.colleges), lang, unit=say(lang, "College"))
        _table(wb, names[0], [*COLLEGE_COLUMNS[lang], *flag_words], college_rows(result.colleges, lang), lang,
               {7: hours, 8: hours, 9: share, 10: share})
        _table(wb, names[1], [*BRANCH_COLUMNS[lang], *flag_words], branch_rows(result.colleges, lang), lang,
               {7: hours, 8: hours, 9: share, 10: share})
        _table(wb, names[2], list(WEEK_COLUMNS[lang]), week_rows(result.colleges), lang, {4: share})
        _table(wb, names[3], list(SOURCE_COLUMNS[lang]), source_rows(result.colleges, lang), lang, {})
        _table(wb, names[4], list(PROBLEM_COLUMNS[lang]),
               [[str(p.source), p.message(lang)] for p in result.problems], lang, {})
        wb.close()
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)

