"""Fill returns as the demo college's secretaries would: mostly right, some members behind,
a few honest mistakes. Writes through openpyxl, as a secretary's Excel would save them."""
from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook

from ..workbook.cells import as_day, put
from ..workbook.i18n import N_, Domain
from ..workbook.offered_sessions import college_listed
from ..workbook.return_template import GRID_FIRST_COLUMN
from ..workbook.schema import Schemas, load_schemas
from .college import MEETING_ROOM, PHASES, READER

say = Domain("demo")


@dataclass(frozen=True)
class Secretary:
    """How one branch's secretary fills the week: diligence and the mistakes she makes."""

    diligence: float = 0.9  # chance a member studies on his own this week
    mistakes: tuple[str, ...] = ()  # bad-status | date-outside-week | too-many-hours
    summary: str = N_("One centralised study and one organisation-life meeting this week; members wrote up their "
                      "thoughts on the questions.")  # her 本周概况 (a message: the demo speaks its HOME's language)
    problems: str = N_("A few members studied little on their own: their lab work is heavy.")  # her 存在问题
    # Phases 2 and 3 (docs/domain.md, "Phases 2 and 3"): the share of members whose self-analysis becomes final, who
    # are talked with, and of 整改 items done by their deadline; a branch behind has less than all.
    absent_share: float = 0.07  # of members at a session, absent without leave (another 8 % excused)
    analyses_final: float = 1.0
    talks_done: float = 1.0
    items_done: float = 1.0


def _meta(wb, schemas: Schemas, lang: str) -> dict:
    ws = wb[schemas.returns.sheet("meta").name(lang)]
    return {row[0]: row[1] for row in ws.iter_rows(values_only=True)}


def fill_return(path: Path, secretary: Secretary, seed: int, lang: str = "zh", schemas: Schemas | None = None,
                rechecks: tuple[str, ...] = ()) -> list[str]:
    """Fill the return file, as fill_workbook does."""
    wb = load_workbook(path)
    ordered = fill_workbook(wb, secretary, seed, lang, schemas, rechecks)
    wb.save(path)
    return ordered


def fill_workbook(wb, secretary: Secretary, seed: int, lang: str = "zh", schemas: Schemas | None = None,
                  rechecks: tuple[str, ...] = ()) -> list[str]:
    """Fill the return; `rechecks`: members whose notebook was ordered to improve, re-checked (and passed) this
    week. Returns the members whose notebook is ordered to improve this week."""
    schemas = schemas or load_schemas()
    rng = random.Random(seed)
    meta = _meta(wb, schemas, lang)
    start = as_day(meta["week_start"])
    phase = meta.get("phase") or 1
    # The sheets it fills: its phase's own. The demo's branches report on time, so a sheet kept in a later phase's
    # return for catching up (schemas/returns.yaml `phases`) stays blank; opinions are asked for the analyses, up to
    # the analysis phase (rules.yaml), and in the rectification phase through 整改公示 instead.
    sheet = {s.key: wb[s.name(lang)] for s in schemas.returns.sheets if s.name(lang) in wb.sheetnames
             and (not s.phases or phase == min(s.phases))
             and (s.key != "opinions" or phase <= schemas.rules.thresholds.analysis_phase)}
    members = [row[0] for row in sheet["roster"].iter_rows(min_row=2, values_only=True) if row[0]]
    codes = schemas.codes
    sessions = [
        ("S1", start + timedelta(days=2), "central", say(lang, "Studying the 16th Congress report, sharing what we learnt"), 3),
        ("S2", start + timedelta(days=4), "orglife", say(lang, "Organisation-life meeting: party-spirit analysis against the 8 "
                                                               "thinking questions"), 2),
    ]
    if phase > 1:  # the later phases' own sessions (docs/domain.md, "Phases 2 and 3")
        sessions = [(number, day, *PHASE_SESSIONS[phase][index]) for index, (number, day, *_) in enumerate(sessions)]
        sessions = [(number, day, kind, say(lang, topic), hours) for number, day, kind, topic, hours in sessions]
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
            status = "present" if roll < 0.92 - secretary.absent_share else ("excused" if roll < 1 - secretary.absent_share
                                                                           else "absent")
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
    ordered = []
    checked = rng.sample(members, k=min(5, len(members)))
    if phase > 1:  # the 督查小组 checks every notebook in each phase: half the roster a week, in turn
        checked = [member for index, member in enumerate(members) if index % 2 == (start.toordinal() // 7) % 2]
    for row, member in enumerate(checked, start=2):
        questions = rng.choice((8, 8, 8, 6) if phase == 1 else (8,) * 11 + (6,))  # most have caught up
        result = "pass" if questions == 8 else "fix"
        values = (member, start + timedelta(days=5), say(lang, "Supervision group"), questions,
                  codes["inspection_result"].label(result, lang),
                  start + timedelta(days=14) if result == "fix" else None)
        if result == "fix":
            ordered.append(member)
        for column, value in enumerate(values, 1):
            put(sheet["inspections"].cell(row=row, column=column), value)
    for row, member in enumerate(rechecks, start=len(checked) + 2):  # a new row, dated the day of the re-check
        values = (member, start + timedelta(days=3), say(lang, "Supervision group"), 8,
                  codes["inspection_result"].label("pass", lang))
        for column, value in enumerate(values, 1):
            put(sheet["inspections"].cell(row=row, column=column), value)
    for row, member in enumerate(members if "opinions" in sheet else (), start=2):
        values = (member, start + timedelta(days=3), rng.choice((2, 3, 3, 4, 5)), say(lang, "A forum and talks one to one"))
        for column, value in enumerate(values, 1):
            put(sheet["opinions"].cell(row=row, column=column), value)
    if phase > 1:
        _phase_records(sheet, secretary, meta, names, lang, schemas)
    sheet["summary"].cell(row=1, column=2, value=say(lang, secretary.summary))
    sheet["summary"].cell(row=2, column=2, value=say(lang, secretary.problems))
    return ordered


PHASE_SESSIONS = {  # (kind, topic, hours) of S1 and S2 in a week of phase 2 or 3
    2: [("central", N_("Studying the standards of a Party member, preparing the self-analysis"), 3),
        ("special_orglife", N_("Special organisation-life meeting: criticism and self-criticism on the analyses"), 3)],
    3: [("central", N_("Studying the rectification plan"), 2),
        ("orglife", N_("Organisation-life meeting: progress of the rectification items"), 2)],
}


def _lucky(member: str, why: str, share: float) -> bool:
    """Whether a member is among the `share` who do a thing: the same answer every week (a stable hash)."""
    return zlib.crc32(f"{member}/{why}".encode()) % 1000 < share * 1000


def _rows(ws, schemas: Schemas, key: str, lang: str, records: list[dict]) -> None:
    """Type records by field key under the sheet's headers."""
    columns = {cell.value: cell.column for cell in ws[1] if cell.value}
    fields = {field.key: field for field in schemas.returns.sheet(key).fields}
    for row, record in enumerate(records, start=2):
        for key_, value in record.items():
            field = fields[key_]
            if value is not None and field.codes is not None:
                value = field.codes.label(value, lang)
            put(ws.cell(row=row, column=columns[field.label(lang)]), value)


def _phase_records(sheet: dict, secretary: Secretary, meta: dict, names: list[str], lang: str,
                   schemas: Schemas) -> None:
    """The week's records of phases 2 and 3 as a branch keeps them, step by step over the phase's weeks: a
    material written, reviewed, returned or final; talks; the appraisal; 整改 items listed, then reported again."""
    start = as_day(meta["week_start"])
    phase_start = PHASES[int(meta["phase"]) - 1]["start"]
    step = (start - phase_start).days // 7  # the week's place in its phase: 0 the first
    members = [row[0] for row in sheet["roster"].iter_rows(min_row=2, values_only=True) if row[0]]
    standing = [cell.value for cell in sheet["roster"][1]].index(schemas.sheet("members").field("standing").label(lang))
    probationary = {row[0] for row in sheet["roster"].iter_rows(min_row=2, values_only=True)
                    if schemas.codes["member_standing"].parse(row[standing]) == "probationary"}
    chair = names[0] if names else None

    def day(n: int) -> date:
        return start + timedelta(days=n)

    final = [m for m in members if _lucky(m, "final", secretary.analyses_final)]
    if "analyses" in sheet:
        stages = {0: [(m, "written", None) for m in members],
                  1: [(m, "reviewed", chair) for m in members],
                  2: [(m, "returned" if m not in final else "final", chair) for m in members],
                  3: [(m, "final", chair) for m in members if m not in final and _lucky(m, "late", 0.5)]}.get(step, [])
        _rows(sheet["analyses"], schemas, "analyses", lang,
              [{"member_id": m, "date": day(1 + i % 4), "stage": stage, "reviewer": who} for i, (m, stage, who)
               in enumerate(stages)])
    if "talks" in sheet and step in (0, 1):
        talked = [m for i, m in enumerate(members) if i % 2 == step and _lucky(m, "talk", secretary.talks_done)]
        _rows(sheet["talks"], schemas, "talks", lang,
              [{"member_id": m, "date": day(2 + i % 3), "partner": chair, "kind": "committee"}
               for i, m in enumerate(talked)])
    if "appraisals" in sheet and step == 3:
        voters = len(members)
        records = []
        for m in members:
            good = voters - zlib.crc32(m.encode()) % 4
            grade = None if m in probationary else ("excellent" if _lucky(m, "excellent", 0.2) else "qualified")
            records.append({"member_id": m, "date": day(3), "votes_excellent": good // 3,
                            "votes_qualified": good - good // 3, "votes_basic": voters - good, "votes_unqualified": 0,
                            "grade": grade})
        _rows(sheet["appraisals"], schemas, "appraisals", lang, records)
    if "rectification" in sheet and step in (0, 1):
        listed = [m for m in members if _lucky(m, "item", 0.15)][:5]
        items = [("Z00", "branch", None)] + [(f"Z{n:02d}", "member", m) for n, m in enumerate(listed, start=1)]
        records = []
        for item_no, level, member in items:
            done = step == 1 and _lucky(item_no + str(members[0]), "done", secretary.items_done)
            records.append({"item_no": item_no, "date": day(1 if step == 0 else 4), "level": level,
                            "member_id": member,
                            "problem": say(lang, "Study not systematic") if member else say(lang, "Organisation life not regular"),
                            "measure": say(lang, "A study plan of one's own") if member else say(lang, "A meeting every month"),
                            "owner": chair, "deadline": phase_start + timedelta(days=10),
                            "status": "done" if done else ("in_progress" if step == 1 else "planned"),
                            "recheck": "pass" if done else None})
        _rows(sheet["rectification"], schemas, "rectification", lang, records)
    if "publicity" in sheet and step in (0, 1):
        asked = 3 * len(members)
        record = {"date": day(4), "kind": "notice", "how": say(lang, "The college notice board")} if step == 0 else {
            "date": day(4), "kind": "satisfaction", "how": say(lang, "Questionnaire"), "respondents": asked,
            "satisfied": asked * 7 // 10, "fairly": asked // 4, "dissatisfied": asked - asked * 7 // 10 - asked // 4}
        _rows(sheet["publicity"], schemas, "publicity", lang, [record])
