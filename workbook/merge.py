"""Merge submissions into the master's tables: a pure function, no files.

Rules: a file already merged (same SHA-256) changes nothing; a corrected resubmission for the
same branch and week replaces the earlier one's rows; an older one arriving late changes nothing;
rows the office edited by hand are kept and reported; every file gets a row in 周报.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .cells import timestamp_text
from .intake import Submission
from .provenance import edited_by_hand, stamp
from .schema import Schemas, load_schemas

MERGED_SHEETS = ("sessions", "attendance", "selfstudy", "inspections", "opinions")
NOTE_LIMIT = 5


@dataclass
class Outcome:
    file_name: str
    receipt_id: str
    result: str  # merged | duplicate | superseded | rejected | quarantined
    branch_id: str | None = None
    week: int | None = None
    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def merged(self) -> bool:
        return self.result == "merged"


def source_return(source: Any) -> str:
    """The return id part of a 来源回执 value ("B03-W03@1a2b3c4d5e6f" -> "B03-W03")."""
    return str(source or "").split("@", 1)[0]


class _Index:
    """Row positions of each merged sheet by source return, built once per merge."""

    def __init__(self, tables: dict[str, list[dict]]):
        self.by_return: dict[str, dict[str, list[int]]] = {}
        for key in MERGED_SHEETS:
            index: dict[str, list[int]] = {}
            for position, row in enumerate(tables.get(key, [])):
                index.setdefault(source_return(row.get("source_return")), []).append(position)
            self.by_return[key] = index


def _key(schemas: Schemas, sheet_key: str, row: dict[str, Any]) -> tuple:
    return tuple(row.get(k) for k in schemas.sheet(sheet_key).primary_key)


def _describe(schemas: Schemas, sheet_key: str, row: dict[str, Any]) -> str:
    sheet = schemas.sheet(sheet_key)
    key = " / ".join(str(row.get(k)) for k in sheet.primary_key)
    return f"{sheet.name('zh')} {key}：台账中的这一行在合并后被手工修改过，保留台账的值，未用回执覆盖。"


def merge(tables: dict[str, list[dict]], submissions: list[Submission], now: datetime | None = None,
          schemas: Schemas | None = None) -> tuple[dict[str, list[dict]], list[Outcome]]:
    """The new tables and one Outcome per submission, in the submissions' order."""
    schemas = schemas or load_schemas()
    now_text = timestamp_text(now or datetime.now())
    tables = {key: list(rows) for key, rows in tables.items()}
    receipts = tables["returns"] = [dict(r) for r in tables.get("returns", [])]  # rows we mark "replaced"
    known_hashes = {r["sha256"]: r for r in receipts if r.get("sha256")}
    index = _Index(tables)
    removed_positions: dict[str, set[int]] = {key: set() for key in MERGED_SHEETS}
    outcomes = [Outcome(s.file_name, s.receipt_id, "rejected", s.branch_id, s.week) for s in submissions]
    # Filled order, not arrival order, decides which of two returns for a week stands.
    ordered = sorted(zip(submissions, outcomes), key=lambda p: (p[0].filled_at or p[0].received_at, p[0].received_at))
    for sub, outcome in ordered:
        prior = known_hashes.get(sub.sha256)
        if prior is not None and prior.get("result") == "quarantined" and not sub.hold:
            receipts.remove(prior)  # approved since: processed now, as if it had just come
            prior = None
        if prior is not None:
            # The same bytes again: nothing changes. A file rejected before is rejected again, for the same reasons.
            outcome.result = "rejected" if prior.get("result") == "rejected" else "duplicate"
            outcome.problems = sub.problems() if outcome.result == "rejected" else []
            continue
        receipt = {
            "receipt_id": sub.receipt_id, "return_id": sub.return_id, "branch_id": sub.branch_id, "week": sub.week,
            "summary": sub.form.get("summary"), "problems": sub.form.get("problems"), "file_name": sub.file_name,
            "sha256": sub.sha256, "sender": sub.sender, "filled_at": sub.filled_at, "received_at": sub.received_at,
            "merged_at": now_text, "result": "rejected", "note": None,
        }
        receipts.append(receipt)
        known_hashes[sub.sha256] = receipt
        if not sub.acceptable:
            outcome.problems = sub.problems()
            receipt["note"] = _note(outcome.problems)
            continue
        if sub.hold:
            outcome.result = receipt["result"] = "quarantined"
            outcome.problems = [sub.hold]
            receipt["note"] = f"{sub.hold}，待学院审批（branchbook approve … {sub.receipt_id}）。"
            continue
        current = [r for r in receipts if r.get("return_id") == sub.return_id and r.get("result") == "merged"]
        if any((r.get("filled_at") or "") > (sub.filled_at or "") for r in current):
            outcome.result = receipt["result"] = "superseded"
            receipt["note"] = "比已合并的同一支部同一周回执填得更早，未覆盖。"
            continue
        kept_by_hand: dict[str, set[tuple]] = {}
        for key in MERGED_SHEETS:
            rows = tables.setdefault(key, [])
            sheet = schemas.sheet(key)
            for position in index.by_return[key].get(sub.return_id, []):
                if position in removed_positions[key]:
                    continue
                if edited_by_hand(sheet, rows[position]):
                    kept_by_hand.setdefault(key, set()).add(_key(schemas, key, rows[position]))
                    continue
                removed_positions[key].add(position)
                outcome.removed[key] = outcome.removed.get(key, 0) + 1
        for row in current:
            row["result"] = "replaced"
        source = f"{sub.return_id}@{sub.receipt_id}"
        for key in MERGED_SHEETS:
            sheet = schemas.sheet(key)
            rows = tables[key]
            for row in sub.rows.get(key, []):
                if _key(schemas, key, row) in kept_by_hand.get(key, set()):
                    outcome.conflicts.append(_describe(schemas, key, row))
                    continue
                index.by_return[key].setdefault(sub.return_id, []).append(len(rows))
                rows.append(stamp(sheet, row, source))
                outcome.added[key] = outcome.added.get(key, 0) + 1
        outcome.result = receipt["result"] = "merged"
        receipt["note"] = _note(outcome.conflicts)
    for key, positions in removed_positions.items():
        if positions:
            tables[key] = [row for i, row in enumerate(tables[key]) if i not in positions]
    return tables, outcomes


def _note(lines: list[str]) -> str | None:
    if not lines:
        return None
    more = f"（另有 {len(lines) - NOTE_LIMIT} 条）" if len(lines) > NOTE_LIMIT else ""
    return "；".join(lines[:NOTE_LIMIT]) + more
