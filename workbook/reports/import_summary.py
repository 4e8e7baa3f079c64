"""What `branchbook import` tells the office: the problems (sheet, row, column), then what is (or would be)
added, changed and marked as left, sheet by sheet."""
from __future__ import annotations

from typing import Any

from ..cells import to_cell
from ..findings import ERROR
from ..i18n import Domain
from ..provenance import canonical
from ..roster_import import Change, ImportPlan
from ..schema import Schemas, load_schemas

say = Domain("reports")


def change_line(change: Change, schemas: Schemas, lang: str) -> str:
    sheet = schemas.sheet(change.sheet)
    if change.op == "add":
        return say(lang, "  + {id} {name}", id=change.key, name=change.name)
    if change.op == "leave":
        return say(lang, "  - {id} {name}: no longer listed, marked as left", id=change.key, name=change.name)
    fields = say(lang, "; ").join(
        say(lang, "{field} {before} → {after}", field=sheet.field(key).label(lang),
            before=canonical(to_cell(sheet.field(key), before, lang)) or "—",
            after=canonical(to_cell(sheet.field(key), after, lang)))  # 正式 → 预备, as the office writes them
        for key, (before, after) in change.fields.items())
    return say(lang, "  ~ {id} {name}: {fields}", id=change.key, name=change.name, fields=fields)


def import_lines(plan: ImportPlan, lang: str, *, preview: bool, skip_bad: bool, schemas: Schemas | None = None) -> list[str]:
    schemas = schemas or load_schemas()
    lines = []
    refused = not plan.clean and not skip_bad
    if plan.findings:
        if refused:
            lines.append(say(lang, "Nothing was imported from {file}: the lines marked [error] stop the import; those "
                                   "marked [note] are for information.", file=plan.file))
        elif plan.report.errors:
            lines.append(say(lang, "Problems in {file} (rows marked [error] are left out; [note] is for "
                                   "information):", file=plan.file))
        else:
            lines.append(say(lang, "Notes on {file} (for information; they do not stop the import):", file=plan.file))
        # The errors first: they are what the office must fix before the file is imported.
        by_weight = sorted(plan.findings, key=lambda finding: finding.severity != ERROR)
        lines += ["  " + finding.marked(lang) for finding in by_weight]
    if refused:
        lines.append(say(lang, "Fix the rows marked [error] and import again, or import the other rows with "
                               "--skip-bad."))
        heading = say(lang, "Once fixed, the import would change:")
    elif preview:
        heading = say(lang, "Preview (nothing written): importing {file} would change:", file=plan.file)
    else:
        heading = say(lang, "Imported {file}:", file=plan.file)
    if plan.skipped and skip_bad:
        rows = say(lang, ", ").join(say(lang, "{sheet} row {row}", sheet=sheet, row=row) for sheet, row in plan.skipped)
        # Not a plural message: tools/catalogs.py --check cannot compare plural entries yet.
        lines.append(say(lang, "Rows with errors left out ({count}): {rows}", count=len(plan.skipped), rows=rows))
    counts = plan.counts()
    if refused and not counts:  # every row has a problem: there is nothing to preview yet
        return lines
    if plan.skipped and not counts:  # --skip-bad left out every row that would have changed the ledger
        lines.append(say(lang, "Nothing was imported: the rows with errors are left out, and the ledger already "
                               "holds any others."))
        return lines
    lines.append(heading)
    if not counts:
        lines.append(say(lang, "  nothing: the ledger already holds this roster."))
    for key, counted in counts.items():
        values = {"sheet": schemas.sheet(key).name(lang), "added": counted["add"], "changed": counted["update"]}
        lines.append(say(lang, "{sheet}: {added} added, {changed} changed, {left} marked as left", **values,
                         left=counted["leave"]) if key == "members" else
                     say(lang, "{sheet}: {added} added, {changed} changed", **values))
        lines += [change_line(change, schemas, lang) for change in plan.changes if change.sheet == key]
    return lines


def import_data(plan: ImportPlan, lang: str, written: bool) -> dict[str, Any]:
    """The plan for --json: codes and values, the findings worded too."""
    return {"file": plan.file, "written": written, "read": plan.read, "counts": plan.counts(),
            "changes": [{"op": c.op, "sheet": c.sheet, "id": c.key, "name": c.name, "row": c.row,
                         "fields": {k: [canonical(a), canonical(b)] for k, (a, b) in c.fields.items()}}
                        for c in plan.changes],
            "skipped": [list(item) for item in plan.skipped],
            "findings": [f.to_dict(lang) for f in plan.findings]}
