"""Merge submissions into the ledger's records: a pure function, no files.

Rules: a file already merged (same SHA-256) changes nothing; a corrected resubmission for the
same branch and week replaces the earlier one's rows; an older one arriving late changes nothing;
rows the office edited by hand are kept and reported; every file gets a receipt (a row in 周报).

`plan_merge` needs only the records that a batch can touch (the rows of the returns it names,
the receipts of its files and weeks) and says what changes: the ledger applies that in one
transaction, so a merge costs the size of the return, not of the ledger. `merge` does the same on
whole in-memory tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from . import ids
from .calendar import Campaign
from .cells import timestamp_text
from .errors import UserError
from .ids import source_return
from .ledger import ROW
from .provenance import edited_by_hand, stamp
from .return_states import late_after
from .schema import Schemas, load_schemas
from .submission import Submission

RECEIPTS = "returns"

__all__ = ["Changes", "Outcome", "merge", "merged_sheets", "plan_merge", "source_return"]


def merged_sheets(schemas: Schemas) -> tuple[str, ...]:
    """The sheets whose rows come from returns (`provenance: true` in schemas/master.yaml)."""
    return tuple(sheet.key for sheet in schemas.master if sheet.provenance)


class Note:
    """What a receipt's 处理说明 will say, as a code and values: rendered in the HOME's language when the
    receipt is stored (reports/summaries.receipt_note)."""

    def __init__(self, code: str, **values: Any):
        self.code, self.values = code, values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Note) and (self.code, self.values) == (other.code, other.values)

    def __repr__(self) -> str:
        return f"Note({self.code!r}, {self.values!r})"


@dataclass(frozen=True)
class Conflict:
    """A row of the return that the office had edited in the ledger: the ledger's value stands."""

    sheet: str
    key: tuple


@dataclass
class Outcome:
    file_name: str
    receipt_id: str
    result: str  # merged | duplicate | superseded | rejected | quarantined
    branch_id: str | None = None
    week: int | None = None
    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)  # findings, an unreadable file, or why it is held: each words itself
    # Merged, then replaced by a newer return for the same week in the same batch (its file name): its rows are
    # not in the ledger, and its receipt says "replaced".
    replaced_by: str | None = None

    @property
    def merged(self) -> bool:
        return self.result == "merged"


@dataclass
class Changes:
    """What a batch changes: rows added (receipts under "returns"), stored rows removed by their `_row`,
    and stored receipts whose result changed (a merged return now replaced)."""

    added: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    removed: dict[str, set[int]] = field(default_factory=dict)
    receipt_results: dict[int, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.added.values()) or any(self.removed.values()) or bool(self.receipt_results)


def _key(schemas: Schemas, sheet_key: str, row: dict[str, Any]) -> tuple:
    return tuple(row.get(k) for k in schemas.sheet(sheet_key).primary_key)


class _Batch:
    """The rows a batch can see, stored and new alike, and what it has done to them."""

    def __init__(self, existing: dict[str, list[dict]], sheets: tuple[str, ...]):
        self.sheets = sheets
        self.changes = Changes(added={key: [] for key in (*sheets, RECEIPTS)},
                               removed={key: set() for key in (*sheets, RECEIPTS)})
        self.receipts = list(existing.get(RECEIPTS, []))
        self.by_hash = {r["sha256"]: r for r in self.receipts if r.get("sha256")}
        self.by_return: dict[str, dict[str, list[dict]]] = {key: {} for key in sheets}
        for key in sheets:
            for row in existing.get(key, []):
                self.by_return[key].setdefault(source_return(row.get("source_return")), []).append(row)
        self._dropped: set[int] = set()  # new rows removed again by a later file of the same batch

    def add_receipt(self, receipt: dict[str, Any]) -> None:
        self.receipts.append(receipt)
        self.by_hash[receipt["sha256"]] = receipt
        self.changes.added[RECEIPTS].append(receipt)

    def forget_receipt(self, receipt: dict[str, Any]) -> None:
        self.receipts.remove(receipt)
        self._remove(RECEIPTS, receipt)

    def set_result(self, receipt: dict[str, Any], result: str) -> None:
        receipt["result"] = result
        if ROW in receipt:
            self.changes.receipt_results[receipt[ROW]] = result

    def add_row(self, key: str, return_id: str, row: dict[str, Any]) -> None:
        self.by_return[key].setdefault(return_id, []).append(row)
        self.changes.added[key].append(row)

    def remove_row(self, key: str, return_id: str, row: dict[str, Any]) -> None:
        self.by_return[key][return_id].remove(row)
        self._remove(key, row)

    def _remove(self, key: str, row: dict[str, Any]) -> None:
        if ROW in row:
            self.changes.removed[key].add(row[ROW])
        else:
            self._dropped.add(id(row))

    def finish(self) -> Changes:
        for key, rows in self.changes.added.items():
            self.changes.added[key] = [r for r in rows if id(r) not in self._dropped]
        return self.changes


def filled_order(filled_at: str | None, received_at: str | None) -> tuple[str, str]:
    """The order a batch is merged in, and its receipts kept: filled order, not arrival order, decides which of two
    returns for a week stands (the filled time, else the arrival; then the arrival). `rebuild` puts a replayed
    batch's receipts back in it."""
    return str(filled_at or received_at), str(received_at)


def plan_merge(existing: dict[str, list[dict]], submissions: list[Submission], now: datetime | None = None,
               schemas: Schemas | None = None) -> tuple[Changes, list[Outcome]]:
    """What merging `submissions` changes, and one Outcome per submission in their order.

    `existing` holds, for each merged sheet, at least every stored row of the returns the
    submissions name, and under "returns" at least the receipts of their files and of those
    returns; stored rows carry their `_row`, which Changes uses to name them."""
    schemas = schemas or load_schemas()
    now_text = timestamp_text(now or datetime.now())
    sheets = merged_sheets(schemas)
    batch = _Batch(existing, sheets)
    outcomes = [Outcome(s.file_name, s.receipt_id, "rejected", s.branch_id, s.week) for s in submissions]
    ordered = sorted(zip(submissions, outcomes), key=lambda p: filled_order(p[0].filled_at, p[0].received_at))
    of_batch = {o.receipt_id: o for o in outcomes}
    for sub, outcome in ordered:
        prior = batch.by_hash.get(sub.sha256)
        if prior is not None and prior.get("result") == "quarantined" and not sub.hold:
            batch.forget_receipt(prior)  # approved since: processed now, as if it had just come
            prior = None
        if prior is not None:
            # The same bytes again: nothing changes. A file rejected before is rejected again, for the same reasons.
            outcome.result = "rejected" if prior.get("result") == "rejected" else "duplicate"
            outcome.problems = sub.problem_items() if outcome.result == "rejected" else []
            continue
        receipt = {
            "receipt_id": sub.receipt_id, "return_id": sub.return_id, "branch_id": sub.branch_id, "week": sub.week,
            "summary": sub.form.get("summary"), "problems": sub.form.get("problems"), "file_name": sub.file_name,
            "sha256": sub.sha256, "sender": sub.sender, "filled_at": sub.filled_at, "received_at": sub.received_at,
            "merged_at": now_text, "result": "rejected", "note": None,
        }
        batch.add_receipt(receipt)
        if not sub.acceptable:
            outcome.problems = sub.problem_items()
            receipt["note"] = Note("problems", problems=outcome.problems)
            continue
        if sub.hold:
            outcome.result = receipt["result"] = "quarantined"
            outcome.problems = [sub.hold]
            receipt["note"] = Note("held", why=sub.hold, receipt=sub.receipt_id)
            continue
        current = [r for r in batch.receipts if r.get("return_id") == sub.return_id and r.get("result") == "merged"]
        if any((r.get("filled_at") or "") > (sub.filled_at or "") for r in current):
            outcome.result = receipt["result"] = "superseded"
            receipt["note"] = Note("superseded")
            continue
        kept_by_hand: dict[str, set[tuple]] = {}
        for key in sheets:
            sheet = schemas.sheet(key)
            for row in list(batch.by_return[key].get(sub.return_id, [])):
                if edited_by_hand(sheet, row):
                    kept_by_hand.setdefault(key, set()).add(_key(schemas, key, row))
                    continue
                batch.remove_row(key, sub.return_id, row)
                outcome.removed[key] = outcome.removed.get(key, 0) + 1
        for row in current:
            batch.set_result(row, "replaced")
            earlier = of_batch.get(row.get("receipt_id"))
            if earlier is not None and earlier is not outcome:  # a version that came in this very batch
                earlier.replaced_by = sub.file_name
        source = ids.source(sub.return_id, sub.receipt_id)
        for key in sheets:
            sheet = schemas.sheet(key)
            for row in sub.rows.get(key, []):
                if _key(schemas, key, row) in kept_by_hand.get(key, set()):
                    outcome.conflicts.append(Conflict(key, _key(schemas, key, row)))
                    continue
                batch.add_row(key, sub.return_id, stamp(sheet, row, source))
                outcome.added[key] = outcome.added.get(key, 0) + 1
        outcome.result = receipt["result"] = "merged"
        late = late_after_due(existing, schemas, sub, batch.receipts)
        if outcome.conflicts:
            receipt["note"] = Note("conflicts", conflicts=outcome.conflicts, late_after=late)
        else:
            receipt["note"] = Note("late", late_after=late) if late else None
    return batch.finish(), outcomes


def late_after_due(existing: dict[str, list[dict]], schemas: Schemas, sub: Submission,
                   receipts: list[dict]) -> date | None:
    """The due day the submission's week missed, for its receipt's 处理说明 (迟交, as the flags and the dashboard
    say: return_states.late_after); None when on time, or when the ledger has no phases to count weeks by."""
    if not existing.get("phases") or sub.week is None:
        return None
    try:
        campaign = Campaign.from_records(existing["phases"])
        return late_after(campaign, [r for r in receipts if r.get("return_id") == sub.return_id], sub.week,
                          schemas.rules.thresholds.return_grace_days)
    except UserError:  # a week the phases do not hold: the submission's own checks say so
        return None


def apply_changes(tables: dict[str, list[dict]], changes: Changes) -> dict[str, list[dict]]:
    """In-memory tables with the changes applied, where each stored row's `_row` is its position."""
    out = {key: list(rows) for key, rows in tables.items()}
    for key in set(changes.added) | set(changes.removed):
        rows = out.get(key, [])
        removed = changes.removed.get(key, set())
        kept = []
        for position, row in enumerate(rows):
            if position in removed:
                continue
            if key == RECEIPTS and position in changes.receipt_results:
                row = {**row, "result": changes.receipt_results[position]}
            kept.append(row)
        out[key] = kept + [dict(r) for r in changes.added.get(key, [])]
    return out


def merge(tables: dict[str, list[dict]], submissions: list[Submission], now: datetime | None = None,
          schemas: Schemas | None = None) -> tuple[dict[str, list[dict]], list[Outcome]]:
    """The new tables and one Outcome per submission: plan_merge on whole in-memory tables (receipt notes
    stay codes: reports/summaries.render_notes words them)."""
    schemas = schemas or load_schemas()
    keys = (*merged_sheets(schemas), RECEIPTS)
    existing = {key: [{**row, ROW: position} for position, row in enumerate(tables.get(key, []))] for key in keys}
    existing["phases"] = tables.get("phases", [])  # for the weeks' due days (late_after_due)
    changes, outcomes = plan_merge(existing, submissions, now, schemas)
    return apply_changes(tables, changes), outcomes
