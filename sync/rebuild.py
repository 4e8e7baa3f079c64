"""`branchbook rebuild`: a new ledger from the journal and the files in archive/, then the master.

Every entry of the journal is replayed in order: the first state (a new HOME or a migrated
master), each batch of returns (merged files read again from archive/, with the time, sender and
name they came with; receipts of files not archived, rejected or held, as recorded), and each
batch of office edits or roster imports. The result is the ledger as it was: the same rows, hand edits, receipts
and choice between two versions of a return. What cannot be replayed is said, not skipped silently.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..workbook import flag_history, journal
from ..workbook.books import journal_path, ledger_path, open_ledger, record_master, state_folder
from ..workbook.errors import UserError
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.ids import receipt_id
from ..workbook.intake import load_submission
from ..workbook.ledger import Ledger
from ..workbook.merge import RECEIPTS, filled_order, plan_merge
from ..workbook.office_edits import Edit, apply
from ..workbook.reports.summaries import render_notes
from ..workbook.schema import load_schemas
from .backup import backup_ledger
from .export import Export, export_master, take_office_edits
from .pipeline import BASE_SHEETS, batch_context, commit, sessions_for_intake
from .writer import writing

log = logging.getLogger("branchbook.sync")

say = Domain("service")
REPLAYED = ("merged", "superseded")  # results whose files are in archive/ and are merged again


@dataclass
class Rebuilt:
    entries: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # archived files not found
    differences: list[str] = field(default_factory=list)  # replayed results that differ from the recorded ones
    same_as_before: bool | None = None  # None: there was no readable ledger to compare with
    export: Export | None = None


def archived(home: Home) -> dict[str, Path]:
    """Archived files by receipt id (the first 12 hex digits of their SHA-256)."""
    found = {}
    for path in sorted(home.folder("archive").glob("*__*")):
        if path.is_file() and path.suffix != ".json":
            found.setdefault(path.name.split("__", 1)[0], path)
    return found


def _at(entry: dict) -> datetime:
    return datetime.fromisoformat(entry["at"])


def _replay_batch(ledger: Ledger, entry: dict, files: dict[str, Path], report: Rebuilt, lang: str) -> None:
    body = entry["body"]
    # not cached: the ledger being rebuilt changes under it; the sessions as a batch reads them (pipeline._process)
    base = {**ledger.tables(BASE_SHEETS), "sessions": sessions_for_intake(ledger)}
    submissions, expected = [], []
    for item in body["items"]:
        if item["result"] not in REPLAYED:
            continue
        path = files.get(receipt_id(item["sha256"]))
        if path is None:
            report.missing.append(item["file_name"])
            continue
        received = datetime.fromisoformat(item["received_at"]) if item.get("received_at") else None
        submissions.append(load_submission(path, base, file_name=item["file_name"], sender=item.get("sender"),
                                           received_at=received, schemas=ledger.schemas))
        expected.append(item["result"])
    changes, outcomes = plan_merge(batch_context(ledger, submissions), submissions,
                                   datetime.fromisoformat(body["now"]), ledger.schemas)
    render_notes(changes, lang)
    for outcome, wanted in zip(outcomes, expected):
        if outcome.result != wanted:
            results = ledger.schemas.codes["return_result"]  # the 周报 sheet's words for a result
            report.differences.append(say(lang, "{name}: was {before}, replayed as {after}", name=outcome.file_name,
                                          before=results.label(wanted, lang), after=results.label(outcome.result, lang)))
    changes.added[RECEIPTS] = _in_batch_order(body["items"], changes.added.get(RECEIPTS, []))
    commit(ledger, changes, body, who=entry.get("who"), at=_at(entry))


def _in_batch_order(items: list[dict], planned: list[dict]) -> list[dict]:
    """The batch's receipts as its merge added them: the replayed files' (planned again) and the recorded ones of
    files not archived (rejected, held), in merge.filled_order, a tie by the batch's order; the recorded ones used
    to come last, so 周报's rows came back reordered."""
    by_sha = {receipt["sha256"]: receipt for receipt in planned}
    receipts = [by_sha.pop(item["sha256"], None) if item["result"] in REPLAYED else item.get("receipt")
                for item in items]
    receipts = [receipt for receipt in receipts if receipt is not None] + list(by_sha.values())
    return sorted(receipts, key=lambda r: filled_order(r.get("filled_at"), r.get("received_at")))


def replay(home: Home, entries: list[dict], ledger: Ledger) -> Rebuilt:
    report = Rebuilt(entries=len(entries))
    files = archived(home)
    for entry in entries:
        kind, body = entry["kind"], entry["body"]
        if kind == "batch":
            _replay_batch(ledger, entry, files, report, home.lang)
            continue
        with ledger.transaction():
            if kind == "snapshot":
                for sheet in ledger.schemas.master:
                    ledger.replace_all(sheet.key, body["tables"].get(sheet.key, []))
            elif kind in ("office", "import"):  # an import's edits are office edits made from a file
                apply(ledger, [Edit.from_json(e) for e in body["edits"]])
            elif kind == flag_history.JOURNAL_KIND:
                flag_history.replay(ledger, body)
            ledger.journal(kind, body, who=entry.get("who"), at=_at(entry))
    report.rows = {sheet.key: ledger.count(sheet.key) for sheet in ledger.schemas.master if sheet.key != "flags"}
    return report


def _entries(home: Home) -> list[dict]:
    entries = journal.read(journal_path(home))
    if entries:
        return entries
    try:
        with open_ledger(home) as ledger:  # the file is gone but the ledger still reads
            return ledger.journal_entries()
    except Exception:  # noqa: BLE001 - nothing left to read it from
        raise UserError("nothing-to-rebuild") from None


def _comparable(ledger: Ledger) -> dict[str, list[tuple]]:
    tables = ledger.tables([s.key for s in ledger.schemas.master if s.key != "flags"])
    return {key: sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows)
            for key, rows in tables.items()}


def rebuild(home: Home) -> Rebuilt:
    with writing(home, "rebuild"):
        before = None
        try:
            with open_ledger(home) as old:
                take_office_edits(home, old)  # edits made since the last export are journaled first
                before = _comparable(old)
                backup_ledger(home, old, "before-rebuild")
        except Exception:  # noqa: BLE001 - a lost or damaged ledger is what rebuild is for
            log.warning(say(home.lang, "the ledger cannot be read: rebuilding from the journal and archive/")
                        if ledger_path(home).exists() else
                        say(home.lang, "the ledger is missing: rebuilding from the journal and archive/"))
        entries = _entries(home)
        temp = state_folder(home) / "rebuilding.sqlite"
        for path in (temp, Path(f"{temp}-wal"), Path(f"{temp}-shm")):
            path.unlink(missing_ok=True)
        with Ledger(temp, load_schemas()) as fresh:
            report = replay(home, entries, fresh)
            if before is not None:
                report.same_as_before = _comparable(fresh) == before
        target = ledger_path(home)
        for side in ("-wal", "-shm"):
            Path(f"{target}{side}").unlink(missing_ok=True)
        os.replace(temp, target)
        with open_ledger(home) as ledger:
            journal.rewrite(ledger, journal_path(home))
            if home.master.exists():
                with ledger.transaction():
                    record_master(home, ledger)  # the old face, whatever state it is in, is replaced below
            report.export = export_master(home, ledger)
        return report
