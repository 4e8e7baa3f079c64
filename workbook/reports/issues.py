"""The bulletin's issues (第N期): each one made is an entry of the ledger's journal (docs/design.md, "The bulletin").

An issue is numbered by the bulletins of the campaign, not by the week: the first bulletin is 第1期
whatever week it reports. Making the same week's bulletin again (after a late return) keeps its number
and replaces what that issue remembers. An issue remembers its headline figures and its open flags (by
key and level, no names), so the next one says what changed since it. Kept in the journal, the issues
survive a rebuild (sync/rebuild.py replays every entry it does not apply) and a restore.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..ledger import Ledger

KIND = "bulletin"


@dataclass(frozen=True)
class Issue:
    number: int
    week: int
    as_of: date
    figures: dict[str, float] = field(default_factory=dict)  # the headline figures as the issue printed them
    flags: dict[str, dict[str, str]] = field(default_factory=dict)  # flag_view.snapshot of its open flags

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "week": self.week, "as_of": self.as_of.isoformat(), "figures": self.figures,
                "flags": self.flags}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Issue:
        return cls(int(body["number"]), int(body["week"]), date.fromisoformat(body["as_of"]),
                   dict(body.get("figures", {})), dict(body.get("flags", {})))


def past_issues(ledger: Ledger) -> list[Issue]:
    """Every issue made, by number; an issue made again is its latest version."""
    latest = {}
    for entry in ledger.journal_of(KIND):
        issue = Issue.from_json(entry["body"])
        latest[issue.number] = issue
    return [latest[number] for number in sorted(latest)]


def number_for(past: list[Issue], week: int) -> int:
    """The week's issue number: its own if it was made before, else the next one."""
    same = [issue.number for issue in past if issue.week == week]
    return same[-1] if same else max((issue.number for issue in past), default=0) + 1


def issue_before(past: list[Issue], number: int) -> Issue | None:
    earlier = [issue for issue in past if issue.number < number]
    return earlier[-1] if earlier else None


def record(ledger: Ledger, issue: Issue, who: str | None = None) -> int:
    with ledger.transaction():
        return ledger.journal(KIND, issue.to_json(), who=who)
