"""Where a master row came from, and whether someone has edited it since.

Rows merged from a return carry the return's id and a fingerprint of their data at merge time;
a later merge that finds the data no longer matching its fingerprint knows the office edited
the row by hand, keeps it, and reports the conflict.
"""
from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from .schema import SheetSchema


def canonical(value: Any) -> str:
    """A value as comparable text: a date and its ISO text, 3 and 3.0, None and blank are equal."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fingerprint(sheet: SheetSchema, record: dict[str, Any]) -> str:
    """A field added later counts only when filled, and named: a row merged before the column existed keeps its
    fingerprint (schema.Field.added_later), and a value moved from one such column to another is still an edit."""
    parts = [canonical(record.get(f.key)) for f in sheet.fields if not f.system and not f.added_later]
    parts += [f"{f.key}={canonical(record.get(f.key))}" for f in sheet.fields
              if f.added_later and not f.system and canonical(record.get(f.key))]
    data = "\x1f".join(parts)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def stamp(sheet: SheetSchema, record: dict[str, Any], source: str) -> dict[str, Any]:
    return {**record, "source_return": source, "row_fingerprint": fingerprint(sheet, record)}


def edited_by_hand(sheet: SheetSchema, record: dict[str, Any]) -> bool:
    stored = record.get("row_fingerprint")
    return bool(stored) and stored != fingerprint(sheet, record)


def roster_checksum(members: list[dict[str, Any]]) -> str:
    lines = sorted(f"{m['member_id']}\t{m['name']}" for m in members)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]
