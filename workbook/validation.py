"""Validate a master or a branch return against schemas/: one pass, every finding, a Report."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from . import ids
from .cells import as_day
from .checks.attendance import (
    check_credited_hours,
    check_daily_hours,
    check_grid,
    check_session_columns,
    check_session_groups,
    expected_members,
    makeup_targets,
    session_groups,
)
from .checks.empty import check_not_empty
from .checks.formulas import add_return_uncalculated
from .checks.inspections import check_fix_deadlines
from .checks.keys import check_duplicates, check_references
from .checks.makeup import check_makeup_members, check_makeup_numbers, makeup_sheets
from .checks.phase_records import check_phase_records
from .checks.return_meta import check_meta
from .checks.roster_ids import check_roster_members
from .checks.structure import book_language, check_headers, check_sheet_set
from .checks.values import ParsedColumns, ParsedRow, check_columns, check_values
from .checks.week import check_dates_in_week
from .checks.yearless import complete_dates
from .findings import Finding, Report
from .offered_sessions import college_listed, earlier_listed, missed_elsewhere
from .return_reader import ReturnRead, is_return, read_return
from .safe_open import size_limit_mb
from .schema import SESSION_NO_CODES, Field, Schemas, load_schemas, session_numbers
from .sheetio import find_sheet, paused_gc, read_table

# Sheets the master may hold besides the schema's: the readme and the dashboard.
MASTER_EXTRA_SHEETS = ({"zh": "说明", "en": "README"}, {"zh": "进度看板", "en": "Dashboard"})


def validate_master(sheets, lang: str = "zh", schemas: Schemas | None = None) -> Report:
    with paused_gc():
        return _validate_master(sheets, lang, schemas)


def _validate_master(sheets, lang: str, schemas: Schemas | None) -> Report:
    schemas = schemas or load_schemas()
    sheets = list(sheets)
    # A sheet added later (schema.SheetSchema.added_later) may be absent: a master written before it existed.
    findings: list[Finding] = list(check_sheet_set(
        [ws.title for ws in sheets], [s.names_read() for s in schemas.master if not s.added_later], lang,
        [*MASTER_EXTRA_SHEETS, *(s.names_read() for s in schemas.master if s.added_later)]))
    book_lang = book_language([ws.title for ws in sheets], [s.names_read() for s in schemas.master])
    # By column (ParsedColumns): a university's attendance is 800,000 rows.
    parsed: dict[str, ParsedColumns] = {}
    reads = {}
    stats = {}
    for sheet in schemas.master:
        ws = find_sheet(sheets, sheet.names_read())
        if ws is None:
            continue
        read = reads[sheet.key] = read_table(ws, sheet.fields)
        findings += check_headers(read, sheet.fields, lang, book_lang)
        rows, problems = check_columns(read, sheet.fields, lang)
        parsed[sheet.key] = rows
        findings += problems
        labels = {f.key: f.label(lang) for f in sheet.fields}
        findings += check_duplicates(read, rows, sheet.primary_key, lang, labels)
        stats[sheet.key] = len(rows)
    targets = {key: _values(rows, schemas.sheet(key).primary_key[0])
               for key, rows in parsed.items() if schemas.sheet(key).primary_key}
    names = {s.key: (s.name("zh"), s.name("en")) for s in schemas.master}
    # A name typed where its ID belongs (郑胜 in 联系委员 for C03): the message offers the ID.
    named = {key: _ids_by_name(rows, schemas.sheet(key).primary_key[0])
             for key, rows in parsed.items() if schemas.sheet(key).primary_key}
    for sheet in schemas.master:
        if sheet.key in reads:
            findings += check_references(reads[sheet.key], parsed[sheet.key], sheet, targets, names, lang, named)
    if "attendance" in reads and "sessions" in parsed:
        sessions = parsed["sessions"].columns
        hours = {session: hours for session, hours in zip(sessions.get("session_id", ()), sessions.get("hours", ()))
                 if session and hours}
        label = schemas.sheet("attendance").field("hours").label(lang)
        findings += check_credited_hours(reads["attendance"], parsed["attendance"], hours, label)
    return Report("master", findings, stats, sheet_order=[ws.title for ws in sheets]).tidy()


def _values(rows: ParsedColumns, key: str) -> set:
    """Every value of a field in the rows (None for a row without it)."""
    if key in rows.columns:
        return rows.values_of(key)
    return {None} if len(rows) else set()


def _ids_by_name(rows: ParsedColumns, key: str) -> dict[Any, Any]:
    """Each name of the rows (their `name` field) -> the row's ID, for names that name one row only."""
    if "name" not in rows.columns or key not in rows.columns:
        return {}
    pairs = [(name, value) for name, value in zip(rows.columns["name"], rows.columns[key]) if name and value]
    once = Counter(name for name, _ in pairs)
    return {name: value for name, value in pairs if once[name] == 1}


def _return_id(meta: dict[str, Any] | None) -> str | None:
    try:
        return ids.return_id(str(meta["branch_id"]), int(meta["week"])) if meta and meta.get("branch_id") else None
    except (TypeError, ValueError, OverflowError):
        return None  # a week the metadata check reports


def _week(meta: dict[str, Any] | None) -> tuple[date, date] | None:
    if not meta:
        return None
    start, end = as_day(meta.get("week_start")), as_day(meta.get("week_end"))
    return (start, end) if start and end else None


def _phase(meta: dict[str, Any] | None) -> int | None:
    """The return's phase ordinal, as its metadata names it (sealed: workbook/seal.py); None if it names none."""
    try:
        return int(meta["phase"]) if meta and meta.get("phase") not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None


def validate_return(sheets, lang: str = "zh", schemas: Schemas | None = None,
                    today: date | None = None) -> tuple[Report, ReturnRead, dict]:
    """The report, what was read, and the parsed rows per sheet key (used by the merge). A record dated after
    `today` (the day the file is received; by default the computer's) is a warning."""
    schemas = schemas or load_schemas()
    today = today or date.today()
    data = read_return(sheets, schemas)
    layout = schemas.returns
    # A missing metadata sheet is reported as meta-missing; a missing guide costs nothing. A sheet of another phase
    # than the return's (or of any phase but every one, in a return that names none: made before phases had sheets
    # of their own) may be absent, and is read when present (docs/domain.md, "Phases 2 and 3").
    phase = _phase(data.meta)
    expected = {s.key for s in layout.sheets if s.kind not in ("meta", "guide") and not s.optional
                and (not s.phases or phase in s.phases)}
    optional = [s.names_read() for s in layout.sheets if s.key not in expected]
    required = [s.names_read() for s in layout.sheets if s.key in expected]
    findings: list[Finding] = list(check_sheet_set(data.titles, required, lang, optional))
    book_lang = book_language(data.titles, [s.names_read() for s in layout.sheets])
    parsed: dict[str, list[ParsedRow]] = {}
    week = _week(data.meta)
    for key, read in data.tables.items():
        sheet = layout.sheet(key)
        findings += check_headers(read, sheet.fields, lang, book_lang)
        if week and sheet.kind == "records":
            findings += complete_dates(read, sheet, *week, lang)
        rows, problems = check_values(read, _offered(sheet.fields, data, layout.sessions_per_week), lang)
        parsed[key] = rows
        findings += problems
    roster_records = [r for _, r in parsed.get("roster", [])]
    findings += check_meta(data.meta, roster_records, layout.template_version, data.tables["roster"].title)
    roster = {r["member_id"]: r.get("name") or "" for r in roster_records if r.get("member_id")}
    for sheet in layout.sheets:
        if sheet.kind != "records":
            continue
        read, rows = data.tables[sheet.key], parsed[sheet.key]
        labels = {f.key: f.label(lang) for f in sheet.fields}
        key = ("session_no",) if sheet.key == "sessions" else schemas.sheet(sheet.source).primary_key
        findings += check_duplicates(read, rows, key, lang, labels)
        if "member_id" in labels:
            findings += check_roster_members(read, rows, roster, labels["member_id"])
        if week:
            findings += check_dates_in_week(read, rows, sheet, *week, lang, today)
        if sheet.key == "inspections":
            findings += check_fix_deadlines(read, rows, sheet, lang)
    findings += check_phase_records(data.tables, parsed, layout, roster_records, lang)
    declared = {r["session_no"] for _, r in parsed["sessions"] if r.get("session_no")}
    findings += check_makeup_numbers(makeup_sheets(layout, data.tables), parsed, declared, _return_id(data.meta),
                                     data.grid.offered(layout.sessions_per_week), earlier_listed(data.meta),
                                     college_listed(data.meta))
    status = Field("status", {"zh": "出勤", "en": "Attendance"}, "enum", codes=layout.sheet("attendance").codes)
    findings += check_session_columns(data.tables["sessions"], parsed["sessions"], data.grid,
                                      layout.sheet("sessions").field("session_no").label(lang))
    findings += check_session_groups(data.tables["sessions"], parsed["sessions"], roster_records,
                                     layout.sheet("sessions").field("party_group").label(lang))
    groups = session_groups(parsed["sessions"], roster_records)
    targets = makeup_targets(parsed["sessions"], _return_id(data.meta))
    missed = status.codes.codes_where("missed")
    statuses, problems = check_grid(data.grid, status, declared, lang, lambda statuses: expected_members(
        groups, targets, statuses, missed, missed_elsewhere(data.meta)))
    findings += problems
    findings += check_makeup_members(data.grid, statuses, targets, missed, missed_elsewhere(data.meta),
                                     data.tables["selfstudy"], parsed["selfstudy"], _return_id(data.meta))
    findings += check_daily_hours(parsed["sessions"], statuses, data.tables["selfstudy"], parsed["selfstudy"], lang)
    college = set(college_listed(data.meta))  # pre-filled: not her typing
    own = {**parsed, "sessions": [(row, r) for row, r in parsed["sessions"] if r.get("session_no") not in college]}
    findings += check_not_empty(own, statuses, [s.key for s in layout.sheets if s.kind == "records"])
    parsed["attendance"] = statuses  # type: ignore[assignment]
    if week:  # a date's example is a day of the return's own week
        for finding in findings:
            if finding.params.get("type") == "date":
                finding.params["example"] = week[0].isoformat()
    stats = {key: len(rows) for key, rows in parsed.items()}
    meta = {k: v for k, v in (data.meta or {}).items()}
    return Report("return", findings, stats, meta, sheet_order=list(data.titles)).tidy(), data, parsed


def _offered(fields: tuple[Field, ...], data: ReturnRead, default: int) -> tuple[Field, ...]:
    """The fields with a session number offering this return's: its grid's numbers (for the messages) and the
    college's sessions its `_元数据` lists (their 活动编号)."""
    numbers = session_numbers(data.grid.offered(default), college_listed(data.meta))
    return tuple(replace(f, codes=numbers) if f.codes is not None and f.codes.key == SESSION_NO_CODES else f
                 for f in fields)


def validate_sheets(sheets, lang: str = "zh", schemas: Schemas | None = None) -> Report:
    schemas = schemas or load_schemas()
    sheets = list(sheets)
    if is_return(sheets, schemas):
        return validate_return(sheets, lang, schemas)[0]
    return validate_master(sheets, lang, schemas)


def validate_path(path: Path, lang: str = "zh", schemas: Schemas | None = None) -> Report:
    """Validate a file; raises UnreadableFile when it cannot be read as a workbook at all."""
    schemas = schemas or load_schemas()
    # The office validates its own master too, which may be far larger than any return; a return is held to
    # the limit the service holds it to. Its largest sheet may still be parsing (in a thread) while the others are checked.
    from .fastread import open_sheets, wait_parsed  # calamine, only for a file: the open workbook's values need none

    sheets = open_sheets(Path(path), limit_mb=size_limit_mb(Path(path), schemas.rules), wait=False,
                         skip=schemas.returns.unread_sheet_names())  # a return's guide, as the service reads it
    try:
        report = validate_sheets(sheets, lang, schemas)
    except BaseException:
        wait_parsed(sheets, check=False)
        raise
    wait_parsed(sheets)  # a sheet that cannot be parsed makes the file unreadable, read or not
    if report.kind == "return":  # a master is ours, written with values only
        add_return_uncalculated(report, Path(path), schemas)
        report.tidy()
    return report
