"""HOME's ledger and its face: open (or create, or migrate) the ledger, and tell whether the office
has changed master.xlsx since BranchBook last wrote it.

What BranchBook last wrote is kept as a copy in `.branchbook/exported.xlsx`, with the master's
size, time and SHA-256 in the ledger: the office's edits are the difference between the master
and that copy (office_edits.py), found without reading the master unless its bytes changed.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import journal
from .errors import UserError
from .fastread import open_sheets, saved_by
from .findings import Report
from .home import Home
from .ledger import LEDGER_NAME, Ledger
from .office_edits import Edit, apply, diff, identity, people_fields
from .schema import Schemas
from .sheetio import find_sheet, records_of
from .validation import validate_master

STATE_FOLDER = ".branchbook"
EXPORTED_NAME = "exported.xlsx"
MASTER_STATE = "master_state"  # meta key: the master's size, time and hash when last written or read
EXPORTED_SEQ = "exported_seq"  # meta key: the journal entry the master last showed
MASTER_WORDS = "master_words"  # meta key: the words the master was last written in (master_words)


def ledger_path(home: Home) -> Path:
    return home.root / LEDGER_NAME


def journal_path(home: Home) -> Path:
    return home.root / journal.JOURNAL_NAME


def state_folder(home: Home) -> Path:
    folder = home.root / STATE_FOLDER
    folder.mkdir(exist_ok=True)
    return folder


def exported_copy(home: Home) -> Path:
    return state_folder(home) / EXPORTED_NAME


def open_ledger(home: Home, schemas: Schemas | None = None) -> Ledger:
    """HOME's ledger; a HOME made before the ledger existed has its master taken in whole, once."""
    schemas = schemas or home.schemas
    written = journal.last_seq(journal_path(home))
    if written and not ledger_path(home).exists():
        # The ledger is gone but its journal is not: taking the master in again would start a second
        # history beside the first. Rebuild (or restore) brings back the one history there is.
        raise UserError("ledger-missing", home=str(home.root))
    ledger = Ledger(ledger_path(home), schemas)
    if ledger.last_seq() < written:
        ledger.close()
        raise UserError("ledger-behind", home=str(home.root), seq=ledger.last_seq(), written=written)
    if ledger.last_seq() == 0 and home.master.exists():
        migrate(home, ledger)
    upgrade_posts(ledger, home.lang)
    journal.mirror(ledger, journal_path(home))
    return ledger


def snapshot(ledger: Ledger, tables: dict[str, list[dict]], reason: str) -> int:
    """Put whole tables into an empty ledger and journal them, so that a rebuild starts from here."""
    with ledger.transaction():
        for sheet in ledger.schemas.master:
            ledger.replace_all(sheet.key, tables.get(sheet.key, []))
        return ledger.journal("snapshot", {"reason": reason, "tables": tables}, who=_user())


def migrate(home: Home, ledger: Ledger) -> None:
    """The master of a HOME made by an earlier version becomes the ledger's first state, without loss."""
    tables = records_of(open_sheets(home.master, limit_mb=ledger.schemas.rules["limits"]["max_master_mb"]),
                        ledger.schemas)
    with ledger.transaction():
        if ledger.last_seq():
            return  # another process migrated it while this one read the master
        snapshot(ledger, tables, "migrated from master.xlsx")
        record_master(home, ledger)


def upgrade_posts(ledger: Ledger, lang: str) -> None:
    """A committee member whose 党内职务 is an administrative post (院长, as masters had it before the committee
    sheet had 行政职务: docs/domain.md, "Words") gets that post as 行政职务 and 委员 as 党内职务. Journaled as an
    office edit, so that a rebuild does the same; the caller mirrors the journal."""
    sheet = ledger.schemas.sheet("committee")
    roles = sheet.field("role").codes
    retired = sorted(roles.codes_where("retired"))
    if not ledger.rows_in("committee", "role", retired):
        return  # the usual case, without taking the write lock
    with ledger.transaction():
        edits = []
        for row in ledger.rows_in("committee", "role", retired):  # again under the lock: another process may have been first
            before = people_fields(sheet, row)
            after = {**before, "role": "member", "post": row.get("post") or roles.label(row["role"], lang)}
            edits.append(Edit("update", sheet.key, identity(sheet, row), before, after))
        if edits:
            apply(ledger, edits)
            ledger.journal("office", {"edits": [e.to_json() for e in edits], "problems": []}, who="BranchBook")


def file_state(path: Path, known: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Size, time and SHA-256 of a file; the hash is reused when size and time are as known."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    state = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if known and all(known.get(k) == v for k, v in state.items()):
        return known
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {**state, "sha256": digest.hexdigest()}


def record_master(home: Home, ledger: Ledger) -> None:
    """The master as it is now is the ledger's face: keep its state and a copy to diff against."""
    shutil.copyfile(home.master, exported_copy(home))
    ledger.set_meta(MASTER_STATE, json.dumps(file_state(home.master)))


def master_words(schemas: Schemas) -> str:
    """A digest of the words a master is written in: sheet names, headers and coded values, in every language.
    A master written in other words (by a version before a rename, docs/domain.md "Words") is written again."""
    words = [[sheet.names, [[f.labels, [c.labels for c in f.codes.codes] if f.codes else []] for f in sheet.fields]]
             for sheet in schemas.master]
    return hashlib.sha256(json.dumps(words, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def record_written(home: Home, ledger: Ledger) -> None:
    """BranchBook has just written the master from the ledger (inside the caller's transaction)."""
    record_master(home, ledger)
    ledger.set_meta(EXPORTED_SEQ, str(ledger.last_seq()))
    ledger.set_meta(MASTER_WORDS, master_words(ledger.schemas))


def master_changed(home: Home, ledger: Ledger) -> bool:
    """Whether master.xlsx differs from what BranchBook last wrote (by hash, not by reading it)."""
    known = json.loads(ledger.get_meta(MASTER_STATE) or "null")
    now = file_state(home.master, known)
    if now is None or known is None:
        return False
    return now["sha256"] != known.get("sha256")


@dataclass
class OfficeChanges:
    """The office's edits found in master.xlsx, or the report that refuses them."""

    edits: list[Edit] = field(default_factory=list)
    report: Report | None = None  # errors in the edited master: nothing is taken until they are fixed
    who: str = ""

    @property
    def refused(self) -> bool:
        return self.report is not None and not self.report.valid


def office_changes(home: Home, ledger: Ledger, lang: str = "zh") -> OfficeChanges:
    """Read the changed master once, check it, and compare it with the copy last written."""
    schemas = ledger.schemas
    limit = schemas.rules["limits"]["max_master_mb"]
    sheets = open_sheets(home.master, limit_mb=limit)
    report = validate_master(sheets, lang, schemas)
    who = saved_by(home.master) or _user()
    if not report.valid:
        return OfficeChanges(report=report, who=who)
    before = records_of(open_sheets(exported_copy(home), limit_mb=limit), schemas)
    after = records_of(sheets, schemas)
    for sheet in schemas.master:
        if sheet.added_later and find_sheet(sheets, sheet.names_read()) is None:
            # Saved from a master written before the sheet existed: nothing in it was edited (not all deleted).
            before.pop(sheet.key, None)
            after.pop(sheet.key, None)
    return OfficeChanges(diff(schemas, before, after), report, who)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USERNAME", "")
