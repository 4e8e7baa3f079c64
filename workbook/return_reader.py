"""Read a filled branch return into its parts: metadata, roster, records, attendance grid, summary."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .cells import is_blank
from .offered_sessions import college_listed
from .schema import ReturnSheet, Schemas, session_numbers
from .sheetio import SheetRead, find_sheet, read_table


@dataclass
class GridRead:
    title: str | None
    header_row: int = 1
    session_columns: dict[str, int] = field(default_factory=dict)  # S1 -> column
    rows: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)  # (row, member id, S -> raw)

    def offered(self, default: int) -> int:
        """The highest session number the grid has a column for (S12: 12); `default` for a grid not read."""
        return max((int(number[1:]) for number in self.session_columns if number[1:].isdigit()), default=default)


@dataclass
class ReturnRead:
    titles: list[str]
    meta: dict[str, Any] | None
    tables: dict[str, SheetRead]  # roster and the record sheets, by return-sheet key
    grid: GridRead
    form: dict[str, Any]
    sheets: dict[str, ReturnSheet]

    @property
    def roster_ids(self) -> set[str]:
        return {str(r["member_id"]) for r in self.tables["roster"].records if r.get("member_id")}


RETURN_ONLY_KINDS = ("meta", "roster", "guide", "form")


def is_return(sheets, schemas: Schemas) -> bool:
    """A return has sheets a master never has; any one of them will do (the metadata may be lost)."""
    sheets = list(sheets)
    return any(find_sheet(sheets, s.names_read()) is not None for s in schemas.returns.sheets if s.kind in RETURN_ONLY_KINDS)


def _read_meta(ws) -> dict[str, Any]:
    return {str(row[0]): row[1] for row in ws.iter_rows(values_only=True) if row and row[0]}


def _read_grid(ws, schemas: Schemas, college: tuple[str, ...]) -> GridRead:
    """Every column headed by a session number, however many the template made (S1..S8 before, more for a branch
    studying in 党小组: return_template.session_count), or by a college session's 活动编号 that `_元数据` lists."""
    numbers = session_numbers(0, college)
    grid = GridRead(title=ws.title)
    rows = list(ws.iter_rows(values_only=True))
    for index, row in enumerate(rows[:10]):
        found = {numbers.parse(v): c for c, v in enumerate(row, 1) if isinstance(v, str) and numbers.parse(v)}
        if found:
            grid.header_row = index + 1
            grid.session_columns = found
            break
    for number, row in enumerate(rows[grid.header_row:], start=grid.header_row + 1):
        if not row or is_blank(row[0]):
            continue
        member = str(row[0]).strip()
        cells = {s: (row[c - 1] if c - 1 < len(row) else None) for s, c in grid.session_columns.items()}
        grid.rows.append((number, member, cells))
    return grid


def _read_form(ws, sheet: ReturnSheet) -> dict[str, Any]:
    labels = {label.strip(): f.key for f in sheet.fields for label in (*f.labels.values(), *f.former_labels(), f.key)}
    values = {}
    for row in ws.iter_rows(values_only=True):
        if row and isinstance(row[0], str) and row[0].strip() in labels:
            values[labels[row[0].strip()]] = row[1] if len(row) > 1 else None
    return values


def read_return(sheets, schemas: Schemas) -> ReturnRead:
    """Read what is there; what is missing or misplaced is left for validation to report."""
    sheets = list(sheets)
    tables: dict[str, SheetRead] = {}
    meta, form, grid = None, {}, GridRead(title=None)
    # The metadata first: it names the college's sessions, whose grid columns are read with the numbers'.
    ordered = sorted(schemas.returns.sheets, key=lambda sheet: sheet.kind != "meta")
    for sheet in ordered:
        ws = find_sheet(sheets, sheet.names_read())
        if sheet.kind in ("roster", "records"):
            tables[sheet.key] = read_table(ws, sheet.fields) if ws is not None else SheetRead(
                title=None, missing=list(sheet.fields), _fields={f.key: f for f in sheet.fields})
        elif ws is None:
            continue
        elif sheet.kind == "meta":
            meta = _read_meta(ws)
        elif sheet.kind == "grid":
            grid = _read_grid(ws, schemas, college_listed(meta))
        elif sheet.kind == "form":
            form = _read_form(ws, sheet)
    return ReturnRead([ws.title for ws in sheets], meta, tables, grid, form,
                      {s.key: s for s in schemas.returns.sheets})
