"""The records of phases 2 and 3 (docs/domain.md, "Phases 2 and 3"): what each row must say beyond its types.

党性分析: a step after writing names who reviewed it. 民主评议: a 预备党员 is appraised but given no 等次 (his
standing as the return's roster has it); votes that add up to more than the branch's members are a warning (the
count may include people asked from outside the branch, but usually it is a slip). 整改清单: an item of a member
names him; its 完成时限 before the row's date, the item not done, is a warning (a mistyped deadline, or an
item reported overdue); a committee item is the office's own (typed in the master), not a
branch's. 整改公示: the answers of a 满意度测评 are not more than the people who took part.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..cells import column_letter
from ..findings import Finding
from ..i18n import LIST_SEPARATOR, Domain
from ..schema import ReturnLayout
from ..sheetio import SheetRead
from .values import ParsedRow

separated = Domain("workbook")  # where the list separator is worded
PROBATIONARY = "probationary"  # codes.yaml member_standing
MEMBER_ITEM = "member"  # codes.yaml rectification_level: a member's item, which names him
VOTES = ("votes_excellent", "votes_qualified", "votes_basic", "votes_unqualified")
ANSWERS = ("satisfied", "fairly", "dissatisfied")


class _Sheet:
    """One record sheet of the return as read: a finding at a row and field names the cell and the column."""

    def __init__(self, read: SheetRead, layout: ReturnLayout, key: str, lang: str):
        self.read, self.sheet, self.lang = read, layout.sheet(key), lang

    def has(self, *keys: str) -> bool:
        return all(key in self.read.columns for key in keys)

    def at(self, code: str, row: int, key: str, value: Any = None, **params: Any) -> Finding:
        return Finding(code, sheet=self.read.title, row=row, column=column_letter(self.read.columns[key]),
                       column_label=self.sheet.field(key).label(self.lang), value=value, params=params)


def check_phase_records(tables: dict[str, SheetRead], parsed: dict[str, list[ParsedRow]], layout: ReturnLayout,
                        roster: list[dict[str, Any]], lang: str) -> Iterator[Finding]:
    """`roster`: the return's roster rows as parsed (member_id, standing)."""
    present = {key for key, read in tables.items() if read.title is not None and parsed.get(key)}
    if "analyses" in present:
        yield from _analyses(_Sheet(tables["analyses"], layout, "analyses", lang), parsed["analyses"])
    if "appraisals" in present:
        yield from _appraisals(_Sheet(tables["appraisals"], layout, "appraisals", lang), parsed["appraisals"], roster)
    if "rectification" in present:
        yield from _rectification(_Sheet(tables["rectification"], layout, "rectification", lang), parsed["rectification"])
    if "publicity" in present:
        yield from _publicity(_Sheet(tables["publicity"], layout, "publicity", lang), parsed["publicity"])


def _analyses(sheet: _Sheet, rows: list[ParsedRow]) -> Iterator[Finding]:
    if not sheet.has("reviewer"):
        return
    for number, record in rows:
        if record.get("stage") not in (None, "written") and not record.get("reviewer"):
            yield sheet.at("analysis-no-reviewer", number, "reviewer",
                           stage=sheet.sheet.field("stage").codes.label(record["stage"], sheet.lang))


def _appraisals(sheet: _Sheet, rows: list[ParsedRow], roster: list[dict[str, Any]]) -> Iterator[Finding]:
    probationary = {r.get("member_id") for r in roster if r.get("standing") == PROBATIONARY}
    votes = [key for key in VOTES if sheet.has(key)]
    for number, record in rows:
        if sheet.has("grade") and record.get("grade") and record.get("member_id") in probationary:
            yield sheet.at("grade-probationary", number, "grade", sheet.sheet.field("grade").codes.label(
                record["grade"], sheet.lang), member=record["member_id"])
        total = sum(record.get(key) or 0 for key in votes)
        if votes and total > len(roster):
            finding = sheet.at("votes-over-members", number, votes[0], total, members=len(roster))
            finding.last_column = column_letter(sheet.read.columns[votes[-1]])
            finding.column_label = separated(sheet.lang, LIST_SEPARATOR).join(sheet.sheet.field(key).label(sheet.lang)
                                                                       for key in votes)
            yield finding


def _rectification(sheet: _Sheet, rows: list[ParsedRow]) -> Iterator[Finding]:
    for number, record in rows:
        level = record.get("level")
        if level == MEMBER_ITEM and sheet.has("member_id") and not record.get("member_id"):
            yield sheet.at("item-no-member", number, "member_id")
        if level == "committee" and sheet.has("level"):
            yield sheet.at("item-of-committee", number, "level",
                           sheet.sheet.field("level").codes.label(level, sheet.lang))
        day, deadline = record.get("date"), record.get("deadline")
        # A warning: a later week may honestly report an item still open past its deadline (docs/domain.md).
        if day is not None and deadline is not None and deadline < day and record.get("status") != "done":
            yield sheet.at("deadline-before-date", number, "deadline", deadline, date=day.isoformat())


def _publicity(sheet: _Sheet, rows: list[ParsedRow]) -> Iterator[Finding]:
    if not sheet.has("respondents"):
        return
    for number, record in rows:
        people = record.get("respondents")
        answers = sum(record.get(key) or 0 for key in ANSWERS if sheet.has(key))
        if people is not None and answers > people:
            yield sheet.at("answers-over-respondents", number, "respondents", people, answers=answers)
