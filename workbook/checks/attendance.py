"""The attendance grid against the sessions declared, and hours that cannot add up."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from itertools import compress
from typing import Any

from ..cells import BadValue, column_letter, is_blank, parse
from ..findings import Finding
from ..i18n import LANGS, Domain, Named
from ..membership import group_form
from ..return_reader import GridRead
from ..schema import Field
from ..sheetio import SheetRead
from .makeup import MAKES_UP, own_number
from .values import ParsedColumns, ParsedRow, value_finding

say = Domain("checks")

MAX_HOURS_A_DAY = 12
AWAY = "away"  # codes.yaml attendance_status: 请假(在外), pre-filled for a member away on training


def _roster_groups(roster: list[dict[str, Any]]) -> dict[str, tuple[str, set[str]]]:
    """Each 党小组 of the roster, as compared (group_form): its name as written and its members, in the roster's
    order (第一, 第二, …), not the characters' codes."""
    groups: dict[str, tuple[str, set[str]]] = {}
    for member in roster:
        form = group_form(member.get("party_group"))
        if form:
            groups.setdefault(form, (str(member["party_group"]).strip(), set()))[1].add(member.get("member_id"))
    return groups


def session_groups(sessions: list[ParsedRow], roster: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The members expected at each 党小组 session, by session number (docs/domain.md, "Records": only its group's
    members); a session of the whole branch is not listed."""
    groups = _roster_groups(roster)
    return {record["session_no"]: groups.get(group_form(record["party_group"]), ("", set()))[1]
            for _, record in sessions if record.get("session_no") and group_form(record.get("party_group"))}


def makeup_targets(sessions: list[ParsedRow], of_return: str | None) -> dict[str, str]:
    """Each 补学 session of the return (its 补学活动 filled) by number: the session it makes up, as a number of this
    week (S2) or another week's 活动编号 as typed (checks/makeup.py own_number)."""
    targets = {}
    for _, record in sessions:
        made_up = record.get(MAKES_UP)
        if record.get("session_no") and not is_blank(made_up):
            targets[record["session_no"]] = own_number(made_up, of_return) or str(made_up).strip().casefold()
    return targets


def expected_members(groups: dict[str, set[str]], targets: dict[str, str], statuses: dict[tuple[str, str], str],
                     missed: set[str], elsewhere: dict[str, set[str]]) -> dict[str, set[str]]:
    """The members expected at each session that does not expect the whole branch: a 党小组 session its group's
    (session_groups); a 补学 session those who missed the session it makes up, marked with a `missed` status
    (缺席, 请假) in this grid for a session of this week, or listed in `elsewhere` (by case-folded 活动编号) for another
    week's; a 补学 of another week's session not listed there expects everyone (docs/domain.md, "Records")."""
    expected = dict(groups)
    for session, target in targets.items():
        if elsewhere.get(target):  # one nobody missed expects everyone, as the 填报检查 does (live_checks.py)
            who = elsewhere[target]
        elif not target.startswith("S") or not target[1:].isdigit():
            continue
        else:
            who = {member for (member, number), code in statuses.items() if number == target and code in missed}
        expected[session] = expected[session] & who if session in expected else who
    return expected


def check_session_columns(read: SheetRead, sessions: list[ParsedRow], grid: GridRead, label: str) -> Iterator[Finding]:
    """A session numbered beyond the attendance grid (S9 in a grid of S1–S8, typed where the drop-down would refuse
    it) has nowhere for its attendance: an error, or it would be merged with nobody at it (docs/domain.md, "Records")."""
    numbers = [int(s[1:]) for s in grid.session_columns if s[1:].isdigit()]
    if not numbers:
        return  # a grid not read is reported as such
    last = max(numbers)
    for row, record in sessions:
        number = record.get("session_no")
        if number and number[1:].isdigit() and number not in grid.session_columns:
            wanted = max(int(r["session_no"][1:]) for _, r in sessions
                         if r.get("session_no") and r["session_no"][1:].isdigit())
            yield Finding("session-no-column", sheet=read.title, row=row,
                          column=column_letter(read.columns.get("session_no", 1)), column_label=label, value=number,
                          params={"session": number, "last": last, "wanted": wanted})


def check_session_groups(read: SheetRead, sessions: list[ParsedRow], roster: list[dict[str, Any]],
                         label: str) -> Iterator[Finding]:
    """A session's 党小组 is the group of some member on the roster: else nobody would be expected at it."""
    known = _roster_groups(roster)
    listed = [name for name, _ in known.values()] or say.later("(the Roster names no party group)")
    for row, record in sessions:
        group = group_form(record.get("party_group"))
        if group and group not in known:
            yield Finding("unknown-party-group", sheet=read.title, row=row,
                          column=column_letter(read.columns.get("party_group", 1)), column_label=label,
                          value=record["party_group"], params={"groups": listed})


def check_grid(grid: GridRead, status: Field, declared: set[str], lang: str,
               expected: Callable[[dict[tuple[str, str], str]], dict[str, set[str]]] | None = None
               ) -> tuple[dict, list[Finding]]:
    """Parse the grid; returns {(member, S): code} and the findings. `expected`: from the statuses, the members
    expected at each session that does not expect everyone (expected_members); a blank for anyone else there is
    no warning."""
    statuses: dict[tuple[str, str], str] = {}
    findings: list[Finding] = []
    used: dict[str, int] = {}
    for number, member, cells in grid.rows:
        for session, raw in cells.items():
            column = grid.session_columns[session]
            if is_blank(raw):
                continue
            try:
                statuses[(member, session)] = parse(status, raw)
                if statuses[(member, session)] == AWAY:
                    continue  # pre-filled in every column for a member away: says nothing of sessions not held
            except BadValue:
                finding = value_finding("enum", grid.title, number, column, status, raw, lang)
                finding.column_label = session
                findings.append(finding)
            used.setdefault(session, number)
    for session, first_row in sorted(used.items()):
        if session not in declared:
            findings.append(Finding("unknown-session", sheet=grid.title, row=first_row,
                                    column=column_letter(grid.session_columns[session]),
                                    params={"session": session}))
    choices = Named({lang: "/".join(status.codes.labels(lang)) for lang in LANGS}) if status.codes else ""
    expected_at = expected(statuses) if expected else {}
    marked = []
    for session in sorted(declared, key=lambda s: grid.session_columns.get(s, 0)):
        if session not in grid.session_columns:
            continue
        if grid.rows and session not in used:
            # A session held with nobody marked would drop out of every member's attendance: an error, one
            # for the column; a few blanks in a marked column stay a warning each (docs/domain.md, "What a return must say").
            findings.append(Finding("session-unmarked", sheet=grid.title, row=grid.rows[0][0], last_row=grid.rows[-1][0],
                                    column=column_letter(grid.session_columns[session]), column_label=session,
                                    params={"session": session, "choices": choices}))
        else:
            marked.append(session)
    for number, member, cells in grid.rows:
        blank = [session for session in marked if is_blank(cells.get(session))
                 and (session not in expected_at or member in expected_at[session])]
        for run in _adjacent(blank, grid.session_columns):
            # A member left blank across several sessions is one note for the row (S1–S3), not one a session.
            label = run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}"
            findings.append(Finding("status-blank", sheet=grid.title, row=number,
                                    column=column_letter(grid.session_columns[run[0]]),
                                    last_column=column_letter(grid.session_columns[run[-1]]) if len(run) > 1 else None,
                                    column_label=label, params={"session": label, "choices": choices}))
    return statuses, findings


def _adjacent(sessions: list[str], columns: dict[str, int]) -> list[list[str]]:
    """The sessions (in column order) split into runs of side-by-side columns."""
    runs: list[list[str]] = []
    for session in sessions:
        if runs and columns[session] == columns[runs[-1][-1]] + 1:
            runs[-1].append(session)
        else:
            runs.append([session])
    return runs


def check_daily_hours(sessions: list[ParsedRow], statuses: dict[tuple[str, str], str], study: SheetRead,
                      study_rows: list[ParsedRow], lang: str) -> Iterator[Finding]:
    """A member's sessions attended plus self-study on one day cannot pass 12 hours."""
    by_number = {r["session_no"]: r for _, r in sessions if r.get("session_no") and r.get("date")}
    totals: dict[tuple[str, Any], float] = defaultdict(float)
    for (member, number), code in statuses.items():
        session = by_number.get(number)
        if code == "present" and session and session.get("hours"):
            totals[(member, session["date"])] += session["hours"]
    for row, record in study_rows:
        key = (record.get("member_id"), record.get("date"))
        if None in key or not record.get("hours") or record["hours"] > MAX_HOURS_A_DAY:  # range reports those
            continue
        totals[key] += record["hours"]
        if totals[key] > MAX_HOURS_A_DAY:
            yield Finding("hours-total", sheet=study.title, row=row,
                          column=column_letter(study.columns.get("hours", 1)), value=record["hours"],
                          params={"detail": say.later("{member} has {hours} hours on {day}, over {limit} a day: correct the hours or the date.",
                                                      member=key[0], day=key[1], hours=f"{totals[key]:g}",
                                                      limit=MAX_HOURS_A_DAY)})


def check_credited_hours(attendance: SheetRead, rows: list[ParsedRow], session_hours: dict[str, float],
                         label: str) -> Iterator[Finding]:
    """Master: hours credited for a session cannot exceed the session's own hours."""
    if "hours" not in attendance.columns:
        return
    if isinstance(rows, ParsedColumns):
        sessions = rows.columns.get("session_id") or [None] * len(rows)
        pairs = zip(rows.numbers, sessions, rows.columns["hours"])
        credited_values = rows.values_of("hours") - {None}
        if len(credited_values) <= 100:  # only the rows of sessions some credited hours exceed can be wrong
            over = {session for session, limit in session_hours.items()
                    if any(credited > limit for credited in credited_values)}
            if not over:
                return
            pairs = compress(pairs, map(over.__contains__, sessions))
    else:
        pairs = ((row, record.get("session_id"), record.get("hours")) for row, record in rows)
    for row, session, credited in pairs:
        limit = session_hours.get(session)
        if limit is not None and credited is not None and credited > limit:
            yield Finding("hours-total", sheet=attendance.title, row=row,
                          column=column_letter(attendance.columns["hours"]), column_label=label, value=credited,
                          params={"detail": say.later("{credited} hours credited, more than the session's {limit}: credit {limit} at most.",
                                                      credited=f"{credited:g}", limit=f"{limit:g}")})
