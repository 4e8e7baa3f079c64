"""Rolling copies of the ledger, made with SQLite's online backup (a consistent copy while the
service runs), and `branchbook restore`, which puts one back."""
from __future__ import annotations

import logging
import sqlite3
import time
from datetime import datetime
from pathlib import Path

from ..workbook import journal
from ..workbook.books import EXPORTED_SEQ, journal_path, ledger_path, open_ledger, record_master
from ..workbook.errors import UserError
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.ledger import LEDGER_NAME, Ledger
from ..workbook.schema import load_schemas
from .writer import writing

log = logging.getLogger("branchbook.sync")
say = Domain("service")
PREFIX = Path(LEDGER_NAME).stem + "-"
LAST_BACKUP = "last_backup"  # meta key: when the last rolling copy was made (epoch seconds)


def _folder(home: Home) -> Path:
    folder = home.folder("backups")
    folder.mkdir(exist_ok=True)
    return folder


def backups(home: Home) -> list[Path]:
    """The ledger's copies, oldest first."""
    return sorted(_folder(home).glob(f"{PREFIX}*.sqlite"))


def backup_ledger(home: Home, ledger: Ledger, reason: str = "auto") -> Path:
    target = _folder(home) / f"{PREFIX}{datetime.now():%Y%m%d-%H%M%S-%f}-{reason}.sqlite"
    copy = sqlite3.connect(str(target))
    try:
        ledger.db.backup(copy)
    finally:
        copy.close()
    kept = home.settings.sync.backups_kept
    for old in backups(home)[:-kept]:
        old.unlink(missing_ok=True)
    with ledger.transaction():
        ledger.set_meta(LAST_BACKUP, str(time.time()))
    return target


def backup_ledger_now_and_then(home: Home, ledger: Ledger) -> Path | None:
    """A rolling copy when the last one is older than `sync.backup_minutes`."""
    minutes = home.settings.sync.backup_minutes
    last = float(ledger.get_meta(LAST_BACKUP) or 0)
    if time.time() - last < minutes * 60:
        return None
    return backup_ledger(home, ledger)


def _check(path: Path) -> None:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)  # no -wal or -shm beside a backup
        try:
            result = db.execute("PRAGMA quick_check").fetchone()[0]
            db.execute("SELECT COUNT(*) FROM journal").fetchone()
        finally:
            db.close()
    except sqlite3.Error as error:
        raise UserError("backup-unreadable", name=path.name, reason=str(error)) from None
    if result != "ok":
        raise UserError("backup-unreadable", name=path.name, reason=result)


def restore(home: Home, name: str) -> Path:
    """Put the named copy back as the ledger (the current one is kept as a copy first), then the
    master is written from it at the next export."""
    matches = [p for p in backups(home) if p.name == name or p.stem == name]
    if len(matches) != 1:
        raise UserError("backup-missing", name=name, folder=str(_folder(home)))
    chosen = matches[0]
    _check(chosen)
    with writing(home, "restore"):
        try:
            with open_ledger(home) as current:
                backup_ledger(home, current, "before-restore")
        except Exception:  # noqa: BLE001 - a damaged ledger is what a restore is for; it is replaced anyway
            log.exception(say(home.lang, "the current ledger could not be copied before the restore"))
        target = ledger_path(home)
        for side in ("-wal", "-shm"):
            Path(str(target) + side).unlink(missing_ok=True)
        source = sqlite3.connect(f"file:{chosen}?mode=ro&immutable=1", uri=True)  # no -wal or -shm beside a backup
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        with Ledger(target, load_schemas()) as restored:
            journal.rewrite(restored, journal_path(home))  # the journal goes back with the ledger
        with open_ledger(home) as ledger:
            if home.master.exists():
                with ledger.transaction():
                    # The master on disk is the face of the ledger being replaced: nothing in it is an office edit
                    # of the restored state, so it becomes the base the next export replaces.
                    record_master(home, ledger)
                    ledger.set_meta(EXPORTED_SEQ, "0")
        return chosen


