"""One pass over received files: read each from a private copy, merge them all, recompute the
flags, write the master once, then file each original in archive/ or rejected/.

The order makes a crash harmless: until the master is replaced nothing has moved, and once it is,
each file's SHA-256 is in 周报, so a replay finds it merged and only files it (HAZARDS 9).
"""
from __future__ import annotations

import json
import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..workbook.annotate import annotate
from ..workbook.cells import timestamp_text
from ..workbook.flags import Flag, compute_flags, flag_rows
from ..workbook.home import Home
from ..workbook.intake import Submission, file_sha256, load_submission, sender_hold
from ..workbook.merge import Outcome, merge
from ..workbook.reports.dashboard import dashboard_painter
from ..workbook.safe_open import UnreadableFile
from .inbox import inbox_files
from .mail_intake import SIDECAR_SUFFIX, read_sidecar, unpack_mail_files
from .master_store import MasterBusy, MasterStore, is_busy
from .pause import pause_point
from .quarantine import HOLD_NOTE_SUFFIX
from .reports import hold_report, rejection_report

log = logging.getLogger("branchbook.sync")
WORK_FOLDER = ".work"


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
    flags: list[Flag] = field(default_factory=list)
    written: bool = False
    busy: str | None = None
    filed: dict[str, Path] = field(default_factory=dict)  # file name -> where it went
    tables: dict[str, list[dict]] = field(default_factory=dict, repr=False)  # the master after the merge
    items: list[Incoming] = field(default_factory=list, repr=False)
    submissions: list[Submission] = field(default_factory=list, repr=False)


def _private_copy(home: Home, item: Incoming) -> Path:
    """Read a copy, never the file a secretary or the mail fetcher may still be touching."""
    work = home.root / WORK_FOLDER
    work.mkdir(exist_ok=True)
    target = work / f"{uuid.uuid4().hex}{item.path.suffix.lower()}"  # hashed once, from the copy, by the intake
    shutil.copyfile(item.path, target)
    return target


def _received_at(item: Incoming) -> datetime:
    return item.received_at or datetime.fromtimestamp(item.path.stat().st_mtime)


def incoming(home: Home, files: list[Path] | None = None) -> list[Incoming]:
    """What a foreground pass takes: the inbox (saved mails unpacked first), or the given files copied
    into it so that the originals stay where they are."""
    inbox = home.folder("inbox")
    unpack_mail_files(home)
    if not files:
        return [Incoming.at(path) for path in inbox_files(inbox)]
    items = []
    for path in files:
        target = inbox / Path(path).name
        if Path(path).resolve() != target.resolve():
            shutil.copy2(path, target)
        items.append(Incoming(target))
    return items


def read_submissions(home: Home, items: list[Incoming], tables: dict[str, list[dict]],
                     progress: Callable[[int, int, str], None] | None = None) -> tuple[list[Path], list[Submission]]:
    """Each file read from its private copy against the master's current tables."""
    copies, submissions = [], []
    for number, item in enumerate(items, start=1):
        if progress:
            progress(number, len(items), item.name)
        copy = _private_copy(home, item)
        copies.append(copy)
        try:
            sub = load_submission(copy, tables, file_name=item.name, sender=item.sender,
                                  received_at=_received_at(item), lang=home.lang)
        except Exception as error:  # noqa: BLE001 - one strange file must not block every other return
            log.exception("读取 %s 时出错，按损坏文件退回", item.name)
            sub = Submission(file_name=item.name, sha256=file_sha256(copy), received_at=timestamp_text(datetime.now()),
                             sender=item.sender,
                             unreadable=UnreadableFile("corrupt", Path(item.name), reason=type(error).__name__))
        if item.sender and not item.mail.get("approved"):
            sub.hold = sender_hold(sub, tables.get("branches", []), item.mail.get("authenticated"))
        submissions.append(sub)
    return copies, submissions


def merge_and_flag(home: Home, tables: dict[str, list[dict]], submissions: list[Submission],
                   now: datetime | None = None) -> BatchResult:
    merged, outcomes = merge(tables, submissions, now=now)
    flags = compute_flags(merged, home.as_of)
    merged["flags"] = flag_rows(flags)
    return BatchResult(outcomes=outcomes, flags=flags, tables=merged)


def file_all(home: Home, items: list[Incoming], copies: list[Path], submissions: list[Submission],
             result: BatchResult) -> None:
    for item, copy, sub, outcome in zip(items, copies, submissions, result.outcomes):
        result.filed[item.name] = file_away(home, item, copy, sub, outcome)
        copy.unlink(missing_ok=True)


def process(home: Home, items: list[Incoming], *, dry_run: bool = False, now: datetime | None = None,
            progress: Callable[[int, int, str], None] | None = None) -> BatchResult:
    store = MasterStore(home)
    if not dry_run:
        busy = is_busy(store.path)
        if busy:
            return BatchResult(busy=busy)
    tables = store.read()
    copies, submissions = read_submissions(home, items, tables, progress)
    result = merge_and_flag(home, tables, submissions, now)
    result.items, result.submissions = items, submissions
    if dry_run:
        for copy in copies:
            copy.unlink(missing_ok=True)
        return result
    try:
        store.write(result.tables, painters=painters(home, result.flags))
    except MasterBusy as busy:
        result.busy = str(busy)
        return result
    result.written = True
    pause_point("after-replace")
    file_all(home, items, copies, submissions, result)
    return result


def painters(home: Home, flags: list[Flag] | None = None):
    """Extra sheets drawn into the master on every write: the dashboard, as of the flags' date
    (from the flags just computed, when the caller has them)."""
    return (dashboard_painter(home.as_of, flags),)


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    counter = 1
    while target.exists():
        target = folder / f"{stem}（{counter}）{suffix}"
        counter += 1
    return target


def file_away(home: Home, item: Incoming, copy: Path, sub: Submission, outcome: Outcome) -> Path:
    """Move the original out of the inbox: accepted to archive/, refused to rejected/ with its report,
    held to quarantine/ for approval. What goes beside it is written first, so a file gone from the
    inbox is a file fully handled."""
    mail_sidecar = item.path.with_name(item.path.name + SIDECAR_SUFFIX)
    if outcome.result == "quarantined":
        folder = home.folder("quarantine")
        folder.mkdir(exist_ok=True)
        target = folder / f"{sub.receipt_id}__{Path(item.name).name}"
        target.with_name(target.name + HOLD_NOTE_SUFFIX).write_text(hold_report(sub), encoding="utf-8")
        if mail_sidecar.exists():
            shutil.move(str(mail_sidecar), target.with_name(target.name + SIDECAR_SUFFIX))
        shutil.move(str(item.path), target)
        log.info("%s 待审批：%s", item.name, sub.hold)
        return target
    mail_sidecar.unlink(missing_ok=True)  # what it said is kept in 周报 and in the archive's sidecar
    if outcome.result == "rejected":
        folder = home.folder("rejected")
        folder.mkdir(exist_ok=True)
        target = _free_name(folder, item.name)
        report = target.with_name(target.name + ".错误报告.txt")
        report.write_text(rejection_report(sub, outcome), encoding="utf-8")
        if sub.unreadable is None and sub.report is not None:
            try:
                annotate(copy, sub.report, target.with_name(f"{target.stem}.标注.xlsx"), home.lang)
            except Exception:  # noqa: BLE001 - a marked copy is a courtesy; the report above already says it all
                log.exception("%s 的标注副本没有生成", item.name)
        shutil.move(str(item.path), target)
        log.info("退回 %s：%s", item.name, " ".join(outcome.problems[:3]))
        return target
    folder = home.folder("archive")
    folder.mkdir(exist_ok=True)
    target = folder / f"{sub.receipt_id}__{Path(item.name).name}"
    sidecar = {"file_name": item.name, "sender": item.sender, "received_at": sub.received_at,
               "sha256": sub.sha256, "result": outcome.result, "approved": bool(item.mail.get("approved"))}
    if target.exists():
        item.path.unlink()  # the same bytes under the same name are already archived
    else:
        target.with_name(target.name + ".json").write_text(json.dumps(sidecar, ensure_ascii=False, indent=1),
                                                           encoding="utf-8")
        shutil.move(str(item.path), target)
    log.info("%s：%s", item.name, outcome.result)
    return target
