"""Find a schema sheet in a workbook and read its rows by header label, in either language.

Tolerant by design: the header may sit lower than row 1, be in the other language, or miss a
column; what was found is described in SheetRead so that validation can say so once, instead
of reporting every cell below a moved header.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .cells import BadValue, is_blank, parse
from .schema import LANGS, Field, SheetSchema

HEADER_SEARCH_ROWS = 10


@dataclass
class SheetRead:
    title: str | None  # the sheet's name in the file; None when the sheet is missing
    header_row: int = 1
    columns: dict[str, int] = field(default_factory=dict)  # field key -> 1-based column
    header_langs: set[str] = field(default_factory=set)
    unknown_headers: list[tuple[int, str]] = field(default_factory=list)
    missing: list[Field] = field(default_factory=list)
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (row number, key -> raw)
    _fields: dict[str, Field] = field(default_factory=dict, repr=False)  # how to parse each column

    @property
    def records(self) -> list[dict[str, Any]]:
        """Parsed rows; a value that does not parse is kept as it was, so nothing is lost on rewrite."""
        return [record for _, record in self.parsed_rows()]

    def parsed_rows(self):
        for number, raw in self.rows:
            record = {}
            for key, value in raw.items():
                spec = self._fields.get(key)
                try:
                    record[key] = parse(spec, value) if spec else value
                except BadValue:
                    record[key] = value
            yield number, record


def find_sheet(sheets, names: dict[str, str]):
    """The sheet among `sheets` named in either language, or None."""
    wanted = {name.strip().casefold() for name in names.values()}
    for ws in sheets:
        if ws.title.strip().casefold() in wanted:
            return ws
    return None


def _label_index(fields: tuple[Field, ...]) -> dict[str, tuple[str, str]]:
    index = {}
    for item in fields:
        index[item.key.casefold()] = (item.key, "key")
        for lang in LANGS:
            index[item.label(lang).strip().casefold()] = (item.key, lang)
    return index


def _match_header(values: tuple[Any, ...], index: dict[str, tuple[str, str]]) -> int:
    return sum(1 for v in values if isinstance(v, str) and v.strip().casefold() in index)


def read_table(ws, fields: tuple[Field, ...]) -> SheetRead:
    """Read a sheet laid out as one header row and one record per row."""
    result = SheetRead(title=ws.title, _fields={f.key: f for f in fields})
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # files from other programs declare wrong dimensions (HAZARDS 11)
    index = _label_index(fields)
    rows = ws.iter_rows(values_only=True)
    head: list[tuple[Any, ...]] = []
    for row in rows:
        head.append(row)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
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
    wanted = list(result.columns.items())

    def take(number: int, row: tuple[Any, ...]) -> None:
        record = {key: (row[col - 1] if col - 1 < len(row) else None) for key, col in wanted}
        if not all(is_blank(v) for v in record.values()):
            result.rows.append((number, record))

    for number, row in enumerate(head[best + 1:], start=best + 2):
        take(number, row)
    for number, row in enumerate(rows, start=len(head) + 1):
        take(number, row)
    return result


def read_sheet_records(sheets, sheet: SheetSchema) -> SheetRead:
    ws = find_sheet(sheets, sheet.names)
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


def records_of(sheets, schemas) -> dict[str, list[dict[str, Any]]]:
    """Every schema sheet's records from a master's sheets, parsed (a value that does not parse is kept)."""
    sheets = list(sheets)
    return {sheet.key: read_sheet_records(sheets, sheet).records for sheet in schemas.master}
