"""`branchbook import`: the office's own roster (members, branches, committee; the phases too) planned as changes to the
ledger, every problem found with its sheet, row and column, before anything is written.

A row is matched to what the ledger holds by its ID when the file has an ID column, else by name (a
member's homonyms told apart by branch): a re-import updates, never duplicates. Rows without an ID get
the next free one (schemas/import.yaml). Members of the file's branches that the file no longer lists
are marked as having left. Blank cells change nothing. The plan's edits are the office edits' own kind
(office_edits.Edit), so they are applied, journaled and replayed as those are (docs/design.md, "The ledger").
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .cells import BadValue, column_letter, parse
from .checks.values import value_finding
from .findings import Finding, Report, quoted
from .i18n import Named
from .import_columns import Columns, Mapping, assign_sheets, decide_by_values, import_rules, normal, value_aliases
from .import_source import SourceSheet
from .membership import leave_values, left, listed_values
from .office_edits import Edit
from .provenance import canonical
from .schema import LANGS, Field, Schemas

KEYS = {"phases": "phase_id", "committee": "committee_id", "branches": "branch_id", "members": "member_id"}
# Fields that name a row of another target, by its ID or its name.
REFERENCES = {("members", "branch_id"): "branches", ("members", "from_branch"): "branches",
              ("branches", "liaison_id"): "committee"}
_NAME_SUFFIXES = ("党支部", "支部")


@dataclass
class Change:
    """One row's effect, for the preview: added, updated (field -> (before, after)) or left."""

    op: str  # add | update | leave
    sheet: str
    key: str
    name: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    row: int | None = None


@dataclass
class ImportPlan:
    file: str
    report: Report = field(default_factory=lambda: Report("import", []))  # the file's problems, as validation's
    changes: list[Change] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    skipped: list[tuple[str, int]] = field(default_factory=list)  # (sheet, row) left out with --skip-bad
    read: dict[str, str] = field(default_factory=dict)  # target -> the source sheet it was read from

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    @property
    def clean(self) -> bool:
        return self.report.valid

    def counts(self) -> dict[str, dict[str, int]]:
        counted: dict[str, dict[str, int]] = {}
        for change in self.changes:
            counted.setdefault(change.sheet, {"add": 0, "update": 0, "leave": 0})[change.op] += 1
        return counted


def _reference_key(text: Any) -> str:
    value = normal(text)
    for suffix in _NAME_SUFFIXES:
        if value.endswith(suffix) and len(value) > len(suffix):
            return value[: -len(suffix)]
    return value


class _Known:
    """A target's rows, ledger and file together, found by ID or by name."""

    def __init__(self, key: str, rows: list[dict[str, Any]]):
        self.key = key
        self.rows = {str(r[key]): dict(r) for r in rows if r.get(key)}

    def add(self, record: dict[str, Any]) -> None:
        self.rows[str(record[self.key])] = record

    def resolve(self, text: Any) -> list[str]:
        """IDs that `text` names: an ID itself, or a name (a branch's with or without 党支部)."""
        if str(text).strip() in self.rows:
            return [str(text).strip()]
        wanted = _reference_key(text)
        return [i for i, r in self.rows.items() if r.get("name") and _reference_key(r["name"]) == wanted]

    def next_id(self, target: str) -> str:
        spec = import_rules()["ids"][target]
        numbers = [int(m.group(1)) for i in self.rows if (m := re.fullmatch(re.escape(spec["prefix"]) + r"(\d+)", i))]
        return f"{spec['prefix']}{max(numbers, default=0) + 1:0{spec['digits']}d}"


def _parse_value(item: Field, raw: Any) -> Any:
    """A cell's value for the field; a coded field also takes the words people use (正式党员 for 正式)."""
    if item.codes is not None:
        alias = value_aliases(item.codes.key).get(normal(_show_number(raw)))
        if alias is not None:
            return alias
    return parse(item, raw)


def _show_number(raw: Any) -> Any:
    return int(raw) if isinstance(raw, float) and raw.is_integer() else raw


def _fits(item: Field, raw: Any) -> bool:
    try:
        return _parse_value(item, raw) is not None
    except BadValue:
        return False


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    problems: list[Finding]


def _read_rows(columns: Columns, known: dict[str, _Known], names: dict[str, Named]) -> tuple[list[_Row], list[Finding]]:
    """The rows, and a note for each row with nothing in the columns imported (制表人：… below the table)."""
    rows, notes = [], []
    sheet = columns.target
    for number, cells in columns.body:
        if all(at >= len(cells) or cells[at] is None for at in columns.columns.values()):
            notes.append(Finding("import-row-unread", sheet=columns.source.title, row=number,
                                 value=next(value for value in cells if value is not None)))
            continue
        values: dict[str, Any] = {}
        problems = []
        for key, at in columns.columns.items():
            raw = cells[at] if at < len(cells) else None
            if raw is None:
                continue
            item = sheet.field(key)
            where = {"sheet": columns.source.title, "row": number, "column": column_letter(at + 1),
                     "column_label": columns.header(key), "value": raw}
            field_param = {"of_field": key}  # which field a problem is about: no "required" for it as well
            referred = REFERENCES.get((sheet.key, key))
            if referred:
                found = known[referred].resolve(raw)
                if len(found) == 1:
                    values[key] = found[0]
                else:
                    code = "import-ambiguous" if found else "import-unknown-reference"
                    problems.append(Finding(code, **where, params={
                        "target": names[referred], "candidates": " / ".join(found), **field_param}))
                continue
            try:
                values[key] = _parse_value(item, raw)
            except BadValue as bad:
                # A file has no drop-down list: a coded value is answered with the values allowed.
                code = "import-enum" if bad.kind == "enum" else bad.kind
                finding = value_finding(code, columns.source.title, number, at + 1, item, raw, "zh", **field_param)
                finding.column_label = columns.header(key)  # the file's own header, not the master's label
                problems.append(finding)
        rows.append(_Row(number, values, problems))
    return rows, notes


def _match(row: _Row, target: str, known: _Known, has_id: bool) -> tuple[str | None, list[str]]:
    """The ID this row is (None: new), and the candidates when its name is ambiguous."""
    key = KEYS[target]
    if has_id and row.values.get(key):
        return str(row.values[key]), []
    name = row.values.get("name")
    candidates = [i for i, r in known.rows.items() if r.get("name") and normal(r["name"]) == normal(name)]
    if len(candidates) > 1 and target == "members" and row.values.get("branch_id"):
        candidates = [i for i in candidates if known.rows[i].get("branch_id") == row.values["branch_id"]] or candidates
    if len(candidates) == 1:
        return candidates[0], []
    return None, candidates


def plan_import(sources: list[SourceSheet], tables: dict[str, list[dict]], schemas: Schemas, *, file: str,
                mapping: Mapping | None = None, skip_bad: bool = False, today: date | None = None) -> ImportPlan:
    """What importing these sheets would change in `tables` (the ledger's committee, branches, members)."""
    names = {key: Named(dict(schemas.sheet(key).names)) for key in KEYS}
    plan = ImportPlan(file)
    assigned = assign_sheets(sources, schemas, mapping or Mapping())
    plan.read = {key: columns.source.title for key, columns in assigned.items()}
    if not assigned:
        plan.findings.append(Finding("import-no-sheet", sheet=sources[0].title if sources else file))
        return plan
    for source in sources:
        if source.title not in plan.read.values() and any(any(v is not None for v in r) for r in source.rows):
            plan.findings.append(Finding("import-sheet-unread", sheet=source.title))
    today = today or date.today()
    known = {target: _Known(key, tables.get(target, [])) for target, key in KEYS.items()}
    kept: dict[str, list[tuple[_Row, str | None]]] = {}
    for target, columns in assigned.items():
        decide_by_values(columns, _fits)
        if columns.unused:
            plan.findings.append(_unused_columns(columns))
        rows, notes = _read_rows(columns, known, names)
        plan.findings.extend(notes)
        kept[target] = _plan_sheet(plan, target, columns, rows, known[target], today)
    if "members" in assigned:
        _plan_leavers(plan, kept["members"], known["members"], tables.get("members", []), today)
    plan.report.sheet_order = [source.title for source in sources]
    plan.report.tidy()  # by sheet, row and column, a run of rows with one problem as one
    if not plan.clean and not skip_bad:
        plan.edits = []
    return plan


def _unused_columns(columns: Columns) -> Finding:
    """One note for the headers of a sheet that name no field, naming the fields --map can give them."""
    unused = sorted(columns.unused)
    fields = [Named({lang: item.label(lang) for lang in LANGS}) for item in columns.target.fields]
    return Finding("import-unused-column", sheet=columns.source.title, row=columns.header_row,
                   column=column_letter(unused[0][0] + 1), value=unused[0][1],
                   params={"columns": [quoted(header) for _, header in unused], "fields": fields})


def _plan_sheet(plan: ImportPlan, target: str, columns: Columns, rows: list[_Row],
                known: _Known, today: date) -> list[tuple[_Row, str | None]]:
    """Each row matched and checked; the good ones planned. Returns every row with the ID it matched."""
    sheet = columns.target
    key = KEYS[target]
    has_id = key in columns.columns
    seen: dict[str, int] = {}
    matched: list[tuple[_Row, str | None]] = []
    listed = {str(row.values[key]) for row in rows if row.values.get(key)}
    for row in rows:
        found, candidates = _match(row, target, known, has_id)
        disagreeing = _id_disagrees(columns, row, found, known, listed) if has_id else None
        if disagreeing:
            row.problems.append(disagreeing)
        name_column = columns.columns.get("name")
        where = {"sheet": columns.source.title, "row": row.number}
        if candidates:
            row.problems.append(Finding("import-ambiguous", **where, column=column_letter(name_column + 1),
                                        column_label=columns.header("name"), value=row.values.get("name"),
                                        params={"candidates": " / ".join(candidates), "header": columns.header("name"),
                                                "target": Named(dict(sheet.names))}))
        identity = found or f"name:{normal(row.values.get('name'))}:{row.values.get('branch_id') or ''}"
        if identity in seen:
            row.problems.append(Finding("import-duplicate", **where, params={"other_row": seen[identity]}))
        seen.setdefault(identity, row.number)
        before = known.rows.get(found) if found else None
        if before is None:
            for item in sheet.fields:
                if item.required and item.key != key and row.values.get(item.key) is None \
                    and item.key not in {problem.params.get("of_field") for problem in row.problems}:
                    row.problems.append(_missing(columns, row, item))
        matched.append((row, found))
    plan.skipped += [(columns.source.title, row.number) for row, _ in matched if row.problems]
    plan.findings.extend(one_per_cause([problem for row, _ in matched for problem in row.problems]))
    for row, found in matched:
        if not row.problems:
            _plan_row(plan, target, sheet, row, found, known, today)
    return matched  # bad rows too: they still count as listed, and nobody leaves for a typo


def _id_disagrees(columns: Columns, row: _Row, found: str | None, known: _Known, listed: set[str]) -> Finding | None:
    """The file's ID against the ledger's names: an ID the ledger gives to someone else while this row's person
    has another (a column of row numbers called 编号: applied, a re-sorted roster would swap people), or an ID
    the ledger lacks for a person it has under another (a 学号 column added later: applied, a second 王芳)."""
    name = row.values.get("name")
    if not (found and name):
        return None
    key = KEYS[columns.target.key]
    branch = row.values.get("branch_id") if columns.target.key == "members" else None
    same_name = [i for i, r in known.rows.items() if i != found and normal(r.get("name")) == normal(name)
                 and (branch is None or r.get("branch_id") == branch)]
    header = columns.header(key)
    where = {"sheet": columns.source.title, "row": row.number, "column": column_letter(columns.columns[key] + 1),
             "column_label": header, "value": found}
    before = known.rows.get(found)
    if before is not None:
        if same_name and normal(before.get("name")) != normal(name):
            return Finding("import-id-other-name", **where, params={
                "ledger_name": before.get("name"), "name": name, "other": " / ".join(same_name), "header": header})
        return None
    unlisted = [i for i in same_name if i not in listed]  # listed under its own ID too: two people of one name
    if unlisted:
        return Finding("import-id-unknown", **where, params={"name": name, "candidates": " / ".join(unlisted),
                                                             "header": header})
    return None


def one_per_cause(problems: list[Finding]) -> list[Finding]:
    """The rows' problems as the office reads them: a column the file lacks is one finding, not one a row,
    and so are the branches the ledger does not have yet (import them first: one finding naming them)."""
    kept: list[Finding] = []
    joined: dict[tuple, Finding] = {}
    for problem in problems:
        if problem.code == "import-needs-column":
            cause: tuple = (problem.code, problem.sheet, repr(getattr(problem.params.get("expected"), "names", None)))
        elif problem.code == "import-unknown-reference" and problem.params.get("of_field") == "branch_id":
            cause = (problem.code, problem.sheet, problem.column)
        else:
            kept.append(problem)
            continue
        first = joined.get(cause)
        if first is None:
            joined[cause] = first = dataclasses.replace(problem, params={**problem.params, "rows": []})
            kept.append(first)
        first.params["rows"].append(problem.row)
        if problem.code == "import-unknown-reference":
            first.params.setdefault("names", [])
            if problem.value not in first.params["names"]:
                first.params["names"].append(problem.value)
    for finding in joined.values():
        rows = finding.params.pop("rows")
        consecutive = rows == list(range(rows[0], rows[0] + len(rows)))
        finding.row, finding.last_row = (rows[0], rows[-1]) if consecutive else (None, None)
        if finding.code == "import-unknown-reference":
            finding.code, finding.value = "import-unknown-branches", None
            finding.params.update(count=len(rows), names=[str(name) for name in finding.params["names"]])
    return kept


def _missing(columns: Columns, row: _Row, item: Field) -> Finding:
    where = {"sheet": columns.source.title, "row": row.number}
    if item.key in columns.columns:
        at = columns.columns[item.key]
        return Finding("required", **where, column=column_letter(at + 1), column_label=columns.header(item.key))
    return Finding("import-needs-column", **where, params={"expected": Named(dict(item.labels))})


def _plan_row(plan: ImportPlan, target: str, sheet, row: _Row, found: str | None, known: _Known, today: date) -> None:
    key = KEYS[target]
    before = known.rows.get(found) if found else None
    if before is None:
        record = {item.key: None for item in sheet.fields}
        record.update(row.values)
        record[key] = found or known.next_id(target)
        known.add(record)
        plan.edits.append(Edit("insert", target, [record[key]], None, record))
        plan.changes.append(Change("add", target, record[key], record.get("name") or "", row=row.number))
        return
    given = {k: v for k, v in row.values.items() if v is not None}
    if target == "members":
        given.update(listed_values(before, given, today))
    after = {**before, **given}
    changed = {k: (before.get(k), v) for k, v in given.items() if canonical(before.get(k)) != canonical(v)}
    if not changed:
        return
    known.add(after)
    plan.edits.append(Edit("update", target, [found], _plain(before), _plain(after)))
    plan.changes.append(Change("update", target, found, after.get("name") or "", changed, row.number))


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _plan_leavers(plan: ImportPlan, matched: list[tuple[_Row, str | None]], known: _Known,
                  before: list[dict[str, Any]], today: date) -> None:
    """Members of the file's branches whom the file no longer lists have left (marked, never deleted:
    their records stay). A row left out as bad still counts as listed."""
    listed = {found for _, found in matched if found}
    names = {normal(row.values.get("name")) for row, found in matched  # a bad row's ID may be no ledger's: its name
             if (not found or row.problems) and row.values.get("name")}
    branches = {row.values.get("branch_id") for row, _ in matched if row.values.get("branch_id")}
    for member in before:
        member_id = str(member.get("member_id"))
        if member.get("branch_id") not in branches or member_id in listed or normal(member.get("name")) in names:
            continue
        if left(member) is not None:
            continue
        after = {**known.rows[member_id], **leave_values(today)}
        plan.edits.append(Edit("update", "members", [member_id], _plain(member), _plain(after)))
        plan.changes.append(Change("leave", "members", member_id, member.get("name") or ""))

