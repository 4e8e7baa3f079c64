"""`branchbook serve`: the watchdog observer on inbox/, a worker that batches, and a status file.

Events only make it faster: the worker also rescans the folder at start and on a timer, because a
full event buffer on Windows loses events silently (docs/hazards.md 4). The merge itself is the pipeline's.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import threading
import time
from pathlib import Path

from filelock import FileLock, Timeout
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from ..workbook.books import open_ledger
from ..workbook.errors import UserError
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.reports.summaries import outcome_line
from .export import KeptRecords, export_master, needs_export
from .inbox import StabilityTracker, inbox_files, is_ignored
from .logs import close_logging, configure_logging
from .mail_intake import unpack_mail_files
from .mail_side import MailSide
from .master_store import is_busy
from .pipeline import Incoming, clean_work, process
from .relook import relook
from .status import ERRORS_LOG, LOCK_NAME, STATUS_NAME, InboxGone, StatusFile, failure_kind, failure_words
from .writer import Stopped, refuse_if_closed, tick_while_waiting, writing

log = logging.getLogger("branchbook.sync")
say = Domain("service")
ARRIVING_NAMED = 3  # the status names this many files still arriving, and counts the rest
LOCK_PATIENCE_SECONDS = 2.0  # `branchbook status` takes the lock for an instant to see whether it is held
MAX_BACKOFF_SECONDS = 60.0  # a failing pass is retried at most this far apart
BURST_HOLD_FACTOR = 5  # ready files wait at most this many stability periods for others still being written
__all__ = ["STATUS_NAME", "AlreadyRunning", "SyncService", "close_logging", "configure_logging", "serve_forever"]


class AlreadyRunning(UserError):
    def __init__(self, home: Home):
        super().__init__("already-running", home=str(home.root))


class _InboxHandler(FileSystemEventHandler):
    """Every file event in the inbox; what is not a return is left out by is_ignored. (A pattern-matching
    handler matches its patterns against the whole path: "*" never matches, docs/hazards.md 27.)"""

    def __init__(self, wake: threading.Event, seen: set[Path], lock: threading.Lock):
        super().__init__()
        self.wake, self.seen, self.lock = wake, seen, lock
        # When a file last arrived: a burst is over once none has for a while. A change to a file already
        # seen (a copy going on, or the worker's own look at it) is not an arrival.
        self.last_arrival = 0.0

    def _note(self, path: str | bytes) -> None:
        candidate = Path(os.fsdecode(path))
        if not is_ignored(candidate):
            with self.lock:
                if candidate not in self.seen:
                    self.last_arrival = time.monotonic()
                self.seen.add(candidate)
            self.wake.set()

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._note(event.src_path)

    def on_modified(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._note(event.src_path)

    def on_closed(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._note(event.src_path)

    def on_moved(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._note(event.dest_path)  # save-to-temp-then-rename writers land here


class SyncService:
    def __init__(self, home: Home, polling: bool | None = None):
        self.home = home
        settings = home.settings.sync
        self.poll = settings.poll_seconds
        self.rescan_every = settings.rescan_seconds
        self.quiet = settings.quiet_seconds
        self.polling = settings.polling if polling is None else polling
        self.inbox = home.folder("inbox")
        self.tracker = StabilityTracker(settings.stable_polls * self.poll, settings.stall_seconds)
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self.seen: set[Path] = set()
        self.seen_lock = threading.Lock()
        self.last_event = 0.0
        self.lock = FileLock(str(home.root / LOCK_NAME))
        self.observer = None
        self.handler: _InboxHandler | None = None
        self.worker: threading.Thread | None = None
        self.batches = 0
        self.mail = MailSide.of(home, self.wake)
        self._mail_state_shown: dict | None = None
        self.status = StatusFile(home, settings.stale_after_seconds)
        self._ready_since = 0.0  # when files first stood ready while others were still being written
        self.failures = 0  # passes failed in a row: the back-off grows with them
        self._failure_said: tuple[str, str] | None = None  # the failure last logged: a repeat is not a new event
        self._waiting_said: str | None = None
        self._said_arriving = False  # the status names files not whole yet (_say_arriving)
        self._watched: tuple[int, int] | None = None  # (device, inode) of the inbox the observer watches
        self.export_due = True  # a master older than the ledger (a crash, a merge while Excel had it) is caught up at start
        self.next_master_check = 0.0
        self.master_check_seconds = settings.master_check_seconds
        self.kept = KeptRecords()  # the records of the master's last write, for the next to bring up to date

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        refuse_if_closed(self.home, "serve")  # an earlier campaign is only read (sync/campaigns.py)
        try:
            self.lock.acquire(timeout=LOCK_PATIENCE_SECONDS)
        except Timeout:
            raise AlreadyRunning(self.home) from None
        try:
            self.inbox.mkdir(exist_ok=True)
            self._status("idle", say(self.home.lang, "The sync service has started"))
            self.observer = (PollingObserver if self.polling else Observer)(timeout=self.poll)
            self.handler = _InboxHandler(self.wake, self.seen, self.seen_lock)
            self._watch()
            self.observer.start()
            self.worker = threading.Thread(target=self._run, name="branchbook-sync", daemon=False)
            self.worker.start()
            if self.mail:
                self.mail.fetcher.start(self.stop_event)
        except BaseException:
            self.stop()  # nothing half-started is left running, and the lock is released
            raise
        log.info(say(self.home.lang, "the sync service has started, watching {inbox} (Ctrl+C stops it)",
                     inbox=self.inbox))

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()
        if self.worker:
            self.worker.join(timeout=120)
        if self.mail:
            self.mail.fetcher.join()
        if self.observer and self.observer.is_alive():
            self.observer.stop()
            self.observer.join(timeout=10)
        self._status("stopped", say(self.home.lang, "The sync service has stopped"))
        log.info(say(self.home.lang, "The sync service has stopped"))
        self.lock.release()

    def revive(self) -> bool:
        """Start the worker again if something no guard caught (a bug) ended it: the process never sits there
        with nothing working. serve_forever calls this every second."""
        if self.stop_event.is_set() or self.worker is None or self.worker.is_alive():
            return False
        log.error(say(self.home.lang, "the sync worker stopped unexpectedly; it is started again"))
        self.worker = threading.Thread(target=self._run, name="branchbook-sync", daemon=False)
        self.worker.start()
        return True

    def healthy(self) -> bool:
        """A stalled observer or worker is noticed by whoever watches the status."""
        return bool(self.observer and self.observer.is_alive() and self.worker and self.worker.is_alive())

    # -- the worker ------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # noqa: BLE001 - a bug outside the guarded pass: logged (not printed), and revive() restarts
            log.error(say(self.home.lang, "the sync worker stopped unexpectedly"), exc_info=True)

    def _loop(self) -> None:
        """Every iteration is guarded: a failure is said in status.json and the log, retried with a growing
        pause, and the service goes on by itself once its cause is gone (docs/hazards.md 30)."""
        next_rescan = 0.0  # scan at once: what arrived while we were down
        work_cleaned = False
        tick_while_waiting(self._beat)  # alive while another writer (a merge, a rebuild) holds the ledger
        while not self.stop_event.is_set():
            try:
                self._watch()
                if not work_cleaned:  # copies a killed run left in .work/ (docs/hazards.md 31)
                    with writing(self.home, "serve", self._waiting, self.stop_event):
                        clean_work(self.home)
                    work_cleaned = True
                notices = unpack_mail_files(self.home)  # .eml files and Maildir folders dropped in the inbox
                if self.mail:
                    self.mail.notify(notices)
                back = relook(self.home)  # sent back as unreadable, then changed: a copy that went on
                if back:
                    with self.seen_lock:
                        self.seen.update(back)
                now = time.monotonic()
                if now >= next_rescan:
                    with self.seen_lock:
                        self.seen.update(inbox_files(self.inbox))
                    next_rescan = now + self.rescan_every
                if self.wake.is_set():
                    self.wake.clear()
                    self.last_event = self.handler.last_arrival
                if not self._maybe_process():
                    self._export_when_quiet()
                if self.failures:
                    self._recovered()
            except Stopped:
                break
            except Exception as error:  # noqa: BLE001 - the service outlives any one bad pass
                self._failed(error)
                next_rescan = 0.0  # events may have been lost meanwhile: look at the whole inbox once it is back
            self._beat()
            if self.failures:
                self.stop_event.wait(min(self.poll * 2 ** self.failures, MAX_BACKOFF_SECONDS))
            else:
                self.wake.wait(self.poll)

    def _watch(self) -> None:
        """Watch the inbox, again if it was replaced or came back (a share remounted, the folder re-made): an
        observer keeps watching the folder it was given, and inotify's watch ends when that folder goes."""
        try:
            info = self.inbox.stat()
        except FileNotFoundError:
            raise InboxGone(errno.ENOENT, "inbox missing", str(self.inbox)) from None
        if not self.inbox.is_dir():
            raise InboxGone(errno.ENOTDIR, "inbox is not a folder", str(self.inbox))
        key = (info.st_dev, info.st_ino)
        if key == self._watched and all(emitter.is_alive() for emitter in self.observer.emitters):
            return
        if self._watched is not None:
            self.observer.unschedule_all()
            with self.seen_lock:
                self.seen.update(inbox_files(self.inbox))  # what came while it was away
            self.wake.set()
        self.observer.schedule(self.handler, str(self.inbox), recursive=False)
        self._watched = key

    def _failed(self, error: Exception) -> None:
        """Say what failed, once per cause, and back off. Never raises: if even this cannot be written (the
        disk is full), the next iteration tries again."""
        self.failures += 1
        try:
            words = failure_words(error, self.home, self.home.root / "logs" / ERRORS_LOG)
            said = (failure_kind(error, self.home.root), words)
            if said != self._failure_said:
                self._failure_said = said
                log.error(words, exc_info=error)  # one line in sync.log; the traceback in the errors log
            self.status.error(error, words)
        except Exception:  # noqa: BLE001 - the error handler itself must not end the worker
            pass

    def _recovered(self) -> None:
        self.failures = 0
        self._failure_said = None
        lang = self.home.lang
        log.info(say(lang, "the sync works again"))
        if self.status.state == "error":
            self._status("idle", say(lang, "The sync works again"))

    def _beat(self) -> None:
        try:
            mail = dict(self.mail.fetcher.state) if self.mail else None
            if mail is not None:
                self._mail_state_shown = mail
            self.status.beat(batches=self.batches, **({"mail": mail} if mail is not None else {}))
        except Exception:  # noqa: BLE001 - a heartbeat that cannot be written is tried on the next iteration
            pass

    def _waiting(self, message: str, **extra) -> None:
        """A waiting state: in status.json, and in the log once per reason (not on every retry)."""
        reason = re.sub(r"\d+", "#", message)  # the same reason with an age grown older is not a new event
        if reason != self._waiting_said:
            self._waiting_said = reason
            log.info(message)
        self._status("waiting", message, **extra)

    def _maybe_process(self) -> bool:
        """Merge the files that are ready, once a burst is over. True while work is still coming (files ready
        but held for the burst, or being written): the master waits for it. A file whose copy has stalled
        holds up nothing (docs/hazards.md 1)."""
        with self.seen_lock:
            candidates = sorted(p for p in self.seen if p.exists())
            self.seen.intersection_update(candidates)  # in place: the observer's handler holds this very set
        if not candidates:
            self._say_arriving([])
            return False
        now = time.monotonic()
        ready = self.tracker.ready(candidates, now)
        writing_now = self.tracker.changing(candidates, now)
        self._say_arriving([path for path in candidates if path not in ready])
        if not ready:
            return bool(writing_now)
        self._ready_since = self._ready_since or now
        held = now - self._ready_since < BURST_HOLD_FACTOR * self.tracker.stable_seconds
        if now - self.last_event < self.quiet or (writing_now and held):
            return True  # a burst is still arriving: one master write for the whole batch
        self._ready_since = 0.0
        result = process(self.home, [Incoming.at(p) for p in ready], export=False, who="serve", stop=self.stop_event,
                         on_wait=lambda message: self._waiting(message, pending=len(ready)),
                         progress=lambda *_: self._beat())
        self.batches += 1
        self.export_due = True
        with self.seen_lock:
            self.seen.difference_update(ready)
        self.tracker.forget(ready)
        # Each file's outcome is logged once, where it is filed (pipeline.file_away): not again here.
        if self.mail and any(item.mail for item in result.items):
            self._export_when_quiet()  # a reply quotes the branch's flags: bring them up to date first
            with open_ledger(self.home) as ledger:
                self.mail.answer(result, ledger.tables())
        lang = self.home.lang
        self._status("idle", say(lang, "Files processed: {count}", count=len(ready)),
                     pending=0, last=[outcome_line(o, lang=lang) for o in result.outcomes])
        return True

    def _say_arriving(self, arriving: list[Path]) -> None:
        """A file in the inbox that is not whole yet (its copy goes on, or stopped half-way) is what the service
        waits for: the status names it instead of calling the service idle, and says when the wait is over."""
        lang = self.home.lang
        if arriving:
            self._said_arriving = True
            shown = ARRIVING_NAMED
            names = say(lang, ", ").join(path.name for path in arriving[:shown])
            if len(arriving) > shown:
                names += say(lang, " and {count} more", count=len(arriving) - shown)
            # In the status only: every file is briefly not whole as it arrives, which is no news for the log.
            self._status("waiting", say(lang, "Waiting for {names} in the inbox: not fully copied in yet; it is "
                                              "merged once whole", names=names), pending=len(arriving))
        elif self._said_arriving:
            self._said_arriving = False
            self._status("idle", say(lang, "No file in the inbox is waiting to be copied in whole"))

    def _export_when_quiet(self) -> None:
        """The master follows the ledger once a burst is over: after a batch, or when the office has
        saved the master (its edits are taken in first), retried while Excel holds the file."""
        now = time.monotonic()
        if not self.export_due and now < self.next_master_check:
            return
        self.next_master_check = now + self.master_check_seconds
        lang = self.home.lang
        with open_ledger(self.home) as ledger:
            if not needs_export(self.home, ledger):
                self.export_due = False
                return
            busy = is_busy(self.home.master, lang)
            if busy:
                self._waiting(say(lang, "The ledger is up to date; {why}", why=busy))
                return
            result = export_master(self.home, ledger, kept=self.kept)
        if result.refused:
            self.export_due = False  # nothing to do until the office fixes the master and saves it again
            self._waiting(result.why_waiting(lang))
        elif result.busy:
            self._waiting(say(lang, "The ledger is up to date; {why}", why=result.busy))
        else:
            self.export_due = False
            self._waiting_said = None
            self._status("idle", say(lang, "The master is up to date"), flags=len(result.flags))

    def _status(self, state: str, message: str, **extra) -> None:
        if self.mail:
            extra["mail"] = self._mail_state_shown = dict(self.mail.fetcher.state)
        self.status.report(state, message, pid=os.getpid(), batches=self.batches, **extra)


def serve_forever(home: Home, polling: bool | None = None) -> None:
    import signal

    service = SyncService(home, polling)
    stop = threading.Event()
    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: stop.set())
    service.start()
    try:
        while not stop.wait(1.0):
            service.revive()
    finally:
        service.stop()
