"""Write a branch's weekly return (支部周报) from the return layout in schemas/returns.yaml."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from . import ids, layout, print_setup
from .cells import DATE_FORMAT, as_day, put, timestamp_text, to_cell
from .checks.makeup import MAKES_UP
from .i18n import LANGS, Domain
from .live_checks import add_live_checks
from .membership import away_all_week, group_form
from .offered_sessions import (
    CHOICES_COLUMN,
    COLLEGE_FIELD,
    MISSED_FIELD,
    PAIRS_COLUMN,
    college_text,
    makeup_choices,
    missed_pairs,
    missed_text,
)
from .provenance import roster_checksum
from .schema import SESSION_NO_CODES, Field, ReturnSheet, Schemas, load_schemas, session_numbers
from .seal import Seal
from .texts import guide_lines

say = Domain("workbook")

UNLOCKED = Protection(locked=False)
WRAPPED = Alignment(wrap_text=True)
GRID_FIRST_COLUMN = 3  # member id, name, then one column per session number


@dataclass(frozen=True)
class ReturnSpec:
    """What one return is for."""

    branch_id: str
    branch_name: str
    week: int
    start: date
    end: date
    roster: list[dict[str, Any]]
    # The week's phase (its ordinal, Campaign.ordinal_on the first day): the return carries that phase's sheets
    # only (schemas/returns.yaml `phases`); None: every sheet.
    phase: int | None = None
    sessions: int | None = None  # the attendance grid's columns S1.. at least (returns --sessions); None: as the roster says
    # Who missed each earlier session the branch may make up (offered_sessions.missed_before): a 补学 expects them.
    missed: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    # The college's sessions of the week (offered_sessions.college_sessions): listed first in 学习活动, greyed and
    # not to be changed, each with a grid column headed by its 活动编号: the secretary marks attendance only.
    college: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def college_ids(self) -> tuple[str, ...]:
        return tuple(str(session["session_id"]) for session in self.college)


def session_count(spec: ReturnSpec, schemas: Schemas) -> int:
    """How many session numbers the return offers: `sessions_per_week`, and `sessions_per_party_group` more for each
    党小组 on its roster, which may each meet on its own (schemas/returns.yaml); or more, as the spec asks (a branch
    that holds more sessions in a week)."""
    groups = {group_form(member.get("party_group")) for member in spec.roster} - {""}
    layout = schemas.returns
    return max(spec.sessions or 0, layout.sessions_per_week + layout.sessions_per_party_group * len(groups))


def return_file_name(branch_name: str, week: int, lang: str) -> str:
    return say(lang, "{branch}_week{week}.xlsx", branch=branch_name, week=week)


def _header(ws: Worksheet, fields: list[Field], lang: str) -> None:
    for column, field in enumerate(fields, start=1):
        cell = ws.cell(row=1, column=column, value=field.label(lang))
        layout.style_header(cell)
    layout.set_widths(ws, fields, lang)
    ws.freeze_panes = "A2"


def _protect(ws: Worksheet, password: str) -> None:
    ws.protection.sheet = True
    ws.protection.password = password
    # Secretaries may still resize and format; they may not change locked cells or structure.
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _guide(ws: Worksheet, sheet: ReturnSheet, spec: ReturnSpec, lang: str, schemas: Schemas) -> None:
    lines = guide_lines(lang, schemas, branch=spec.branch_name, week=spec.week, start=spec.start, end=spec.end,
                        sessions=session_count(spec, schemas), college=bool(spec.college), phase=spec.phase)
    ws.column_dimensions["A"].width = 110
    for row, line in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if row == 1:
            cell.font = Font(bold=True, size=14, color="B22222")
    _protect(ws, schemas.returns.password)  # nothing to type here; the 填报检查 formulas stay whole


def _roster(ws: Worksheet, sheet: ReturnSheet, spec: ReturnSpec, lang: str, schemas: Schemas) -> None:
    fields = list(sheet.fields)
    _header(ws, fields, lang)
    for row, member in enumerate(spec.roster, start=2):
        for column, field in enumerate(fields, start=1):
            cell = ws.cell(row=row, column=column)
            put(cell, to_cell(field, member.get(field.key), lang))
            cell.fill = layout.LOCKED_FILL
    _protect(ws, schemas.returns.password)


ROSTER_IDS = "list_roster"  # the defined name (名称) of the roster's member ids, which drop-downs list
MAKEUP_CHOICES = "list_makeup"  # and of the sessions 补学活动 may name (offered_sessions.makeup_choices)


def _makeup_choices(spec: ReturnSpec, schemas: Schemas) -> list[str]:
    return makeup_choices(session_numbers(session_count(spec, schemas), spec.college_ids).labels("zh"), spec.missed)


def _define_roster_ids(wb: Workbook, spec: ReturnSpec, lang: str, schemas: Schemas) -> None:
    name = quote_sheetname(schemas.returns.sheet("roster").name(lang))
    wb.defined_names[ROSTER_IDS] = DefinedName(ROSTER_IDS, attr_text=f"{name}!$A$2:$A${max(len(spec.roster) + 1, 2)}")
    meta = quote_sheetname(next(s for s in schemas.returns.sheets if s.kind == "meta").name(lang))
    last = len(_makeup_choices(spec, schemas))
    wb.defined_names[MAKEUP_CHOICES] = DefinedName(MAKEUP_CHOICES,
                                                   attr_text=f"{meta}!${CHOICES_COLUMN}$1:${CHOICES_COLUMN}${last}")


def _college_rows(ws: Worksheet, fields: list[Field], spec: ReturnSpec, lang: str) -> int:
    """The college's sessions of the week, pre-filled in 学习活动's first rows, grey; a typed change is refused
    (a data validation: protecting the sheet would stop her sorting it and the Validate button marking it in
    xlwings Lite). Returns the first row left for the branch's own sessions."""
    for row, session in enumerate(spec.college, start=2):
        for column, field in enumerate(fields, start=1):
            cell = ws.cell(row=row, column=column)
            if field.key == "session_no":  # its 活动编号 in the master, which heads its column in the grid
                put(cell, session["session_id"])
            else:
                value = session.get(field.key)
                put(cell, to_cell(field, as_day(value) if field.type == "date" else value, lang))
            cell.fill = layout.LOCKED_FILL
            if field.type == "date":
                cell.number_format = DATE_FORMAT
    first = len(spec.college) + 2
    if spec.college:
        kept = DataValidation(type="custom", formula1="FALSE", allow_blank=False, showErrorMessage=True,
                              errorTitle=say(lang, "A college session"),
                              error=say(lang, "The college office entered this session: do not change it. Mark your "
                                              "members' attendance in its column in Attendance."))
        kept.add(f"A2:{get_column_letter(len(fields))}{first - 1}")
        ws.add_data_validation(kept)
    return first


def _records(ws: Worksheet, sheet: ReturnSheet, spec: ReturnSpec, lang: str, schemas: Schemas) -> None:
    fields = list(sheet.fields)
    _header(ws, fields, lang)
    last_row = schemas.returns.rows_per_sheet + 1
    first_row = _college_rows(ws, fields, spec, lang) if sheet.key == "sessions" else 2
    for column, field in enumerate(fields, start=1):
        source = ROSTER_IDS if field.key == "member_id" else None
        if field.codes is not None and field.codes.key == SESSION_NO_CODES:  # the numbers of this return's grid
            field = replace(field, codes=session_numbers(session_count(spec, schemas)))
        bounds = (spec.start, spec.end) if field.key in sheet.date_within_week else None
        dv = layout.validation_for(field, lang, list_source=source, date_bounds=bounds)
        if field.key == MAKES_UP:
            # A drop-down of the sessions the branch may make up; another typed is warned of, not stopped: a week
            # merged after the template was made is not listed, and the merge decides (checks/makeup.py).
            dv = DataValidation(type="list", formula1=MAKEUP_CHOICES, allow_blank=True, showErrorMessage=True,
                                errorStyle="warning", errorTitle=say(lang, "Session made up"),
                                error=say(lang, "This is not a session this branch can make up: choose one from the "
                                                "list (this week's S1, S2, … or an earlier session's ID)."))
        letter = get_column_letter(column)
        if dv is not None:
            dv.add(f"{letter}{first_row}:{letter}{last_row}")
            ws.add_data_validation(dv)
        if field.type == "date":
            for row in range(first_row, last_row + 1):
                ws.cell(row=row, column=column).number_format = DATE_FORMAT
        elif field.wrap:  # long text wraps as she types, and prints whole (docs/design.md, "Printing")
            for row in range(first_row, last_row + 1):
                ws.cell(row=row, column=column).alignment = WRAPPED


def _grid(ws: Worksheet, sheet: ReturnSheet, spec: ReturnSpec, lang: str, schemas: Schemas) -> None:
    members = schemas.sheet("members")
    id_field, name_field = members.field("member_id"), members.field("name")
    numbers = session_numbers(session_count(spec, schemas), spec.college_ids).labels(lang)
    for column, text in enumerate([id_field.label(lang), name_field.label(lang), *numbers], start=1):
        layout.style_header(ws.cell(row=1, column=column, value=text))
        wide = column < GRID_FIRST_COLUMN or text in spec.college_ids  # an ID: ALL-W04-S1
        ws.column_dimensions[get_column_letter(column)].width = 12 if wide else 9
    ws.freeze_panes = ws.cell(row=2, column=GRID_FIRST_COLUMN)
    last_column = get_column_letter(GRID_FIRST_COLUMN + len(numbers) - 1)
    for row, member in enumerate(spec.roster, start=2):
        for column, key in ((1, "member_id"), (2, "name")):
            cell = ws.cell(row=row, column=column, value=member[key])
            cell.fill = layout.LOCKED_FILL
        away = away_all_week(member, spec.start, spec.end)  # 请假(在外) ready in every session; editable
        for column in range(GRID_FIRST_COLUMN, GRID_FIRST_COLUMN + len(numbers)):
            cell = ws.cell(row=row, column=column)
            cell.protection = UNLOCKED
            if away:
                cell.value = sheet.codes.label("away", lang)
    status = Field("status", {lang: say(lang, "Attendance") for lang in LANGS}, "enum", codes=sheet.codes)
    dv = layout.validation_for(status, lang)
    dv.add(f"{get_column_letter(GRID_FIRST_COLUMN)}2:{last_column}{max(len(spec.roster) + 1, 2)}")
    ws.add_data_validation(dv)
    _protect(ws, schemas.returns.password)


def _form(ws: Worksheet, sheet: ReturnSheet, spec: ReturnSpec, lang: str, schemas: Schemas) -> None:
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 90
    for row, field in enumerate(sheet.fields, start=1):
        layout.style_header(ws.cell(row=row, column=1, value=field.label(lang)))
        cell = ws.cell(row=row, column=2)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 120


def _meta(ws: Worksheet, sheet: ReturnSheet, spec: ReturnSpec, lang: str, schemas: Schemas,
          seal: Seal | None = None) -> None:
    values = {
        "branch_id": spec.branch_id, "branch_name": spec.branch_name, "week": spec.week,
        "week_start": spec.start, "week_end": spec.end, "phase": spec.phase,
        "template_version": schemas.returns.template_version,
        "roster_checksum": roster_checksum(spec.roster),
        "generated_at": timestamp_text(datetime.now()),
        MISSED_FIELD: missed_text(spec.missed),
        COLLEGE_FIELD: college_text(spec.college),
    }
    # Sealed with HOME's key: an edited week or branch is refused at intake (workbook/seal.py).
    values["home_id"] = seal.home_id if seal else None
    values["seal"] = seal.sign(values) if seal else None
    for row, field in enumerate(sheet.fields, start=1):
        ws.cell(row=row, column=1, value=field.key)
        put(ws.cell(row=row, column=2), values[field.key])
        ws.cell(row=row, column=3, value=field.label(lang))
        if field.type == "date":
            ws.cell(row=row, column=2).number_format = DATE_FORMAT
    for row, pair in enumerate(missed_pairs(spec.missed), start=1):  # the 填报检查 looks them up (live_checks.py)
        ws[f"{PAIRS_COLUMN}{row}"] = pair
    for row, session in enumerate(_makeup_choices(spec, schemas), start=1):  # 补学活动's drop-down lists them
        ws[f"{CHOICES_COLUMN}{row}"] = session
    ws.sheet_state = "veryHidden"  # not even Format > Unhide shows it
    _protect(ws, schemas.returns.password)


def _print(ws: Worksheet, sheet: ReturnSheet, spec: ReturnSpec, lang: str, schemas: Schemas) -> None:
    """A4, one page wide; the tables' header repeated on every page and given filter buttons (print_setup)."""
    rows = {"roster": len(spec.roster), "grid": len(spec.roster), "records": schemas.returns.rows_per_sheet}.get(sheet.kind)
    if rows is None:  # prose: the guide and the summary
        print_setup.apply_openpyxl(ws, lang, title_rows=0)
    else:
        print_setup.apply_openpyxl(ws, lang, title_rows=1, filter_rows=max(rows, 1))


_PAINTERS = {"guide": _guide, "roster": _roster, "records": _records, "grid": _grid, "form": _form}


def write_return(path: Path, spec: ReturnSpec, lang: str = "zh", schemas: Schemas | None = None,
                 seal: Seal | None = None) -> Path:
    return_workbook(spec, lang, schemas, seal).save(path)
    return path


def return_workbook(spec: ReturnSpec, lang: str = "zh", schemas: Schemas | None = None,
                    seal: Seal | None = None) -> Workbook:
    """The return as write_return saves it."""
    schemas = schemas or load_schemas()
    # Everything below (guide, live checks) sees the phase's sheets only.
    schemas = dataclasses.replace(schemas, returns=schemas.returns.for_phase(spec.phase))
    wb = Workbook()
    wb.remove(wb.active)
    _define_roster_ids(wb, spec, lang, schemas)
    for sheet in schemas.returns.sheets:
        ws = wb.create_sheet(sheet.name(lang))
        if sheet.kind == "meta":
            _meta(ws, sheet, spec, lang, schemas, seal)
        else:
            _PAINTERS[sheet.kind](ws, sheet, spec, lang, schemas)
            _print(ws, sheet, spec, lang, schemas)
    add_live_checks(wb, schemas, lang, (spec.start, spec.end), len(spec.roster),
                    session_count(spec, schemas) + len(spec.college), ids.return_id(spec.branch_id, spec.week),
                    college_rows=len(spec.college), missed_pairs=len(missed_pairs(spec.missed)))  # 填报检查 on the guide
    wb.active = 0
    return wb
