"""A received file as the merge sees it: what it is, whose and which week, its findings and rows.

Made by intake.py from a file; the merge (merge.py) needs nothing else, so it does not depend on
reading files at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import ids
from .findings import ERROR, Finding, Report
from .safe_open import UnreadableFile


@dataclass
class Submission:
    file_name: str
    sha256: str
    received_at: str
    sender: str | None = None
    filled_at: str | None = None
    unreadable: UnreadableFile | None = None
    report: Report | None = None
    branch_id: str | None = None
    week: int | None = None
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    form: dict[str, Any] = field(default_factory=dict)
    hold: str | None = None  # why it waits for the office's approval (a sender not registered), if it does
    branch_name: str | None = None  # the branch's name in the ledger, when branch_id names one
    # False when the metadata that names branch and week cannot be believed (its seal does not match, or is
    # missing where one is required): whoever reports on the file must not repeat them as facts.
    identity_trusted: bool = True

    @property
    def receipt_id(self) -> str:
        return ids.receipt_id(self.sha256)

    @property
    def return_id(self) -> str | None:
        return ids.return_id(self.branch_id, self.week) if self.branch_id and self.week else None

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings if self.report else []

    @property
    def acceptable(self) -> bool:
        return self.unreadable is None and self.report is not None and self.report.valid and bool(self.return_id)

    def problem_items(self) -> list[Finding | UnreadableFile]:
        """Why it cannot be merged, as findings (or the reason it cannot be read): each words itself."""
        if self.unreadable is not None:
            return [self.unreadable]
        return [f for f in self.findings if f.severity == ERROR]

    def problems(self, lang: str = "zh") -> list[str]:
        return [problem.message(lang) for problem in self.problem_items()]

    def notes(self, lang: str = "zh") -> list[str]:
        """What was merged other than as sent (text cleaned, a date's year added), each by its cell."""
        return [finding.message(lang) for finding in self.findings if finding.severity != ERROR]
