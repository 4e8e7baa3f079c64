"""Write the master workbook (台账) from records, and read its records back.

The master is a projection of its records: every write builds the whole file anew from the
schema, so what BranchBook writes is always complete (tables, validations, styles) and no
openpyxl round trip can drop a part of it (HAZARDS 10).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from . import layout
from .cells import to_cell
from .schema import Schemas, SheetSchema, load_schemas
from .sheetio import read_sheet_records
from .texts import readme_lines

Records = list[dict[str, Any]]
# Extra sheets (the dashboard) are drawn by a callback, so that this module knows nothing of reports.
SheetPainter = Callable[[Workbook, Mapping[str, Records], str], None]

_FOREIGN_LIST_SHEETS = {"branch_id": ("branches", "branch_id"), "liaison_id": ("committee", "committee_id")}


def _list_source(schemas: Schemas, sheet_key: str, lang: str, column: int) -> str:
    name = quote_sheetname(schemas.sheet(sheet_key).name(lang))
    letter = get_column_letter(column)
    return f"{name}!${letter}$2:${letter}$2000"


def _write_table_sheet(wb: Workbook, sheet: SheetSchema, rows: Sequence[Mapping[str, Any]], lang: str,
                       schemas: Schemas) -> None:
    ws = wb.create_sheet(sheet.name(lang))
    fields = list(sheet.fields)
    layout.set_widths(ws, fields, lang)
    ws.freeze_panes = "A2"
    last_column = get_column_letter(len(fields))
    for index, field in enumerate(fields, start=1):
        source = None
        if field.key in _FOREIGN_LIST_SHEETS and sheet.key != _FOREIGN_LIST_SHEETS[field.key][0]:
            target_sheet, target_field = _FOREIGN_LIST_SHEETS[field.key]
            target_column = schemas.sheet(target_sheet).keys.index(target_field) + 1
            source = _list_source(schemas, target_sheet, lang, target_column)
        if field.system:
            continue
        dv = layout.validation_for(field, lang, list_source=source)
        if dv is not None:
            letter = get_column_letter(index)
            dv.add(f"{letter}2:{letter}{layout.MASTER_VALIDATED_ROWS}")
            ws.data_validations.append(dv)
    ws.append([layout.header_cell(ws, field.label(lang), field.system) for field in fields])
    for values in row_values(fields, rows, lang):
        ws.append([layout.body_cell(ws, value, field) for field, value in zip(fields, values)])
    table = Table(
        displayName=f"tbl_{sheet.key}",
        ref=f"A1:{last_column}{max(len(rows) + 1, 2)}",
        tableStyleInfo=TableStyleInfo(name="TableStyleLight9", showRowStripes=True),
    )
    table.tableColumns = [TableColumn(id=i, name=f.label(lang)) for i, f in enumerate(fields, start=1)]
    with warnings.catch_warnings():
        # We add the columns ourselves just above, which is what this warning asks for.
        warnings.filterwarnings("ignore", message="In write-only mode you must add table columns manually")
        ws.add_table(table)


def row_values(fields, rows: Sequence[Mapping[str, Any]], lang: str):
    """Each record as the values its row shows: codes as labels in the workbook's language."""
    for record in rows:
        yield [to_cell(field, record.get(field.key), lang) for field in fields]


def sheet_values(sheet: SheetSchema, rows: Sequence[Mapping[str, Any]], lang: str) -> list[list[Any]]:
    """A whole sheet as values, header first: what the add-in writes into an open workbook."""
    return [[f.label(lang) for f in sheet.fields], *row_values(sheet.fields, rows, lang)]


def _write_readme(wb: Workbook, lang: str) -> None:
    ws = wb.create_sheet("说明" if lang == "zh" else "README")
    ws.column_dimensions["A"].width = 100
    for number, line in enumerate(readme_lines(lang)):
        ws.append([layout.header_cell(ws, line) if number == 0 else line])


def write_master(
    path: Path,
    tables: Mapping[str, Records],
    lang: str = "zh",
    schemas: Schemas | None = None,
    painters: Iterable[SheetPainter] = (),
) -> None:
    """Write a complete master to `path` (callers that replace a live master write to a temp path)."""
    schemas = schemas or load_schemas()
    wb = Workbook(write_only=True)
    _write_readme(wb, lang)
    for sheet in schemas.master:
        _write_table_sheet(wb, sheet, tables.get(sheet.key, []), lang, schemas)
    for paint in painters:
        paint(wb, tables, lang)
    wb.save(path)


def row_counts(path: Path, schemas: Schemas | None = None) -> dict[str, int]:
    """Data rows per schema sheet, by counting <row> elements in each sheet's XML: a cheap check that a
    master just written is whole. (Write-only sheets declare no true dimension, so max_row cannot tell.)"""
    import zipfile

    from .fastread import sheet_parts

    schemas = schemas or load_schemas()
    with zipfile.ZipFile(path) as archive:
        parts = sheet_parts(archive)
        counts = {}
        for sheet in schemas.master:
            name = sheet.name("zh") if sheet.name("zh") in parts else sheet.name("en")
            rows, tail = 0, b""
            with archive.open(parts[name]) as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    data = tail + chunk
                    rows += data.count(b"<row ")
                    tail = data[-4:]  # shorter than the tag: a split tag is counted once, in the next round
            counts[sheet.key] = rows - 1
        return counts


def read_master(path: Path, schemas: Schemas | None = None) -> dict[str, Records]:
    """Every schema sheet's records, parsed; see sheetio for how cells that do not parse are kept."""
    from .fastread import open_sheets

    schemas = schemas or load_schemas()
    sheets = open_sheets(path, limit_mb=schemas.rules["limits"]["max_master_mb"])
    return {sheet.key: read_sheet_records(sheets, sheet).records for sheet in schemas.master}
