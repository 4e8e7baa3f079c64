"""Member IDs in a return must be on the branch's roster. A wrong one is answered with the ID it most
likely means: a name typed where the ID belongs (何欣 → M0259), an ID typed short or in the wrong case
(M259, m0259), a name or ID one character off; otherwise with an ID of the roster as the example."""
from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import SequenceMatcher

from ..cells import column_letter
from ..findings import Finding
from ..sheetio import SheetRead
from .values import ParsedRow

_NAME_CLOSE_ENOUGH = 0.5  # two-character names one character apart (何新, 何欣)
_ID_CLOSE_ENOUGH = 0.8  # IDs are alike anyway (M0259, M0295): only a slip of one character


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def _digits(text: str) -> int | None:
    found = re.sub(r"\D", "", text)
    return int(found) if found else None


def likely_member(value: str, roster: dict[str, str]) -> tuple[str, str, str] | None:
    """(finding code, the ID meant, its name) for a value that is not on the roster, or None."""
    text = _squeezed(value)
    by_name = [member for member, name in roster.items() if name and _squeezed(name) == text]
    if by_name:
        return "name-for-id", " / ".join(sorted(by_name)), roster[by_name[0]]
    letters = re.sub(r"[\d\s]", "", text)
    number = _digits(text)
    same = [member for member in roster if number is not None and _digits(member) == number
            and re.sub(r"\d", "", member).casefold() == letters]
    if len(same) == 1:
        return "member-id-close", same[0], roster[same[0]]
    # How close the value is to each ID and each name, as a share of the cutoff for that kind.
    scored = sorted(((SequenceMatcher(None, text, _squeezed(candidate)).ratio() / cutoff, member)
                     for member, name in roster.items()
                     for candidate, cutoff in ((member, _ID_CLOSE_ENOUGH), (name or "", _NAME_CLOSE_ENOUGH))),
                    reverse=True)
    best = [member for score, member in scored if scored and score == scored[0][0]]
    if scored and scored[0][0] >= 1 and len(set(best)) == 1:  # one member clearly meant, not two alike
        return "member-id-close", best[0], roster[best[0]]
    return None


OFF_ROSTER = ("unknown-member", "name-for-id", "member-id-close")  # the codes of an ID not on the roster


def check_roster_members(read: SheetRead, parsed: list[ParsedRow], roster: dict[str, str],
                         label: str) -> Iterator[Finding]:
    """`roster`: member ID -> name, of the return's own roster."""
    if "member_id" not in read.columns:
        return
    example = min(roster) if roster else ""
    for number, record in parsed:
        member = record.get("member_id")
        if member is None or member in roster:
            continue
        where = {"sheet": read.title, "row": number, "column": column_letter(read.columns["member_id"]),
                 "column_label": label, "value": member}
        likely = likely_member(str(member), roster)
        if likely is None:
            yield Finding("unknown-member", **where, params={"example": example})
        else:
            code, meant, name = likely
            yield Finding(code, **where, params={"suggestion": meant, "name": name})
