"""Each cell against its field: required, type, allowed codes, range. Returns the parsed rows too,
so later checks work on values, not on raw cells."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..cells import BadValue, column_letter, parse_column
from ..findings import Finding
from ..i18n import LANGS, Named
from ..schema import Field
from ..sheetio import SheetRead

ParsedRow = tuple[int, dict[str, Any]]


@dataclass
class ParsedColumns:
    """A sheet's parsed rows kept by column (as SheetRead keeps the raw ones): iterating gives the
    (row number, record) pairs check_values returns, for the checks that go row by row."""

    numbers: list[int]
    columns: dict[str, list[Any]]  # field key -> parsed value of each row, in the order of a record's keys
    distinct: dict[str, set[Any]] = dataclasses.field(default_factory=dict)  # field key -> its values, once each

    def __len__(self) -> int:
        return len(self.numbers)

    def values_of(self, key: str) -> set[Any]:
        """The distinct values of a column (None among them when a row has none)."""
        if key not in self.distinct:
            self.distinct[key] = set(self.columns[key])
        return self.distinct[key]

    def __iter__(self) -> Iterator[ParsedRow]:
        keys = list(self.columns)
        if not keys:
            return iter([(number, {}) for number in self.numbers])
        return ((number, dict(zip(keys, values))) for number, values in zip(self.numbers, zip(*self.columns.values())))


def value_finding(code: str, read_title: str, row: int, column: int, field: Field, raw: Any, lang: str,
                  **params) -> Finding:
    if code in ("enum", "import-enum") and field.codes is not None:
        params["choices"] = Named({lang: "/".join(field.codes.labels(lang)) for lang in LANGS})
    if code == "type":
        params["type"] = field.type
    return Finding(code, sheet=read_title, row=row, column=column_letter(column),
                   column_label=field.label(lang), value=raw, params=params)


def check_values(read: SheetRead, fields: tuple[Field, ...], lang: str) -> tuple[list[ParsedRow], list[Finding]]:
    parsed, findings = check_columns(read, fields, lang, keep_distinct=False)
    return list(parsed), findings


def check_columns(read: SheetRead, fields: tuple[Field, ...], lang: str,
                  keep_distinct: bool = True) -> tuple[ParsedColumns, list[Finding]]:
    """check_values by column: each distinct value of a column is parsed once, and only a column with
    a problem is gone through cell by cell. The findings come in the same order: by row, then by field.
    With `keep_distinct`, the parsed columns know their distinct values for the checks that follow."""
    found: list[tuple[int, int, Finding]] = []
    columns: dict[str, list[Any]] = {}
    distinct: dict[str, set[Any]] = {}
    numbers = read.numbers
    for position, field in enumerate(fields):
        if field.key not in read.columns or field.system:
            continue
        column = read.columns[field.key]
        raw = read.cells[field.key]
        values, results = parse_column(field, raw, read.distinct(field.key))
        numeric = field.type in ("number", "integer")
        if any(isinstance(result, BadValue) or (result is None and field.required)
               or (numeric and result is not None and not _within(field, result)) for result in results):
            values = list(values)
            for at, value in enumerate(values):
                if isinstance(value, BadValue):
                    found.append((at, position, value_finding(value.kind, read.title, numbers[at], column, field,
                                                              raw[at], lang)))
                    values[at] = None
                elif value is None:
                    if field.required:
                        found.append((at, position, value_finding("required", read.title, numbers[at], column,
                                                                  field, raw[at], lang)))
                elif numeric and not _within(field, value):
                    found.append((at, position, value_finding("range", read.title, numbers[at], column, field,
                                                              raw[at], lang, minimum=field.minimum,
                                                              maximum=field.maximum)))
        columns[field.key] = values
        if keep_distinct:
            distinct[field.key] = {None if isinstance(result, BadValue) else result for result in results}
    for field in fields:
        if field.system and field.key in read.columns:
            columns[field.key] = read.cells[field.key]
    found.sort(key=lambda item: (item[0], item[1]))
    return ParsedColumns(numbers, columns, distinct), [finding for _, _, finding in found]


def _within(field: Field, value: float) -> bool:
    return (field.minimum is None or value >= field.minimum) and (field.maximum is None or value <= field.maximum)
