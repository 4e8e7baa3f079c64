"""Fill returns as the demo college's secretaries would: mostly right, some members behind,
a few honest mistakes. Writes through openpyxl, as a secretary's Excel would save them."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook

from ..workbook.cells import put
from ..workbook.i18n import N_, Domain
from ..workbook.offered_sessions import college_listed
from ..workbook.return_template import GRID_FIRST_COLUMN
from ..workbook.schema import Schemas, load_schemas
from .college import MEETING_ROOM, READER

say = Domain("demo")


@dataclass(frozen=True)
class Secretary:
    """How one branch's secretary fills the week: diligence and the mistakes she makes."""

    diligence: float = 0.9  # chance a member studies on his own this week
    mistakes: tuple[str, ...] = ()  # bad-status | date-outside-week | too-many-hours
    summary: str = N_("One centralised study and one organisation-life meeting this week; members wrote up their "
                      "thoughts on the questions.")  # her 本周概况 (a message: the demo speaks its HOME's language)
    problems: str = N_("A few members studied little on their own: their lab work is heavy.")  # her 存在问题


def _meta(wb, schemas: Schemas, lang: str) -> dict:
    ws = wb[schemas.returns.sheet("meta").name(lang)]
    return {row[0]: row[1] for row in ws.iter_rows(values_only=True)}


def fill_return(path: Path, secretary: Secretary, seed: int, lang: str = "zh", schemas: Schemas | None = None) -> None:
    schemas = schemas or load_schemas()
    rng = random.Random(seed)
    wb = load_workbook(path)
    meta = _meta(wb, schemas, lang)
    start = meta["week_start"].date()
    sheet = {s.key: wb[s.name(lang)] for s in schemas.returns.sheets if s.name(lang) in wb.sheetnames}  # its phase's
    members = [row[0] for row in sheet["roster"].iter_rows(min_row=2, values_only=True) if row[0]]
    codes = schemas.codes
    sessions = [
        ("S1", start + timedelta(days=2), "central", say(lang, "Studying the 16th Congress report, sharing what we learnt"), 3),
        ("S2", start + timedelta(days=4), "orglife", say(lang, "Organisation-life meeting: party-spirit analysis against the 8 "
                                                               "thinking questions"), 2),
    ]
    names = [row[1] for row in sheet["roster"].iter_rows(min_row=2, values_only=True) if row[0]]
    chair, recorder = (names[0], names[-1]) if names else (None, None)  # two of the branch's members
    as_kept = [  # what the 记录本 says besides (a template made before these columns lacks them: left out)
        {"place": say(lang, MEETING_ROOM), "chair": chair, "speaker": chair, "recorder": recorder},
        {"place": say(lang, MEETING_ROOM), "chair": chair, "recorder": recorder,
         "attendees": say(lang, "The committee member who liaises the branch"),
         "discussion": say(lang, "Each member spoke on the thinking questions; the branch committee listed the "
                                 "problems raised for the rectification phase.")},
    ]
    columns = {cell.value: cell.column for cell in sheet["sessions"][1] if cell.value}
    college = college_listed(meta)  # the college's sessions, listed first: hers go below them
    first = 2 + len(college)
    for row, ((number, day, kind, topic, hours), kept) in enumerate(zip(sessions, as_kept), start=first):
        if "date-outside-week" in secretary.mistakes and row == first + 1:
            day = start + timedelta(days=10)
        for column, value in enumerate((number, day, codes["session_kind"].label(kind, lang), topic, hours), 1):
            put(sheet["sessions"].cell(row=row, column=column), value)
        for key, value in kept.items():
            column = columns.get(schemas.sheet("sessions").field(key).label(lang))
            if column:
                put(sheet["sessions"].cell(row=row, column=column), value)
    grid = sheet["attendance"]
    headers = [cell.value for cell in grid[1]]
    marked = [GRID_FIRST_COLUMN + offset for offset in range(len(sessions))]
    marked += [headers.index(session) + 1 for session in college if session in headers]
    for row in range(2, len(members) + 2):
        for column in marked:
            roll = rng.random()
            status = "present" if roll < 0.85 else ("excused" if roll < 0.93 else "absent")
            cell = grid.cell(row=row, column=column)
            if cell.value is None:  # a member away is pre-filled 请假(在外); she leaves that as it is
                cell.value = codes["attendance_status"].label(status, lang)
    if "bad-status" in secretary.mistakes:
        grid.cell(row=3, column=GRID_FIRST_COLUMN, value=say(lang, "Presnet"))  # a typo of 出席 / Present
    study_row = 2
    for member in members:
        if rng.random() < secretary.diligence:
            hours = 30 if "too-many-hours" in secretary.mistakes and study_row == 4 else rng.choice((2, 3, 4, 5))
            values = (member, start + timedelta(days=rng.randrange(7)), hours, say(lang, READER))
            for column, value in enumerate(values, 1):
                put(sheet["selfstudy"].cell(row=study_row, column=column), value)
            study_row += 1
    for row, member in enumerate(rng.sample(members, k=min(5, len(members))), start=2):
        questions = rng.choice((8, 8, 8, 6))
        result = "pass" if questions == 8 else "fix"
        values = (member, start + timedelta(days=5), say(lang, "Supervision group"), questions,
                  codes["inspection_result"].label(result, lang),
                  start + timedelta(days=14) if result == "fix" else None)
        for column, value in enumerate(values, 1):
            put(sheet["inspections"].cell(row=row, column=column), value)
    for row, member in enumerate(members if "opinions" in sheet else (), start=2):  # not in phase 3's return
        values = (member, start + timedelta(days=3), rng.choice((2, 3, 3, 4, 5)), say(lang, "A forum and talks one to one"))
        for column, value in enumerate(values, 1):
            put(sheet["opinions"].cell(row=row, column=column), value)
    sheet["summary"].cell(row=1, column=2, value=say(lang, secretary.summary))
    sheet["summary"].cell(row=2, column=2, value=say(lang, secretary.problems))
    wb.save(path)
