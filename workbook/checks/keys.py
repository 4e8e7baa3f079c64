"""Keys: no duplicate primary keys in a sheet; references resolve (master) or stay in the roster (return)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..cells import column_letter
from ..findings import Finding
from ..schema import SheetSchema
from ..sheetio import SheetRead
from .values import ParsedRow


def _show_key(values: tuple[Any, ...]) -> str:
    return " / ".join(v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values)


def check_duplicates(read: SheetRead, parsed: list[ParsedRow], key: Iterable[str], lang: str,
                     labels: dict[str, str]) -> Iterator[Finding]:
    key = tuple(key)
    if not key or any(k not in read.columns for k in key):
        return
    seen: dict[tuple, int] = {}
    for number, record in parsed:
        values = tuple(record.get(k) for k in key)
        if any(v is None for v in values):
            continue
        if values in seen:
            yield Finding("duplicate-key", sheet=read.title, row=number, column=column_letter(read.columns[key[0]]),
                          column_label=labels[key[0]], value=values[0],
                          params={"other_row": seen[values], "key": _show_key(values)})
        else:
            seen[values] = number


def check_references(read: SheetRead, parsed: list[ParsedRow], sheet: SheetSchema, targets: dict[str, set],
                     target_names: dict[str, tuple[str, str]], lang: str) -> Iterator[Finding]:
    """Master foreign keys; `targets` holds each referenced sheet's key values."""
    for fk in sheet.foreign_keys:
        field_key = fk.fields[0]
        if field_key not in read.columns:
            continue
        known = targets.get(fk.sheet, set())
        for number, record in parsed:
            value = record.get(field_key)
            if value is not None and value not in known:
                zh, en = target_names[fk.sheet]
                yield Finding("foreign-key", sheet=read.title, row=number,
                              column=column_letter(read.columns[field_key]),
                              column_label=sheet.field(field_key).label(lang), value=value,
                              params={"target": zh, "target_en": en})


def check_roster_members(read: SheetRead, parsed: list[ParsedRow], roster: set[str], label: str) -> Iterator[Finding]:
    if "member_id" not in read.columns:
        return
    for number, record in parsed:
        member = record.get("member_id")
        if member is not None and member not in roster:
            yield Finding("unknown-member", sheet=read.title, row=number,
                          column=column_letter(read.columns["member_id"]), column_label=label, value=member)
