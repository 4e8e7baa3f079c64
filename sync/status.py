"""status.json: what the service is doing, a heartbeat, and its last error (docs/design.md, "The service").

The heartbeat is the time of the worker's last loop iteration, written on every iteration, idle or
not; whoever reads the file (`branchbook status`, the office) knows the service is dead or hung when
it is older than `stale_after`. Writing the file never raises: on a full disk or a read-only folder
the news is kept in memory and written by the next iteration that can (docs/hazards.md 30).
"""
from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from ..workbook.cells import timestamp_text
from ..workbook.home import Home
from ..workbook.i18n import N_, Domain

log = logging.getLogger("branchbook.sync")
say = Domain("service")
STATUS_NAME = "status.json"
LOCK_NAME = ".branchbook.lock"  # held by `serve` for as long as it runs
ERRORS_LOG = "branchbook-errors.log"  # tracebacks, kept apart from the one-line-per-event sync.log


class InboxGone(OSError):
    """The inbox folder is not there (a network share dropped, or the folder deleted)."""


FULL_BELOW = 1024 * 1024  # a write that fails with less than this free is taken for a full disk


def _errno(error: BaseException, where: Path | None) -> int | None:
    if isinstance(error, OSError):
        return error.errno
    if isinstance(error, sqlite3.OperationalError):  # sqlite words the OS's refusals its own way
        text = str(error).lower()
        if "disk is full" in text or "disk full" in text:
            return errno.ENOSPC
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return errno.EROFS
        if "disk i/o error" in text and where is not None:  # what a write-ahead log says on ENOSPC
            try:
                return errno.ENOSPC if shutil.disk_usage(where).free < FULL_BELOW else errno.EIO
            except OSError:
                return errno.EIO
    return None


def _causes(error: BaseException) -> list[BaseException]:
    found, seen = [], set()
    pending = [error]
    while pending and len(found) < 10:
        one = pending.pop(0)
        if one is None or id(one) in seen:
            continue
        seen.add(id(one))
        found.append(one)
        pending += [one.__cause__, one.__context__, *(a for a in one.args if isinstance(a, BaseException))]
    return found


def failure_kind(error: BaseException, where: Path | None = None) -> str:
    """What went wrong, as a code: inbox-gone, disk-full, read-only, or unexpected. `where`: the folder
    written to, for errors that do not say themselves whether the disk was full."""
    if isinstance(error, InboxGone):
        return "inbox-gone"
    number = None
    for cause in _causes(error):  # a library's own exception may wrap the OS's (XlsxWriter's FileCreateError)
        number = _errno(cause, where)
        if number is not None:
            break
    if number in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return "disk-full"
    if number in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "read-only"
    return "unexpected"


def failure_words(error: BaseException, home: Home, details: Path) -> str:
    """The failure in the HOME's language: what happened, what to do, and where the details are."""
    lang, kind = home.lang, failure_kind(error, home.root)
    where = getattr(error, "filename", None) or home.root
    if kind == "inbox-gone":
        return say(lang, "The inbox folder {inbox} is missing (a network share disconnected, or the folder was deleted or "
                         "renamed): restore it and the work goes on by itself.", inbox=home.folder("inbox"))
    if kind == "disk-full":
        return say(lang, "The disk holding {folder} is full: free some space and the work goes on by itself. Details: "
                         "{log}", folder=home.root, log=details)
    if kind == "read-only":
        return say(lang, "{path} cannot be written (a read-only folder or disk, or no permission): make it writable and "
                         "the work goes on by itself. Details: {log}", path=where, log=details)
    return say(lang, "The sync failed unexpectedly; it is tried again shortly. Details: {log}", log=details)


@dataclass
class Heartbeat:
    """What a status file says of the service's liveness, as read by someone else."""

    state: str
    age: float | None  # seconds since the last heartbeat (None: no heartbeat recorded)
    stale_after: float

    @property
    def stale(self) -> bool:
        return self.state not in ("stopped", "never-started") and (self.age is None or self.age > self.stale_after)


def read_status(home: Home) -> dict:
    path = home.root / STATUS_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"state": "never-started"}
    except (OSError, ValueError):
        return {"state": "unknown"}


def heartbeat_of(status: dict, now: datetime | None = None) -> Heartbeat:
    now = now or datetime.now()
    try:
        age = (now - datetime.fromisoformat(status["heartbeat"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        age = None
    return Heartbeat(status.get("state", "unknown"), age, float(status.get("stale_after", 120)))


class StatusFile:
    """The service's status.json, written whole (temp file and replace) and never raising."""

    def __init__(self, home: Home, stale_after: float):
        self.home = home
        self.path = home.root / STATUS_NAME
        self.stale_after = stale_after
        self.fields: dict = {"state": "idle", "message": "", "pid": os.getpid()}
        self.unwritten = False  # the last write failed: the next beat tries again
        self._lock = threading.Lock()  # the worker, start/stop and the mail side all report

    def report(self, state: str, message: str, **extra) -> bool:
        """A new state: its own details replace the last state's; the last error stays."""
        with self._lock:
            kept = {key: self.fields[key] for key in ("pid", "batches", "mail", "last_error") if key in self.fields}
            self.fields = {**kept, **extra, "state": state, "message": message,
                           "updated": timestamp_text(datetime.now())}
        return self.beat()

    def error(self, error: BaseException, words: str) -> bool:
        """Record the failure as the last error (kept after the service recovers) and say so."""
        with self._lock:
            self.fields["last_error"] = {"at": timestamp_text(datetime.now()), "kind": failure_kind(error, self.home.root),
                                         "message": words, "log": str(self.home.root / "logs" / ERRORS_LOG)}
        return self.report("error", words)

    @property
    def state(self) -> str:
        return self.fields["state"]

    @property
    def message(self) -> str:
        return self.fields["message"]

    def beat(self, **extra) -> bool:
        """Write the status with a fresh heartbeat; False (and no exception) when it cannot be written."""
        with self._lock:
            self.fields.update(extra)
            self.fields.update(heartbeat=timestamp_text(datetime.now()), stale_after=self.stale_after)
            text = json.dumps(self.fields, ensure_ascii=False, indent=1)
            temp = self.path.with_suffix(".json.tmp")
            try:
                temp.write_text(text, encoding="utf-8")
                os.replace(temp, self.path)
            except OSError:  # a full disk, a read-only folder: the news waits in memory
                try:
                    temp.unlink(missing_ok=True)
                except OSError:
                    pass
                self.unwritten = True
                return False
            self.unwritten = False
            return True


STATES = {"idle": N_("idle"), "waiting": N_("waiting"), "error": N_("error"), "stopped": N_("stopped"),
          "never-started": N_("never started"), "unknown": N_("unreadable")}


def lock_held(home: Home) -> bool | None:
    """Whether a process holds the service's lock (`serve` holds it for as long as it runs, and the OS lets go of
    it when the process ends, however it ends): True, False, or None when it cannot be told (no permission).
    Taking it for an instant to see is safe: `serve` waits a moment for it before it calls itself a second copy."""
    path = home.root / LOCK_NAME
    if not path.exists():  # on Windows the file goes with the lock
        return False
    probe = FileLock(str(path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:
        return None
    probe.release()
    return False


# What `branchbook status` finds, as a code (its exit code: README, `branchbook status`).
RUNNING, NOT_RUNNING, HUNG = "running", "not-running", "hung"


def liveness(status: dict, held: bool | None, beat: Heartbeat) -> str:
    """Running, not running, or hung. Only a process that holds the lock is a running service, whatever
    status.json says: a killed service cannot write that it died. Without the lock's answer, the heartbeat."""
    if held is None:
        return HUNG if beat.stale else (NOT_RUNNING if beat.state in ("stopped", "never-started") else RUNNING)
    if not held:
        return NOT_RUNNING
    return HUNG if beat.age is not None and beat.age > beat.stale_after else RUNNING


def age_words(seconds: float, lang: str) -> str:
    """How long, in the largest unit that keeps it readable."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return say.plural(lang, "{count} second", "{count} seconds", seconds)
    if seconds < 2 * 3600:
        return say.plural(lang, "{count} minute", "{count} minutes", seconds // 60)
    if seconds < 2 * 86400:
        return say.plural(lang, "{count} hour", "{count} hours", seconds // 3600)
    return say.plural(lang, "{count} day", "{count} days", seconds // 86400)


def status_lines(home: Home, status: dict, lang: str, verdict: str, now: datetime | None = None) -> list[str]:
    """What `branchbook status` prints: first whether the service runs, then what it last said, the last error."""
    state = status.get("state", "unknown")
    beat = heartbeat_of(status, now)
    said = say(lang, STATES.get(state, state))
    if status.get("message"):
        said = say(lang, "{state}: {message}", state=said, message=status["message"])
    log_path = home.root / "logs" / "sync.log"
    age = age_words(beat.age, lang) if beat.age is not None else "?"
    if verdict == RUNNING:
        lines = [say(lang, "Sync service: running (process {pid}); {said}", pid=status.get("pid", "?"), said=said)]
        if beat.age is not None:
            lines.append(say(lang, "Heartbeat {age} ago.", age=age))
    elif verdict == HUNG:
        lines = [say(lang, "Sync service: not answering. Its process {pid} is still there but has given no heartbeat "
                           "for {age} (last at {at}): it hangs. End that process and start `branchbook serve` again; "
                           "what it last said is in {log}.", pid=status.get("pid", "?"), age=age,
                     at=status.get("heartbeat", "?"), log=log_path)]
    elif state == "never-started":
        lines = [say(lang, "Sync service: never started. Start it with `branchbook serve {home}`.", home=home.root)]
    elif state == "stopped":
        lines = [say(lang, "Sync service: not running; it was stopped at {at}. Start it with `branchbook serve {home}`.",
                     at=status.get("updated", "?"), home=home.root)]
    else:
        lines = [say(lang, "Sync service: not running. It ended without stopping (it was killed, it crashed, or the "
                           "computer restarted); its last heartbeat was {age} ago (at {at}). Start `branchbook serve {home}` "
                           "again; what it last did is in {log}.",
                     age=age, at=status.get("heartbeat", "?"), home=home.root, log=log_path)]
    error = status.get("last_error")
    if error:
        lines.append(say(lang, "Last error ({at}): {message}", at=error.get("at", ""), message=error.get("message", "")))
    return lines
