"""One pass over received files: read each from a private copy, merge them all into the ledger in
one transaction, file each original in archive/ or rejected/, then write the master.

The order makes a crash harmless: until the ledger commits nothing has moved, and once it has,
each file's SHA-256 is a receipt in the ledger, so a replay finds it merged and only files it
(docs/hazards.md, "a crash between writing and recording").
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..workbook import flag_history, journal
from ..workbook.books import journal_path, open_ledger
from ..workbook.cells import timestamp_text
from ..workbook.errors import UserError
from ..workbook.flags import Flag
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.intake import file_sha256
from ..workbook.ledger import RETURN, Ledger, TablesAhead
from ..workbook.merge import RECEIPTS, Changes, Outcome, merged_sheets, plan_merge
from ..workbook.names import hold_note_suffix, marked_copy, notes_beside, report_suffix, stored_name
from ..workbook.reports import issues
from ..workbook.reports.summaries import first_few, hold_report, outcome_line, rejection_report, render_notes, worded
from ..workbook.sheetio import paused_gc
from ..workbook.submission import Submission
from .export import Export, export_master, take_office_edits
from .inbox import inbox_files
from .mail_intake import SIDECAR_SUFFIX, read_sidecar, sidecar_of, unpack_mail_files
from .pause import pause_point
from .reading import WORK_FOLDER, marked_work_copy, read_submissions
from .relook import watch_rejected
from .writer import refuse_if_closed, writing

log = logging.getLogger("branchbook.sync")

say = Domain("service")


@dataclass
class Incoming:
    """A file to process, with what is known of how it came (by mail: its sidecar)."""

    path: Path
    file_name: str | None = None
    sender: str | None = None
    received_at: datetime | None = None
    mail: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.file_name or self.path.name

    @classmethod
    def at(cls, path: Path) -> Incoming:
        mail = read_sidecar(path)
        if not mail:
            return cls(path)
        received = mail.get("received_at")
        return cls(path, mail.get("file_name"), mail.get("sender"),
                   datetime.fromisoformat(received) if received else None, mail)


@dataclass
class BatchResult:
    outcomes: list[Outcome] = field(default_factory=list)
    committed: bool = False  # the ledger has the batch
    export: Export | None = None  # how writing the master went (None: not tried, as in a dry run)
    filed: dict[str, Path] = field(default_factory=dict)  # file name -> where it went
    items: list[Incoming] = field(default_factory=list, repr=False)
    submissions: list[Submission] = field(default_factory=list, repr=False)
    lang: str = "zh"

    @property
    def flags(self) -> list[Flag]:
        return self.export.flags if self.export else []

    @property
    def written(self) -> bool:
        return bool(self.export and self.export.written)

    @property
    def busy(self) -> str | None:
        """Why the master is not yet written (the ledger has the batch all the same)."""
        return self.export.why_waiting(self.lang) if self.export else None


def clean_work(home: Home) -> int:
    """Remove the copies a killed run left in .work/ (docs/hazards.md 31). Call it holding the writer lock:
    only a writer makes copies there."""
    removed = 0
    work = home.root / WORK_FOLDER
    for path in work.iterdir() if work.is_dir() else ():
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info(say(home.lang, "{count} work copies left by an interrupted run were removed", count=removed))
    return removed


def incoming(home: Home, files: list[Path] | None = None, preview: bool = False) -> list[Incoming]:
    """What a foreground pass takes: the inbox (saved mails unpacked first), or the given files copied
    into it so that the originals stay where they are. A preview (merge --dry-run) writes nothing: the
    given files are read where they are, and saved mails in the inbox are left packed (not previewed)."""
    refuse_if_closed(home, "merge")  # an earlier campaign takes no returns (sync/campaigns.py)
    inbox = home.folder("inbox")
    missing = [str(path) for path in files or () if not Path(path).is_file()]
    if missing:
        raise UserError("file-missing", path=missing[0])  # before anything is copied: all or nothing
    if not preview:
        unpack_mail_files(home)
    if not files:
        return [Incoming.at(path) for path in inbox_files(inbox)]
    items = []
    for path in files:
        path = Path(path)
        if path.resolve().parent == inbox.resolve():
            items.append(Incoming.at(path))
            continue
        if preview:
            items.append(Incoming(path, file_name=path.name))
            continue
        # A return of the same name may be waiting in the inbox (every branch's file is named alike): never over it.
        target = _free_name(inbox, path.name, home.lang)
        try:
            shutil.copy2(path, target)
        except BaseException:
            target.unlink(missing_ok=True)  # a copy cut short (a full disk) must not wait in the inbox as a return
            raise
        items.append(Incoming(target, file_name=path.name))
    return items


BASE_SHEETS = ("phases", "committee", "branches", "members")
_base_cache: dict[str, tuple[tuple, dict[str, list[dict]]]] = {}


def base_tables(ledger: Ledger) -> dict[str, list[dict]]:
    """The tables a return is checked against (phases, committee, branches, and each member's branch). They change
    only by a first state or an office edit, so a long-running service reads them once per change:
    20,000 members cost more to read than a return costs to merge."""
    # The journal only grows (a backup or a rebuild holds a prefix of it): its last entry that is not a batch
    # nor a report kept (a week's flags, a bulletin's issue: written at every write of the master) names the base
    # tables' state.
    changed = ledger.db.execute("SELECT seq, at FROM journal WHERE kind NOT IN (?, ?, ?) ORDER BY seq DESC LIMIT 1",
                                ("batch", flag_history.JOURNAL_KIND, issues.KIND)).fetchone()
    key = (ledger.path.stat().st_ino, changed)
    cached = _base_cache.get(str(ledger.path))
    if cached is None or cached[0] != key:
        tables = ledger.tables(("phases", "committee", "branches"))
        tables["members"] = ledger.rows("members", columns=("member_id", "branch_id"))  # whose is each member
        cached = _base_cache[str(ledger.path)] = (key, tables)
    return cached[1]


def sessions_for_intake(ledger: Ledger) -> list[dict]:
    """The sessions a return is checked against: 补学 may name any earlier one (the latest before its week is the
    example), and a college session's hours are credited to those present at it (intake._college_attended). They
    change with every merge, so they are read fresh for each batch (a few columns)."""
    return ledger.rows("sessions", columns=("session_id", "branch_id", "hours", "date", "makes_up", "source_return"))


def makeups_for_intake(ledger: Ledger, sessions: list[dict]) -> dict[str, list[dict]]:
    """The 补学 the ledger holds, for a 补学 made again to be warned of (checks/makeup.py made_up_before): the
    self-study rows naming a session made up, and the attendance at 补学 sessions; read for each batch."""
    makeups = [s["session_id"] for s in sessions if s.get("makes_up")]
    return {"selfstudy": ledger.rows("selfstudy", 'WHERE "makes_up" IS NOT NULL',
                                     columns=("member_id", "makes_up", "source_return")),
            "attendance": ledger.rows_in("attendance", "session_id", makeups, with_row=False)}


def batch_context(ledger: Ledger, submissions: list[Submission]) -> dict[str, list[dict]]:
    """The stored records a batch can touch: the rows of the returns it names, the receipts of its files
    and of those returns. Read by index, so the cost is the batch's, not the ledger's."""
    return_ids = {s.return_id for s in submissions if s.return_id}
    receipts = {r["_row"]: r for r in ledger.rows_in(RECEIPTS, "sha256", [s.sha256 for s in submissions])}
    receipts.update({r["_row"]: r for r in ledger.rows_in(RECEIPTS, "return_id", return_ids)})
    context = {key: ledger.rows_in(key, RETURN, return_ids) for key in merged_sheets(ledger.schemas)}
    context[RECEIPTS] = [receipts[row] for row in sorted(receipts)]
    context["phases"] = base_tables(ledger)["phases"]  # each week's due day, for a late receipt's note
    return context


def commit(ledger: Ledger, changes: Changes, body: dict, *, who: str | None = None, at: datetime | None = None) -> int:
    """The batch into the ledger, whole or not at all, with its journal entry."""
    with ledger.transaction():
        for key, row_ids in changes.removed.items():
            ledger.delete(key, row_ids)
        for row_id, result in changes.receipt_results.items():
            ledger.set_column(RECEIPTS, "result", [row_id], result)
        for key, rows in changes.added.items():
            ledger.insert(key, rows)
        return ledger.journal("batch", body, who=who, at=at)


def journal_body(now_text: str, items: list[Incoming], submissions: list[Submission], outcomes: list[Outcome],
                 changes: Changes) -> dict:
    """What a replay needs besides the archived files: how each file came, and the receipts of
    files that are not archived (rejected or held)."""
    receipts = {r["receipt_id"]: r for r in changes.added.get(RECEIPTS, [])}
    entries = []
    for item, sub, outcome in zip(items, submissions, outcomes):
        entries.append({
            "sha256": sub.sha256, "file_name": sub.file_name, "sender": sub.sender, "received_at": sub.received_at,
            "approved": bool(item.mail.get("approved")), "hold": sub.hold, "result": outcome.result,
            "receipt": receipts.get(sub.receipt_id) if outcome.result in ("rejected", "quarantined") else None,
        })
    return {"now": now_text, "items": entries}


def file_all(home: Home, items: list[Incoming], copies: list[Path | None], submissions: list[Submission],
             result: BatchResult) -> None:
    for item, copy, sub, outcome in zip(items, copies, submissions, result.outcomes):
        result.filed[item.name] = file_away(home, item, copy, sub, outcome)
        discard_copy(copy)


def discard_copy(copy: Path | None) -> None:
    """A private copy and what the reader made beside it are gone once a file is handled."""
    if copy is not None:
        copy.unlink(missing_ok=True)
        marked_work_copy(copy).unlink(missing_ok=True)


def process(home: Home, items: list[Incoming], *, dry_run: bool = False, now: datetime | None = None,
            progress: Callable[[int, int, str], None] | None = None, on_wait: Callable[[str], None] | None = None,
            export: bool = True, who: str = "merge", stop: threading.Event | None = None) -> BatchResult:
    """Merge the items into HOME's ledger and file them away; then (unless told not to) write the master."""
    now = now or home.now()
    copies: list[Path] = []
    with (nullcontext() if dry_run else writing(home, who, on_wait, stop)), open_ledger(home) as ledger, \
            (tempfile.TemporaryDirectory(prefix="branchbook-") if dry_run else nullcontext()) as dry_work:
        try:
            return _process(home, ledger, items, copies, now, progress, export, Path(dry_work) if dry_work else None)
        finally:
            for copy in copies:  # on every path: a failure (a full disk) must not leave copies in .work/
                discard_copy(copy)


def _process(home: Home, ledger: Ledger, items: list[Incoming], copies: list[Path], now: datetime,
             progress: Callable[[int, int, str], None] | None, export: bool, dry_work: Path | None) -> BatchResult:
    """process() inside the writer lock (a dry run: without it, its copies in a folder of its own)."""
    dry_run = dry_work is not None
    if not dry_run:
        clean_work(home)  # a killed run's copies (docs/hazards.md 31); a writer is alone here
        take_office_edits(home, ledger)  # the office's hand edits are in before any return lands on them
    items = [item for item in items if item.path.exists()]  # a writer before us may have taken some
    sessions = sessions_for_intake(ledger)
    base = {**base_tables(ledger), "sessions": sessions, **makeups_for_intake(ledger, sessions)}
    ahead: list[TablesAhead] = []

    def read_ahead() -> None:  # the master's records, read while the children read the returns (on another core)
        pause_point("while-reading")
        with paused_gc():
            ahead.append(ledger.read_ahead())

    items, taken_copies, submissions = read_submissions(home, items, base, progress, ledger.schemas, copies, dry_work,
                                                        meanwhile=read_ahead if export and not dry_run else None)
    context = batch_context(ledger, submissions)
    changes, outcomes = plan_merge(context, submissions, now, ledger.schemas)
    render_notes(changes, home.lang)
    result = BatchResult(outcomes=outcomes, items=items, submissions=submissions, lang=home.lang)
    if dry_run:
        return result
    pause_point("before-commit")
    commit(ledger, changes, journal_body(timestamp_text(now), items, submissions, outcomes, changes))
    result.committed = True
    journal.mirror(ledger, journal_path(home))
    pause_point("after-commit")
    file_all(home, items, taken_copies, submissions, result)
    try:
        set_aside_corrected(home, context[RECEIPTS], submissions, outcomes)
    except OSError as error:  # only tidying: the returns are committed and filed, whatever the folder says
        log.warning(say(home.lang, "rejected files corrected now could not be set aside: {why}", why=error))
    if export:
        result.export = export_master(home, ledger, ahead=ahead[0] if ahead else None)
    return result


def _free_name(folder: Path, name: str, lang: str) -> Path:
    """A name in `folder` for a received file called `name`, not yet taken, safe on any file system."""
    name = stored_name(name)
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    counter = 1
    while target.exists():
        target = folder / say(lang, "{stem} ({number}){suffix}", stem=stem, number=counter, suffix=suffix)
        counter += 1
    return target


def set_aside_corrected(home: Home, receipts: list[dict], submissions: list[Submission],
                        outcomes: list[Outcome]) -> list[Path]:
    """Move the files in rejected/ that a return merged now corrects (the same branch and week), with their
    error reports and marked copies, into rejected/已更正/: what stays in rejected/ still waits for a correction
    (docs/design.md, "Reading received files"). A rejected file is known by its bytes, which its receipt holds. A moved
    file watched as unreadable is no longer watched (sync/relook.py forgets a file gone from rejected/)."""
    merged = {(sub.branch_id, sub.week): sub for sub, o in zip(submissions, outcomes) if o.result == "merged"}
    sent_back = {r["sha256"]: merged[(r.get("branch_id"), r.get("week"))] for r in receipts
                 if r.get("result") == "rejected" and (r.get("branch_id"), r.get("week")) in merged}
    folder, lang = home.folder("rejected"), home.lang
    if not sent_back or not folder.is_dir():
        return []
    corrected_folder = folder / say(lang, "corrected")
    moved = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or notes_beside(path.name):
            continue
        correction = sent_back.get(file_sha256(path))
        if correction is None:
            continue
        corrected_folder.mkdir(exist_ok=True)
        target = _free_name(corrected_folder, path.name, lang)
        report = report_suffix(lang)
        for old, new in ((path.with_name(path.name + report), target.with_name(target.name + report)),
                         (marked_copy(path, lang), marked_copy(target, lang))):
            if old.exists():
                shutil.move(str(old), new)
        shutil.move(str(path), target)
        log.info(say(lang, "{name} is superseded by the correction merged ({branch} week {week}): moved to "
                           "rejected/{folder}/", name=path.name, branch=correction.branch_name or correction.branch_id,
                     week=correction.week, folder=corrected_folder.name))
        moved.append(target)
    return moved


def file_away(home: Home, item: Incoming, copy: Path | None, sub: Submission, outcome: Outcome) -> Path:
    """Move the original out of the inbox: accepted to archive/, refused to rejected/ with its report,
    held to quarantine/ for approval. What goes beside it is written first, so a file gone from the
    inbox is a file fully handled."""
    mail_sidecar = sidecar_of(item.path)
    if outcome.result == "quarantined":
        folder = home.folder("quarantine")
        folder.mkdir(exist_ok=True)
        target = folder / f"{sub.receipt_id}__{stored_name(item.name)}"
        target.with_name(target.name + hold_note_suffix(home.lang)).write_text(hold_report(sub, home.lang), encoding="utf-8")
        if mail_sidecar is not None and mail_sidecar.exists():
            shutil.move(str(mail_sidecar), target.with_name(target.name + SIDECAR_SUFFIX))
        shutil.move(str(item.path), target)
        log.info(say(home.lang, "{name} waits for approval: {why}", name=item.name, why=sub.hold))
        return target
    if mail_sidecar is not None:
        mail_sidecar.unlink(missing_ok=True)  # what it said is kept in 周报 and in the archive's sidecar
    if outcome.result == "rejected":
        folder = home.folder("rejected")
        folder.mkdir(exist_ok=True)
        target = _free_name(folder, item.name, home.lang)
        # The reader marked the problem cells in a copy (workbook/intake.py read_received) when it could.
        made = copy is not None and marked_work_copy(copy).exists()
        if made:
            shutil.move(str(marked_work_copy(copy)), marked_copy(target, home.lang))
        report = target.with_name(target.name + report_suffix(home.lang))
        report.write_text(rejection_report(sub, outcome, home.lang, marked=made), encoding="utf-8")
        shutil.move(str(item.path), target)
        if sub.unreadable is not None:
            watch_rejected(home, target, item.path.name)  # a copy taken half-done comes back when it finishes
        log.info(say(home.lang, "sent back {name}: {problems}", name=item.name, problems=" ".join(worded(p, home.lang) for p in outcome.problems[:3])))
        foreign = [f.params["home"] for f in sub.findings if f.code == "meta-foreign"]
        if foreign:  # the secretary is only told it is not this college's template; the office may want whose
            log.info(say(home.lang, "{name} was made by the BranchBook ledger {home}, not by this one",
                         name=item.name, home=foreign[0]))
        return target
    folder = home.folder("archive")
    folder.mkdir(exist_ok=True)
    target = folder / f"{sub.receipt_id}__{stored_name(item.name)}"
    sidecar = {"file_name": item.name, "sender": item.sender, "received_at": sub.received_at,
               "sha256": sub.sha256, "result": outcome.result, "approved": bool(item.mail.get("approved"))}
    if target.exists():
        item.path.unlink()  # the same bytes under the same name are already archived
    else:
        target.with_name(target.name + ".json").write_text(json.dumps(sidecar, ensure_ascii=False, indent=1),
                                                           encoding="utf-8")
        shutil.move(str(item.path), target)
    line = outcome_line(outcome, lang=home.lang)
    # What was merged other than as sent; a duplicate or an older version merged nothing, so has nothing to note.
    notes = sub.notes(home.lang) if outcome.result == "merged" else []
    if notes:  # a file dropped in the inbox gets no reply: the office reads what was changed in the log
        line += say(home.lang, "; to note: {notes}", notes=first_few(notes, home.lang))
    log.info(line)
    return target
