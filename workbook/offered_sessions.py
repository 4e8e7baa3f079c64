"""What a week's return is given of the ledger's sessions besides its roster (docs/domain.md, "Records"): the
college's sessions of the week (entered once by the office, listed in every branch's return for its attendance), and
who missed each earlier session the branch may make up (a 补学 session expects only them). Both are named in the
return's `_元数据`, so that validation, anywhere, knows them without the ledger."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from .cells import as_day, is_blank

MISSED_FIELD, COLLEGE_FIELD = "missed", "college"  # the `_元数据` rows (schemas/returns.yaml)
_SESSIONS, _ID_AND_MEMBERS, _MEMBERS = ";", ":", " "
CELL_LIMIT = 32_000  # a cell holds 32,767 characters; the latest sessions are kept when there are more


def missed_by_session(attendance: Iterable[dict[str, Any]], missed: set[str]) -> dict[str, list[str]]:
    """Each session's members marked with a `missed` status (缺席, 请假), in the ledger's order: indexed once for
    every branch's return (a university has 800,000 attendance rows and 600 branches)."""
    found: dict[str, list[str]] = defaultdict(list)
    for row in attendance:
        if row.get("status") in missed and row.get("session_id"):
            found[row["session_id"]].append(str(row["member_id"]))
    return found


def missed_before(sessions: list[dict[str, Any]], missed_at: dict[str, list[str]], branch_id: str,
                  roster: set[str], start: date) -> dict[str, list[str]]:
    """The branch's and the college's sessions before `start`, each with the roster's members who missed it
    (`missed_at`: missed_by_session), latest first: the sessions the branch may make up (checks/makeup.py), those
    nobody missed with nobody listed."""
    days = {s["session_id"]: as_day(s.get("date")) for s in sessions
            if s.get("session_id") and s.get("branch_id") in (branch_id, None)}
    earlier = [sid for sid, day in days.items() if day is not None and day < start]
    found = {sid: [member for member in missed_at.get(sid, ()) if member in roster] for sid in earlier}
    return {sid: found[sid] for sid in sorted(found, key=lambda sid: (days[sid], sid), reverse=True)}


PAIRS_COLUMN = "E"  # the `_元数据`'s column of session|member pairs, for the 填报检查's formulas (live_checks.py)
CHOICES_COLUMN = "F"  # and of the sessions 补学活动's drop-down offers (makeup_choices)


def makeup_choices(numbers: list[str], missed: dict[str, list[str]]) -> list[str]:
    """What 补学活动's drop-down offers: this week's session numbers (S1, S2, …, and the college's sessions listed)
    and the earlier sessions the branch may make up (missed_before), latest first."""
    return [*numbers, *missed]


def missed_pairs(missed: dict[str, list[str]]) -> list[str]:
    """Who missed each earlier session as the formulas look them up: B08-W02-S1|M0001, one a cell."""
    return [f"{session}|{member}" for session, members in missed.items() for member in members]


def missed_text(missed: dict[str, list[str]]) -> str | None:
    """As the `_元数据` cell holds it: B08-W02-S1:M0001 M0003;ALL-W02-S1:M0002."""
    parts, size = [], 0
    for session, members in missed.items():
        part = f"{session}{_ID_AND_MEMBERS}{_MEMBERS.join(members)}"
        size += len(part) + 1
        if size > CELL_LIMIT:
            break
        parts.append(part)
    return _SESSIONS.join(parts) or None


def missed_elsewhere(meta: dict[str, Any] | None) -> dict[str, set[str]]:
    """The `_元数据` cell read back: case-folded 活动编号 -> the members who missed it (none, for a session nobody
    missed: listed all the same, as one the branch may make up)."""
    return {session.casefold(): members for session, members in _listed(meta).items()}


def earlier_listed(meta: dict[str, Any] | None) -> dict[str, str] | None:
    """The earlier sessions the return may make up, as its `_元数据` lists them: case-folded 活动编号 -> 活动编号;
    None for a return made before the row existed (it says nothing of them)."""
    if meta is None or MISSED_FIELD not in meta:
        return None
    return {session.casefold(): session for session in _listed(meta)}


def _listed(meta: dict[str, Any] | None) -> dict[str, set[str]]:
    text = (meta or {}).get(MISSED_FIELD)
    if is_blank(text):
        return {}
    found = {}
    for part in str(text).split(_SESSIONS):
        session, _, members = part.partition(_ID_AND_MEMBERS)
        if session.strip():
            found[session.strip()] = set(members.split())
    return found


def college_sessions(sessions: list[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    """The college's sessions of the week (支部编号 blank), by day: every branch's return lists them."""
    found = [s for s in sessions if s.get("session_id") and is_blank(s.get("branch_id"))
             and (day := as_day(s.get("date"))) is not None and start <= day <= end]
    return sorted(found, key=lambda s: (as_day(s["date"]), str(s["session_id"])))


def college_text(sessions: list[dict[str, Any]]) -> str | None:
    return _SESSIONS.join(str(s["session_id"]) for s in sessions) or None


def college_listed(meta: dict[str, Any] | None) -> tuple[str, ...]:
    """The 活动编号 of the college's sessions a return lists, as its `_元数据` names them."""
    text = (meta or {}).get(COLLEGE_FIELD)
    return () if is_blank(text) else tuple(part.strip() for part in str(text).split(_SESSIONS) if part.strip())
