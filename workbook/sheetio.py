"""Find a schema sheet in a workbook and read its rows by header label, in either language.

Tolerant by design: the header may sit lower than row 1, be in the other language, or miss a
column; what was found is described in SheetRead so that validation can say so once, instead
of reporting every cell below a moved header.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from .cells import BadValue, is_blank, parse_column
from .schema import LANGS, Field, SheetSchema

HEADER_SEARCH_ROWS = 10


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection meanwhile. Each full collection walks every container alive: with
    a university's 800,000 attendance rows read, collections took a third of validating its master.
    Reading creates no cycles; whatever others create is collected once this is over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class SheetRead:
    title: str | None  # the sheet's name in the file; None when the sheet is missing
    header_row: int = 1
    columns: dict[str, int] = field(default_factory=dict)  # field key -> 1-based column
    header_langs: set[str] = field(default_factory=set)
    unknown_headers: list[tuple[int, str]] = field(default_factory=list)
    missing: list[Field] = field(default_factory=list)
    # The rows read, by column: each row's number, and per field key (in the order of `columns`) the raw
    # value of each row. A university's attendance is 800,000 rows: columns, not a dict per row.
    numbers: list[int] = field(default_factory=list)
    cells: dict[str, list[Any]] = field(default_factory=dict)
    _fields: dict[str, Field] = field(default_factory=dict, repr=False)  # how to parse each column
    # The distinct values of columns as read (those of system fields are not gathered): parse them once.
    _distinct: dict[str, set[Any]] = field(default_factory=dict, repr=False)

    def set_column(self, key: str, values: list[Any]) -> None:
        """A column's raw values replaced (a check completed them: checks/yearless.py); its distinct values go."""
        self.cells[key] = values
        self._distinct.pop(key, None)

    def distinct(self, key: str) -> set[Any] | None:
        """The distinct raw values of a column, when reading gathered them."""
        return self._distinct.get(key)

    @property
    def rows(self) -> list[tuple[int, dict[str, Any]]]:
        """(row number, key -> raw) for each row read."""
        return _row_dicts(self.numbers, self.cells)

    @property
    def records(self) -> list[dict[str, Any]]:
        """Parsed rows; a value that does not parse is kept as it was, so nothing is lost on rewrite."""
        with paused_gc():  # a dict for each of 800,000 rows: no collection walks them all again and again
            return [record for _, record in self.parsed_rows()]

    def parsed_rows(self):
        columns = {}
        for key, raw in self.cells.items():
            spec = self._fields.get(key)
            if spec is None:
                columns[key] = raw
                continue
            values, results = parse_column(spec, raw, self.distinct(key))
            if any(isinstance(result, BadValue) for result in results):
                values = [kept if isinstance(value, BadValue) else value for value, kept in zip(values, raw)]
            columns[key] = values
        yield from _row_dicts(self.numbers, columns)


def _row_dicts(numbers: list[int], columns: dict[str, list[Any]]) -> list[tuple[int, dict[str, Any]]]:
    keys = list(columns)
    if not keys:
        return [(number, {}) for number in numbers]
    return [(number, dict(zip(keys, values))) for number, values in zip(numbers, zip(*columns.values()))]


def find_sheet(sheets, names: dict[str, str] | dict[str, tuple[str, ...]]):
    """The sheet among `sheets` named in either language, or None. `names`: a name per language, or the names
    read per language (a schema sheet's names_read: its former names too)."""
    wanted = {name.strip().casefold() for named in names.values()
              for name in ((named,) if isinstance(named, str) else named)}
    for ws in sheets:
        if ws.title.strip().casefold() in wanted:
            return ws
    return None


def _label_index(fields: tuple[Field, ...]) -> dict[str, tuple[str, str]]:
    index = {}
    for item in fields:
        index[item.key.casefold()] = (item.key, "key")
        for lang in LANGS:
            for former in item.former.get(lang, ()):  # a header written before a rename (schema._former)
                index[former.strip().casefold()] = (item.key, lang)
            index[item.label(lang).strip().casefold()] = (item.key, lang)
    return index


def _match_header(values: tuple[Any, ...], index: dict[str, tuple[str, str]]) -> int:
    return sum(1 for v in values if isinstance(v, str) and v.strip().casefold() in index)


def _all_rows(ws) -> tuple[list, Any]:
    """Every row of a sheet, and what its empty cells hold when that is not None."""
    if hasattr(ws, "raw_rows"):
        return ws.raw_rows()
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # files from other programs declare wrong dimensions (docs/hazards.md 11)
    return list(ws.iter_rows(values_only=True)), None


def _blank_rows(columns: list[list[Any]], count: int, first_distinct: set[Any] | None) -> list[int]:
    """Positions of the rows blank in every column."""
    if not columns:
        return list(range(count))
    first = columns[0]
    blanks = {value for value in (set(first) if first_distinct is None else first_distinct) if is_blank(value)}
    if not blanks:
        return []
    found = [index for index, value in enumerate(first) if value in blanks]
    for column in columns[1:]:
        if not found:
            break
        found = [index for index in found if is_blank(column[index])]
    return found


def read_table(ws, fields: tuple[Field, ...]) -> SheetRead:
    """Read a sheet laid out as one header row and one record per row."""
    with paused_gc():
        return _read_table(ws, fields)


def _read_table(ws, fields: tuple[Field, ...]) -> SheetRead:
    result = SheetRead(title=ws.title, _fields={f.key: f for f in fields})
    index = _label_index(fields)
    rows, empty = _all_rows(ws)
    head = rows[:HEADER_SEARCH_ROWS]
    best = max(range(len(head)), key=lambda i: _match_header(head[i], index), default=0)
    if not head or _match_header(head[best], index) == 0:
        result.missing = list(fields)
        return result
    result.header_row = best + 1
    for column, value in enumerate(head[best], start=1):
        if is_blank(value):
            continue
        hit = index.get(str(value).strip().casefold())
        if hit is None or hit[0] in result.columns:
            result.unknown_headers.append((column, str(value)))
            continue
        result.columns[hit[0]] = column
        result.header_langs.add(hit[1])
    result.missing = [f for f in fields if f.key not in result.columns]
    body = rows[best + 1:]
    del rows
    columns = []
    for key, column in result.columns.items():
        at = column - 1
        try:
            values = list(map(itemgetter(at), body))
        except IndexError:  # rows of unequal length (openpyxl, xlwings)
            values = [row[at] if at < len(row) else None for row in body]
        # A system column (a fingerprint for each row) is not worth its distinct values.
        distinct = None if result._fields[key].system else _distinct(values)
        if empty is not None and (empty in values if distinct is None else empty in distinct):
            values = [None if value == empty else value for value in values]
            distinct = None if distinct is None else {None if value == empty else value for value in distinct}
        columns.append(values)
        if distinct is not None:
            result._distinct[key] = distinct
    numbers = list(range(best + 2, best + 2 + len(body)))
    del body
    blank = _blank_rows(columns, len(numbers), result.distinct(next(iter(result.columns))))
    if blank:
        drop = set(blank)
        numbers = [number for at, number in enumerate(numbers) if at not in drop]
        columns = [[value for at, value in enumerate(values) if at not in drop] for values in columns]
        result._distinct.clear()  # they held the blank rows' values too
    result.numbers = numbers
    result.cells = dict(zip(result.columns, columns))
    return result


def _distinct(values: list[Any]) -> set[Any] | None:
    try:
        return set(values)
    except TypeError:  # an unhashable value (never from a file)
        return None


def read_sheet_records(sheets, sheet: SheetSchema) -> SheetRead:
    ws = find_sheet(sheets, sheet.names_read())
    if ws is None:
        return SheetRead(title=None, missing=list(sheet.fields), _fields={f.key: f for f in sheet.fields})
    return read_table(ws, sheet.fields)


@dataclass
class ValuesSheet:
    """A sheet given as its values (from xlwings, or built in memory): what the readers need of one."""

    title: str
    values: list[list[Any]]
    sheet_state: str = "visible"

    def iter_rows(self, min_row: int = 1, values_only: bool = True):
        for row in self.values[min_row - 1:]:
            yield tuple(row)

    def raw_rows(self) -> tuple[list[list[Any]], Any]:
        return self.values, None


def records_of(sheets, schemas) -> dict[str, list[dict[str, Any]]]:
    """Every schema sheet's records from a master's sheets, parsed (a value that does not parse is kept)."""
    sheets = list(sheets)
    with paused_gc():
        return {sheet.key: read_sheet_records(sheets, sheet).records for sheet in schemas.master}
