"""`branchbook serve`: the watchdog observer on inbox/, a worker that batches, and a status file.

Events only make it faster: the worker also rescans the folder at start and on a timer, because a
full event buffer on Windows loses events silently (docs/hazards.md 4). The merge itself is the pipeline's.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from ..workbook.books import open_ledger
from ..workbook.cells import timestamp_text
from ..workbook.errors import UserError
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.reports.summaries import outcome_line
from .export import export_master, needs_export
from .inbox import StabilityTracker, inbox_files, is_ignored
from .mail_intake import unpack_mail_files
from .mail_side import MailSide
from .master_store import is_busy
from .pipeline import Incoming, process
from .writer import Stopped

log = logging.getLogger("branchbook.sync")
say = Domain("service")
LOCK_NAME = ".branchbook.lock"
STATUS_NAME = "status.json"


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
        self.tracker = StabilityTracker(settings.stable_polls * self.poll)
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
        self._status_lock = threading.Lock()  # start() and the worker both report
        self._last_state, self._last_message = "idle", ""
        self.export_due = True  # a master older than the ledger (a crash, a merge while Excel had it) is caught up at start
        self.next_master_check = 0.0
        self.master_check_seconds = settings.master_check_seconds

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            raise AlreadyRunning(self.home) from None
        try:
            self.inbox.mkdir(exist_ok=True)
            self._status("idle", say(self.home.lang, "The sync service has started"))
            self.observer = (PollingObserver if self.polling else Observer)(timeout=self.poll)
            self.handler = _InboxHandler(self.wake, self.seen, self.seen_lock)
            self.observer.schedule(self.handler, str(self.inbox),
                                   recursive=False)
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
        self.lock.release()

    def healthy(self) -> bool:
        """A stalled observer or worker is noticed by whoever watches the status."""
        return bool(self.observer and self.observer.is_alive() and self.worker and self.worker.is_alive())

    # -- the worker ------------------------------------------------------------------------------
    def _run(self) -> None:
        next_rescan = 0.0  # scan at once: what arrived while we were down
        while not self.stop_event.is_set():
            try:
                notices = unpack_mail_files(self.home)  # .eml files and Maildir folders dropped in the inbox
                if self.mail:
                    self.mail.notify(notices)
                now = time.monotonic()
                if now >= next_rescan:
                    with self.seen_lock:
                        self.seen.update(inbox_files(self.inbox))
                    next_rescan = now + self.rescan_every
                if self.wake.is_set():
                    self.wake.clear()
                    self.last_event = self.handler.last_arrival
                self._maybe_process()
                if not self.seen:
                    self._export_when_quiet()
                if self.mail and self.mail.fetcher.state != self._mail_state_shown:
                    self._status(self._last_state, self._last_message)  # the mailbox's news, promptly
            except Stopped:
                break
            except Exception:  # noqa: BLE001 - the service outlives any one bad pass
                log.exception(say(self.home.lang, "this pass of the sync failed; it is tried again shortly"))
                self._status("error", say(self.home.lang, "The sync failed; it is tried again shortly (see "
                                                          "logs/sync.log)"))
            self.wake.wait(self.poll)

    def _maybe_process(self) -> None:
        with self.seen_lock:
            candidates = sorted(p for p in self.seen if p.exists())
            self.seen.intersection_update(candidates)  # in place: the observer's handler holds this very set
        if not candidates:
            return
        ready = self.tracker.ready(candidates)
        if len(ready) < len(candidates) or time.monotonic() - self.last_event < self.quiet:
            return  # a burst is still arriving: one master write for the whole batch
        result = process(self.home, [Incoming.at(p) for p in ready], export=False, who="serve", stop=self.stop_event,
                         on_wait=lambda message: self._status("waiting", message, pending=len(ready)))
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
                self._status("waiting", say(lang, "The ledger is up to date; {why}", why=busy))
                return
            result = export_master(self.home, ledger)
        if result.refused:
            self.export_due = False  # nothing to do until the office fixes the master and saves it again
            self._status("waiting", result.why_waiting(lang))
        elif result.busy:
            self._status("waiting", say(lang, "The ledger is up to date; {why}", why=result.busy))
        else:
            self.export_due = False
            self._status("idle", say(lang, "The master is up to date"), flags=len(result.flags))

    def _status(self, state: str, message: str, **extra) -> None:
        status = {"state": state, "message": message, "pid": os.getpid(),
                  "updated": timestamp_text(datetime.now()), "batches": self.batches, **extra}
        if self.mail:
            status["mail"] = self._mail_state_shown = dict(self.mail.fetcher.state)
        self._last_state, self._last_message = state, message
        path = self.home.root / STATUS_NAME
        temp = path.with_suffix(".json.tmp")
        with self._status_lock:
            temp.write_text(json.dumps(status, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(temp, path)


_OURS = "branchbook-service"  # the name of the handlers configure_logging installs


def configure_logging(home: Home) -> list[logging.Handler]:
    """The service's log: logs/sync.log and the console, each event once.

    Called again (for another HOME, or twice in one process), it replaces the handlers it installed
    before instead of adding more: every handler added is one more copy of each line. The records of
    the branchbook loggers stop here and do not also reach the root logger, which a host program
    (or a library that calls logging.basicConfig) may have given a console handler of its own."""
    close_logging()
    folder = home.root / "logs"
    folder.mkdir(exist_ok=True)
    handler = logging.FileHandler(folder / "sync.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    root = logging.getLogger("branchbook")
    root.setLevel(logging.INFO)
    root.propagate = False
    for one in (handler, console):
        one.set_name(_OURS)
        root.addHandler(one)
    return [handler, console]


def close_logging() -> None:
    """Remove (and close) the handlers configure_logging installed; the branchbook loggers propagate again."""
    root = logging.getLogger("branchbook")
    for handler in [h for h in root.handlers if h.get_name() == _OURS]:
        root.removeHandler(handler)
        handler.close()
    root.propagate = True


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
            pass
    finally:
        service.stop()
