"""补学: a self-study row or a session that makes up a session missed names it in 补学活动 (docs/domain.md,
"Records"): by its 活动编号 as the master lists it (B08-W02-S1, or a college-wide ALL-W02-S1), or by its number (S1, S2, …) for a
session of the return's own week. The return alone can check only the latter; the rest is checked at intake,
against the ledger's sessions (check_makeup_sessions)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .. import ids
from ..cells import column_letter, is_blank
from ..findings import Finding
from ..schema import ReturnLayout
from ..sheetio import SheetRead
from .values import ParsedRow

MAKES_UP = "makes_up"
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


def check_makeup_numbers(reads: dict[str, SheetRead], parsed: dict[str, list[ParsedRow]], declared: set[str],
                         of_return: str | None, sessions: int) -> Iterator[Finding]:
    """A session of the return's own week in 补学活动 is one its 学习活动 lists (validation: the return alone)."""
    for key, read in reads.items():
        for row, record in parsed.get(key, []):
            number = own_number(record.get(MAKES_UP), of_return)
            if number and number not in declared:
                yield _unknown(read, row, record, of_return, sessions)


def known_sessions(sessions: list[dict[str, Any]], branch_id: str) -> dict[str, str]:
    """The sessions a branch's return may name in 补学活动: its own and the whole college's, by case-folded ID."""
    return {str(s["session_id"]).casefold(): str(s["session_id"]) for s in sessions
            if s.get("session_id") and s.get("branch_id") in (branch_id, None)}


def check_makeup_sessions(reads: dict[str, SheetRead], parsed: dict[str, list[ParsedRow]], of_return: str,
                          known: dict[str, str], count: int) -> Iterator[Finding]:
    """Another week's session in 补学活动 is one the ledger knows (intake, which has the ledger; known_sessions)."""
    for key, read in reads.items():
        for row, record in parsed.get(key, []):
            value = record.get(MAKES_UP)
            if not is_blank(value) and not own_number(value, of_return) and str(value).strip().casefold() not in known:
                yield _unknown(read, row, record, of_return, count)


def _unknown(read: SheetRead, row: int, record: dict, of_return: str | None, sessions: int) -> Finding:
    return Finding("makeup-unknown", sheet=read.title, row=row, column=column_letter(read.columns.get(MAKES_UP, 1)),
                   value=record.get(MAKES_UP), params={"example": _example(of_return), "sessions": sessions})
