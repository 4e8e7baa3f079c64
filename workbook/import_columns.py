"""Which sheet of an office's roster file is members, branches or committee, and which of its columns is
which field: by header, with the names people use (schemas/import.yaml), the master's labels, and the
user's own mapping first (`--map 手机号码=联系方式`)."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from .errors import UserError
from .import_source import SourceSheet
from .schema import LANGS, Schemas, SheetSchema

TARGETS = ("phases", "committee", "branches", "members")  # in the order imported: members refer to branches, branches to the committee
HEADER_ROWS = 10  # the header may sit below a title row or two


def normal(text: Any) -> str:
    """A header or value as compared: no spaces (full-width ones too), case folded."""
    return re.sub(r"[\s\u3000]+", "", str(text)).casefold()


@functools.cache
def import_rules() -> dict[str, Any]:
    return yaml.safe_load(resources.files("branchbook.schemas").joinpath("import.yaml").read_text(encoding="utf-8"))


@functools.cache
def _left_out() -> frozenset[str]:
    return frozenset(normal(header) for header in import_rules()["left_out"])


def value_aliases(codes_key: str) -> dict[str, str]:
    return {normal(k): v for k, v in (import_rules()["values"].get(codes_key) or {}).items()}


def _names(sheet: SheetSchema) -> dict[str, list[str]]:
    """Header text -> the fields it may name, for one target sheet."""
    names: dict[str, list[str]] = {}
    aliases = import_rules()["sheets"][sheet.key]["fields"]
    for item in sheet.fields:
        for text in [*aliases.get(item.key, []), item.key, *(item.label(lang) for lang in LANGS), *item.former_labels()]:
            fields = names.setdefault(normal(text), [])
            if item.key not in fields:
                fields.append(item.key)
    return names


@dataclass
class Mapping:
    """The user's own `header=field` pairs; a field given by its key or its label in either language."""

    pairs: dict[str, str] = field(default_factory=dict)  # normal(header) -> field key or label

    @classmethod
    def parse(cls, items: list[str] | None) -> Mapping:
        pairs = {}
        for item in items or ():
            header, sep, target = item.partition("=")
            if not sep or not header.strip():
                raise UserError("bad-mapping", item=item)
            pairs[normal(header)] = target.strip()
        return cls(pairs)

    def field_for(self, sheet: SheetSchema, header: str) -> str | None:
        """The field the user named for this header in this sheet; "" to leave the column out; None if not named."""
        target = self.pairs.get(normal(header))
        if target is None:
            return None
        if not target:
            return ""
        for item in sheet.fields:
            if normal(target) in {normal(item.key), *(normal(item.label(lang)) for lang in LANGS)}:
                return item.key
        return None  # names a field of another sheet: not this one's


@dataclass
class Columns:
    """A source sheet read as one target: its header row and, for each field found, its column."""

    source: SourceSheet
    target: SheetSchema
    header_row: int  # 1-based
    columns: dict[str, int]  # field key -> 0-based column
    unused: list[tuple[int, str]]  # (0-based column, header) of the headers that name no field: not imported
    choices: dict[int, list[str]] = field(default_factory=dict)  # column -> fields it may be (decided by values)

    @property
    def body(self) -> list[tuple[int, list[Any]]]:
        """(row number, cells) of each row below the header with anything in it."""
        return [(number, row) for number, row in enumerate(self.source.rows[self.header_row:], start=self.header_row + 1)
                if any(value is not None for value in row)]

    def header(self, key: str) -> str:
        return str(self.source.rows[self.header_row - 1][self.columns[key]])


def _match_row(row: list[Any], sheet: SheetSchema, mapping: Mapping) -> tuple[dict[int, list[str]], list[tuple[int, str]]]:
    names = _names(sheet)
    found: dict[int, list[str]] = {}
    unused = []
    for column, value in enumerate(row):
        if value is None:
            continue
        own = mapping.field_for(sheet, str(value))
        if own == "" or (own is None and normal(value) in _left_out()):
            continue  # left out by the user, or a column (序号, 备注) that every roster has and the ledger keeps not
        fields = [own] if own else names.get(normal(value), [])
        if fields:
            found[column] = fields
        else:
            unused.append((column, str(value)))
    return found, unused


def read_columns(source: SourceSheet, sheet: SheetSchema, mapping: Mapping) -> Columns:
    """The best header row of the first rows for this target, and its columns (a field named twice: the first)."""
    head = source.rows[:HEADER_ROWS]
    scored = [(len(_match_row(row, sheet, mapping)[0]), index) for index, row in enumerate(head)]
    best = max(scored, key=lambda item: (item[0], -item[1]), default=(0, 0))[1]
    found, unused = _match_row(head[best] if head else [], sheet, mapping)
    columns: dict[str, int] = {}
    choices = {}
    # Headers that name one field first; a header that may name two takes what they left.
    for column, fields in sorted(found.items(), key=lambda item: (len(item[1]) > 1, item[0])):
        free = [key for key in fields if key not in columns]
        if not free:
            unused.append((column, str(head[best][column])))
            continue
        if len(free) > 1:
            choices[column] = free
        columns[free[0]] = column
    return Columns(source, sheet, best + 1, columns, unused, choices)


def decide_by_values(columns: Columns, parse_as) -> None:
    """A header that may name two fields (党员类别: 正式/预备, or 学生/教工) goes to the one whose values parse;
    `parse_as(field, raw)` is True when the raw value fits the field."""
    for column, fields in columns.choices.items():
        values = [row[column] for _, row in columns.body if column < len(row) and row[column] is not None]
        fitting = {key: sum(parse_as(columns.target.field(key), value) for value in values) for key in fields}
        wanted = max(fields, key=lambda key: fitting[key])
        current = next(key for key, at in columns.columns.items() if at == column)
        if wanted != current and wanted not in columns.columns:
            del columns.columns[current]
            columns.columns[wanted] = column


def _sheet_named(title: str, schemas: Schemas) -> str | None:
    wanted = normal(title)
    for key in TARGETS:
        sheet = schemas.sheet(key)
        if wanted in {normal(n) for n in [*import_rules()["sheets"][key]["names"], *sheet.names.values()]}:
            return key
    return None


def _required_found(columns: Columns) -> int:
    return sum(1 for item in columns.target.fields if item.required and item.key in columns.columns)


def assign_sheets(sources: list[SourceSheet], schemas: Schemas, mapping: Mapping) -> dict[str, Columns]:
    """Each target read from the source sheet named for it, else from the sheet whose headers fit it best
    (most required fields found, then most fields). A sheet needs a name column to be taken at all."""
    chosen: dict[str, Columns] = {}
    taken: set[int] = set()
    for index, source in enumerate(sources):
        key = _sheet_named(source.title, schemas)
        if key and key not in chosen:
            chosen[key] = read_columns(source, schemas.sheet(key), mapping)
            taken.add(index)
    candidates = []
    for index, source in enumerate(sources):
        if index in taken:
            continue
        for key in TARGETS:
            if key in chosen:
                continue
            columns = read_columns(source, schemas.sheet(key), mapping)
            if "name" in columns.columns:
                candidates.append(((_required_found(columns), len(columns.columns)), index, key, columns))
    for _, index, key, columns in sorted(candidates, key=lambda c: c[0], reverse=True):
        if key not in chosen and index not in taken:
            chosen[key] = columns
            taken.add(index)
    return {key: chosen[key] for key in TARGETS if key in chosen}

