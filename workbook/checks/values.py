"""Each cell against its field: required, type, allowed codes, range. Returns the parsed rows too,
so later checks work on values, not on raw cells."""
from __future__ import annotations

from typing import Any

from ..cells import BadValue, column_letter, parse
from ..findings import Finding
from ..schema import Field
from ..sheetio import SheetRead

ParsedRow = tuple[int, dict[str, Any]]


def value_finding(code: str, read_title: str, row: int, column: int, field: Field, raw: Any, lang: str,
                  **params) -> Finding:
    if code == "enum" and field.codes is not None:
        params["choices"] = "/".join(field.codes.labels("zh"))
        params["choices_en"] = "/".join(field.codes.labels("en"))
    if code == "type":
        params["type"] = field.type
    return Finding(code, sheet=read_title, row=row, column=column_letter(column),
                   column_label=field.label(lang), value=raw, params=params)


def check_values(read: SheetRead, fields: tuple[Field, ...], lang: str) -> tuple[list[ParsedRow], list[Finding]]:
    parsed: list[ParsedRow] = []
    findings: list[Finding] = []
    present = [(f, read.columns[f.key]) for f in fields if f.key in read.columns and not f.system]
    for number, raw in read.rows:
        record: dict[str, Any] = {}
        for field, column in present:
            value = raw.get(field.key)
            try:
                record[field.key] = parsed_value = parse(field, value)
            except BadValue as bad:
                findings.append(value_finding(bad.kind, read.title, number, column, field, value, lang))
                record[field.key] = None
                continue
            if parsed_value is None:
                if field.required:
                    findings.append(value_finding("required", read.title, number, column, field, value, lang))
            elif field.type in ("number", "integer") and not _within(field, parsed_value):
                findings.append(value_finding("range", read.title, number, column, field, value, lang,
                                              minimum=field.minimum, maximum=field.maximum))
        for field in fields:
            if field.system and field.key in read.columns:
                record[field.key] = raw.get(field.key)
        parsed.append((number, record))
    return parsed, findings


def _within(field: Field, value: float) -> bool:
    return (field.minimum is None or value >= field.minimum) and (field.maximum is None or value <= field.maximum)
