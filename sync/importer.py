"""`branchbook import`, as a writer: plan the roster against the ledger, and when it is clean (or the bad
rows are left out) apply it in one transaction with its journal entry, under the one-writer lock, then
write the master. `rebuild` replays the entry as it replays office edits (docs/design.md, "The ledger")."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..workbook import journal
from ..workbook.books import _user, journal_path, open_ledger
from ..workbook.home import Home
from ..workbook.import_columns import Mapping
from ..workbook.import_source import read_source
from ..workbook.office_edits import apply
from ..workbook.roster_import import KEYS, ImportPlan, plan_import
from .export import Export, export_master, take_office_edits
from .writer import writing

JOURNAL_KIND = "import"


@dataclass
class Imported:
    plan: ImportPlan
    written: bool = False  # the ledger has the changes
    export: Export | None = None


def import_roster(home: Home, path: Path, *, mapping: list[str] | None = None, skip_bad: bool = False,
                  dry_run: bool = False, on_wait: Callable[[str], None] | None = None) -> Imported:
    path = Path(path)
    with open_ledger(home) as ledger:
        sources = read_source(path, ledger.schemas.rules["limits"]["max_file_mb"])
        with writing(home, "import", on_wait=on_wait):
            take_office_edits(home, ledger)  # the office's latest hand edits are what the roster is compared with
            plan = plan_import(sources, ledger.tables(KEYS), ledger.schemas, file=path.name,
                               mapping=Mapping.parse(mapping), skip_bad=skip_bad, today=home.as_of)
            result = Imported(plan)
            if dry_run or not plan.edits or (not plan.clean and not skip_bad):
                return result
            body = {"file_name": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "edits": [edit.to_json() for edit in plan.edits],
                    "skipped": [list(item) for item in plan.skipped]}
            with ledger.transaction():
                apply(ledger, plan.edits)
                ledger.journal(JOURNAL_KIND, body, who=_user())
            journal.mirror(ledger, journal_path(home))
            result.written = True
            result.export = export_master(home, ledger)
        return result
