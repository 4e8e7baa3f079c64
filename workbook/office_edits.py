"""Changes the office made by hand in master.xlsx, found and taken into the ledger.

The office keeps editing the master in Excel (docs/design.md, "The ledger"). Its changes are
found by comparing the master as it is now with the master as BranchBook last wrote it, not with
the ledger, which may have moved on since (returns merged while the file was open). A row is
known by its primary key, and on sheets fed by returns also by the return it came from; a change
to a merged row keeps that row's fingerprint, so the next merge sees a hand edit and keeps it.

Sheets BranchBook itself keeps (周报, 进度提醒) are not taken back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ledger import ROW, Ledger
from .provenance import canonical
from .schema import Schemas, SheetSchema

SYSTEM_SHEETS = ("returns", "flags")


@dataclass
class Edit:
    op: str  # insert | update | delete
    sheet: str
    identity: list[Any]
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "sheet": self.sheet, "identity": self.identity, "before": self.before,
                "after": self.after}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Edit:
        return cls(data["op"], data["sheet"], data["identity"], data.get("before"), data.get("after"))


def identity(sheet: SheetSchema, row: dict[str, Any]) -> list[str]:
    """How a row is known across edits: its key, and on merged sheets the return it came from."""
    key = [canonical(row.get(k)) for k in sheet.primary_key]
    return ([canonical(row.get("source_return"))] if sheet.provenance else []) + key


def _content(sheet: SheetSchema, row: dict[str, Any]) -> list[str]:
    return [canonical(row.get(f.key)) for f in sheet.fields if not f.system]


def people_fields(sheet: SheetSchema, row: dict[str, Any]) -> dict[str, Any]:
    """A row's fields as the office sees them; a column the master lacks (added later: schema.Field.added_later)
    is left out, so that an edit to the row keeps the ledger's value."""
    return {f.key: row.get(f.key) for f in sheet.fields
            if (not f.system or f.key == "source_return") and (f.key in row or not f.added_later)}


def edited_sheets(schemas: Schemas) -> list[SheetSchema]:
    return [sheet for sheet in schemas.master if sheet.key not in SYSTEM_SHEETS]


def diff(schemas: Schemas, before: dict[str, list[dict]], after: dict[str, list[dict]]) -> list[Edit]:
    """The office's edits: what changed from `before` (as exported) to `after` (as saved)."""
    edits: list[Edit] = []
    for sheet in edited_sheets(schemas):
        old: dict[tuple, list[dict]] = {}
        for row in before.get(sheet.key, []):
            old.setdefault(tuple(identity(sheet, row)), []).append(row)
        for row in after.get(sheet.key, []):
            known = tuple(identity(sheet, row))
            candidates = old.get(known)
            if not candidates:
                edits.append(Edit("insert", sheet.key, list(known), None, people_fields(sheet, row)))
                continue
            previous = candidates.pop(0)
            if _content(sheet, previous) != _content(sheet, row):
                edits.append(Edit("update", sheet.key, list(known), people_fields(sheet, previous),
                                  people_fields(sheet, row)))
        for known, rows in old.items():
            edits += [Edit("delete", sheet.key, list(known), people_fields(sheet, row), None) for row in rows]
    return edits


def _find(ledger: Ledger, sheet: SheetSchema, wanted: list[Any]) -> dict[str, Any] | None:
    first = sheet.primary_key[0]
    value_index = 1 if sheet.provenance else 0
    for row in ledger.rows_in(sheet.key, first, _lookup_values(sheet, first, wanted[value_index])):
        if identity(sheet, row) == wanted:
            return row
    return None


def _lookup_values(sheet: SheetSchema, key: str, text: str) -> list[Any]:
    """The stored forms a canonical key text may have (a number typed as an id is stored as text)."""
    values: list[Any] = [text]
    if sheet.field(key).type in ("integer", "number"):
        try:
            values.append(float(text))
        except ValueError:
            pass
    return values


def apply(ledger: Ledger, edits: list[Edit]) -> list[Edit]:
    """Take edits into the ledger (inside the caller's transaction); the edits that could not be applied
    (their row was replaced by a return since the master was written)."""
    problems = []
    for edit in edits:
        sheet = ledger.schemas.sheet(edit.sheet)
        if edit.op == "insert":
            ledger.insert(edit.sheet, [edit.after or {}])
            continue
        stored = _find(ledger, sheet, edit.identity)
        if stored is None:
            # The row changed in the ledger since the export (a return replaced it): the return wins.
            problems.append(edit)
            continue
        if edit.op == "delete":
            ledger.delete(edit.sheet, [stored[ROW]])
        else:
            merged = {**stored, **(edit.after or {})}
            merged.pop(ROW, None)
            ledger.update(edit.sheet, stored[ROW], merged)
    return problems
