"""补学: a self-study row or a session that makes up a session missed names it in 补学活动 (docs/domain.md,
"Records"): by its 活动编号 as the master lists it (B08-W02-S1, or a college-wide ALL-W02-S1), or by its number (S1, S2, …) for a
session of the return's own week. The return alone can check only the latter; the rest is checked at intake,
against the ledger's sessions (check_makeup_sessions)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from .. import ids
from ..cells import as_day, column_letter, is_blank
from ..findings import Finding
from ..return_reader import GridRead
from ..schema import ReturnLayout
from ..sheetio import SheetRead
from .values import ParsedRow

MAKES_UP = "makes_up"
PRESENT = "present"  # codes.yaml attendance_status: 出席
_THIS_WEEK = re.compile(r"S\d+", re.IGNORECASE)


def makeup_sheets(layout: ReturnLayout, tables: dict[str, SheetRead]) -> dict[str, SheetRead]:
    """The return's record sheets that have a 补学活动 column, as read."""
    return {s.key: tables[s.key] for s in layout.sheets if s.kind == "records" and MAKES_UP in s.keys}


def own_number(text: Any, of_return: str | None) -> str | None:
    """The number of a session of the return's own week that a 补学活动 cell names (S2, s2, or its full ID
    B08-W03-S2); None for another session's ID or a blank."""
    text = "" if is_blank(text) else str(text).strip()
    if of_return and text.casefold().startswith(ids.sessions_of(of_return).casefold()):
        text = text[len(ids.sessions_of(of_return)):]
    return text.upper() if _THIS_WEEK.fullmatch(text) else None


def made_up_id(text: Any, of_return: str, known: dict[str, str]) -> str | None:
    """The 活动编号 a 补学活动 cell names, as the ledger spells it (`known`: case-folded ID -> ID); None for a blank."""
    number = own_number(text, of_return)
    if number:
        return ids.session_id(of_return, number)
    return None if is_blank(text) else known.get(str(text).strip().casefold(), str(text).strip())


def _example(of_return: str | None) -> str:
    return ids.session_id(of_return or ids.return_id("B01", 1), "S1")


_WEEK_OF_SESSION = re.compile(r"(.+)-W(\d+)-S\d+", re.IGNORECASE)


def _may_make_up(text: str, of_return: str | None, earlier: dict[str, str], college: tuple[str, ...]) -> bool:
    """Another week's session named in 补学活动 is one the template lists (offered_sessions.earlier_listed), or a
    college session of this week; or a session of the branch's own in an earlier week the template lists none of: that
    week's return was merged after the template was made, and the merge, which has the ledger, decides."""
    folded = text.casefold()
    if folded in earlier or folded in {session.casefold() for session in college}:
        return True
    this_week, named = _WEEK_OF_SESSION.fullmatch(of_return + "-S1") if of_return else None, _WEEK_OF_SESSION.fullmatch(text)
    if not this_week or not named or named.group(1).casefold() != this_week.group(1).casefold() \
            or int(named.group(2)) >= int(this_week.group(2)):
        return False
    week = folded.rsplit("-", 1)[0] + "-"
    return not any(session.startswith(week) for session in earlier)


def check_makeup_numbers(reads: dict[str, SheetRead], parsed: dict[str, list[ParsedRow]], declared: set[str],
                         of_return: str | None, sessions: int, earlier: dict[str, str] | None = None,
                         college: tuple[str, ...] = ()) -> Iterator[Finding]:
    """补学活动 names a session the branch may make up, as the return knows them (validation: the return alone): a
    session of its own week its 学习活动 lists, or an earlier one its `_元数据` lists (`earlier`; None for a template
    made before that row: then only the merge can tell)."""
    example = next(iter((earlier or {}).values()), None) or _example(of_return)
    for key, read in reads.items():
        for row, record in parsed.get(key, []):
            value = record.get(MAKES_UP)
            number = own_number(value, of_return)
            if number and number not in declared or not number and not is_blank(value) and earlier is not None \
                    and not _may_make_up(str(value).strip(), of_return, earlier, college):
                yield _unknown(read, row, record, example, sessions)


def known_sessions(sessions: list[dict[str, Any]], branch_id: str) -> dict[str, str]:
    """The sessions a branch's return may name in 补学活动: its own and the whole college's, by case-folded ID."""
    return {str(s["session_id"]).casefold(): str(s["session_id"]) for s in sessions
            if s.get("session_id") and s.get("branch_id") in (branch_id, None)}


def latest_before(sessions: list[dict[str, Any]], branch_id: str, start: date) -> str | None:
    """The branch's or the college's latest session before `start`: the merge's example of one to make up."""
    earlier = [s for s in sessions if s.get("session_id") and s.get("branch_id") in (branch_id, None)
               and (day := as_day(s.get("date"))) is not None and day < start]
    return str(max(earlier, key=lambda s: (as_day(s["date"]), str(s["session_id"])))["session_id"]) if earlier else None


def check_makeup_sessions(reads: dict[str, SheetRead], parsed: dict[str, list[ParsedRow]], of_return: str,
                          known: dict[str, str], count: int, example: str | None = None) -> Iterator[Finding]:
    """Another week's session in 补学活动 is one the ledger knows (intake, which has the ledger; known_sessions);
    `example`: one the branch may make up (latest_before)."""
    for key, read in reads.items():
        for row, record in parsed.get(key, []):
            value = record.get(MAKES_UP)
            if not is_blank(value) and not own_number(value, of_return) and str(value).strip().casefold() not in known:
                yield _unknown(read, row, record, example or _example(of_return), count)


def _unknown(read: SheetRead, row: int, record: dict, example: str, sessions: int) -> Finding:
    return Finding("makeup-unknown", sheet=read.title, row=row, column=column_letter(read.columns.get(MAKES_UP, 1)),
                   value=record.get(MAKES_UP), params={"example": example, "sessions": sessions})


def who_missed(target: str, statuses: dict[tuple[str, str], str], missed: set[str],
               elsewhere: dict[str, set[str]]) -> set[str] | None:
    """Who missed the session a 补学 makes up (`target`: this week's S2, or another week's case-folded 活动编号): marked
    with a `missed` status in this grid, or as the template lists (`elsewhere`); None when the return cannot tell."""
    if _THIS_WEEK.fullmatch(target):
        marked = {(member, code) for (member, number), code in statuses.items() if number == target}
        return {member for member, code in marked if code in missed} if marked else None  # none: not held
    return elsewhere.get(target)


def check_makeup_members(grid: GridRead, statuses: dict[tuple[str, str], str], targets: dict[str, str],
                         missed: set[str], elsewhere: dict[str, set[str]], study: SheetRead,
                         study_rows: list[ParsedRow], of_return: str | None) -> Iterator[Finding]:
    """A member 出席 at a 补学 session, or with a 补学 self-study row, who did not miss the session made up: a warning
    at the cell (docs/domain.md, "Records"); the record stands."""
    for number, member, _ in grid.rows:
        for session, target in targets.items():
            who = who_missed(target, statuses, missed, elsewhere)
            if statuses.get((member, session)) == PRESENT and who is not None and member not in who:
                yield Finding("makeup-not-missed", sheet=grid.title, row=number, column_label=session,
                              column=column_letter(grid.session_columns[session]),
                              params={"member": member, "session": target.upper()})
    for row, record in study_rows:
        value, member = record.get(MAKES_UP), record.get("member_id")
        if is_blank(value) or not member:
            continue
        target = own_number(value, of_return) or str(value).strip().casefold()
        who = who_missed(target, statuses, missed, elsewhere)
        if who is not None and member not in who:
            yield Finding("makeup-not-missed", sheet=study.title, row=row,
                          column=column_letter(study.columns.get(MAKES_UP, 1)), value=value,
                          params={"member": member, "session": target.upper()})


def made_up_before(tables: dict[str, list[dict]], of_return: str) -> dict[tuple[str, str], str]:
    """(member, 活动编号) -> the return it was made up in, as the ledger has them: a 补学 self-study row, or 出席 at a
    补学 session; a return's own rows left out (a corrected return replaces them)."""
    found: dict[tuple[str, str], str] = {}
    for row in tables.get("selfstudy", []):
        where = ids.source_return(row.get("source_return"))
        if row.get("makes_up") and row.get("member_id") and where != of_return:
            found[(str(row["member_id"]), str(row["makes_up"]).casefold())] = where
    makeups = {s["session_id"]: s for s in tables.get("sessions", []) if s.get("session_id") and s.get("makes_up")}
    for row in tables.get("attendance", []):
        session = makeups.get(row.get("session_id"))
        where = ids.source_return(session.get("source_return")) if session else None
        if session and row.get("status") == PRESENT and where != of_return:
            found[(str(row["member_id"]), str(session["makes_up"]).casefold())] = where
    return found


def check_made_up_again(rows: dict[str, list[dict]], before: dict[tuple[str, str], str], grid: GridRead,
                        study: SheetRead, study_rows: list[ParsedRow]) -> Iterator[Finding]:
    """A 补学 of a session the member already made up (made_up_before): a warning at the cell; the record stands.
    `rows`: the return's rows as merged (_shape_rows: 补学活动 as full 活动编号)."""
    places = {number: member for number, member, _ in grid.rows}
    grid_rows = {member: number for number, member in places.items()}
    sessions = {s["session_id"]: s for s in rows.get("sessions", []) if s.get("makes_up")}
    for row in rows.get("attendance", []):
        session = sessions.get(row["session_id"])
        if session is None or row.get("status") != PRESENT:
            continue
        key = (str(row["member_id"]), str(session["makes_up"]).casefold())
        number = session["session_id"].rsplit("-", 1)[-1]
        if key in before and row["member_id"] in grid_rows and number in grid.session_columns:
            yield Finding("makeup-again", sheet=grid.title, row=grid_rows[row["member_id"]], column_label=number,
                          column=column_letter(grid.session_columns[number]),
                          params={"member": row["member_id"], "session": session["makes_up"], "where": before[key]})
    for (number, record), merged in zip(study_rows, rows.get("selfstudy", [])):
        key = (str(merged.get("member_id")), str(merged.get(MAKES_UP) or "").casefold())
        if merged.get(MAKES_UP) and key in before:
            yield Finding("makeup-again", sheet=study.title, row=number,
                          column=column_letter(study.columns.get(MAKES_UP, 1)), value=record.get(MAKES_UP),
                          params={"member": key[0], "session": merged[MAKES_UP], "where": before[key]})
