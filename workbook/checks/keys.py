"""Keys: no duplicate primary keys in a sheet; references resolve (master). A return's member IDs: roster_ids.py."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..cells import column_letter
from ..findings import Finding
from ..i18n import LANGS, Named
from ..schema import SheetSchema
from ..sheetio import SheetRead
from .values import ParsedColumns, ParsedRow


def _show_key(values: tuple[Any, ...]) -> str:
    return " / ".join(v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values)


def _all_distinct(columns: list[list[Any]]) -> bool:
    """Whether no two rows hold the same values in these columns. Counts distinct hashes, which needs
    no tuple kept per row (800,000 in the attendance): equal keys hash alike, so as many distinct
    hashes as rows means no key twice (fewer: the rows are gone through one by one)."""
    if len(columns) == 1:
        return len(set(columns[0])) == len(columns[0])
    return len(set(map(hash, zip(*columns)))) == len(columns[0])


def check_duplicates(read: SheetRead, parsed: list[ParsedRow], key: Iterable[str], lang: str,
                     labels: dict[str, str]) -> Iterator[Finding]:
    key = tuple(key)
    if not key or any(k not in read.columns for k in key):
        return
    if isinstance(parsed, ParsedColumns):
        columns = [parsed.columns[k] for k in key]
        if not any(None in parsed.values_of(k) for k in key) and _all_distinct(columns):
            return  # no key twice: the usual case, found without going row by row
        rows = zip(parsed.numbers, zip(*columns))
    else:
        rows = ((number, tuple(record.get(k) for k in key)) for number, record in parsed)
    seen: dict[tuple, int] = {}
    for number, values in rows:
        if any(v is None for v in values):
            continue
        if values in seen:
            yield Finding("duplicate-key", sheet=read.title, row=number, column=column_letter(read.columns[key[0]]),
                          column_label=labels[key[0]], value=values[0],
                          params={"other_row": seen[values], "key": _show_key(values)})
        else:
            seen[values] = number


def check_references(read: SheetRead, parsed: list[ParsedRow], sheet: SheetSchema, targets: dict[str, set],
                     target_names: dict[str, tuple[str, str]], lang: str,
                     ids_by_name: dict[str, dict] | None = None) -> Iterator[Finding]:
    """Master foreign keys; `targets` holds each referenced sheet's key values, `ids_by_name` each referenced
    sheet's IDs by name (a name typed for its ID is told its ID)."""
    for fk in sheet.foreign_keys:
        field_key = fk.fields[0]
        if field_key not in read.columns:
            continue
        known = targets.get(fk.sheet, set())
        if isinstance(parsed, ParsedColumns):
            column = parsed.columns[field_key]
            if all(value is None or value in known for value in parsed.values_of(field_key)):
                continue  # every value found (the usual case), without going row by row
            rows = zip(parsed.numbers, column)
        else:
            rows = ((number, record.get(field_key)) for number, record in parsed)
        named = (ids_by_name or {}).get(fk.sheet, {})
        for number, value in rows:
            if value is not None and value not in known:
                target = Named(dict(zip(LANGS, target_names[fk.sheet])))
                suggestion = named.get(value)
                yield Finding("foreign-key-name" if suggestion else "foreign-key", sheet=read.title, row=number,
                              column=column_letter(read.columns[field_key]),
                              column_label=sheet.field(field_key).label(lang), value=value,
                              params={"target": target, **({"suggestion": suggestion} if suggestion else {})})
