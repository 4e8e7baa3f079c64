"""Reading received files without trusting them: the size looked at before anything is copied or read,
a private copy hashed while it is made, then the reading itself in a child process with a memory and a
time limit (workbook/isolation.py). A file that kills or exhausts its reader is refused with a report;
one whose reading timed out, or was cut short by the service's own end, is tried again on a later pass,
and refused once it has failed `intake.max_attempts` times (the count is kept in HOME, so a crash loop
ends too). One bad file never holds up another: each is read on its own (docs/design.md)."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..workbook.books import state_folder
from ..workbook.cells import timestamp_text
from ..workbook.home import Home
from ..workbook.i18n import N_, Domain, Words
from ..workbook.intake import read_received
from ..workbook.isolation import ReaderFailed, limits_of, read_in_children
from ..workbook.safe_open import UnreadableFile, too_large
from ..workbook.safe_values import safe_label
from ..workbook.schema import Schemas, load_schemas
from ..workbook.seal import home_seal
from ..workbook.submission import Submission
from .quarantine import sender_hold

log = logging.getLogger("branchbook.sync")
say = Domain("service")
WORK_FOLDER = ".work"
ATTEMPTS_NAME = "intake-attempts.json"
_SAMPLE = 1 << 20

# Why a reading failed, in words (a report and a reply quote them).
FAILURES = {
    "memory": N_("reading it needed more memory than a return ever needs"),
    "crash": N_("it made the reader stop (it needs more memory than a return ever needs, or it is damaged)"),
    "timeout": N_("reading it took longer than {seconds} seconds"),
    "error": N_("the reader could not make sense of it"),
    "attempts": N_("reading it failed {count} times"),
}


def _failure(kind: str, **values) -> Words:
    return say.later(FAILURES[kind], **values)


class Attempts:
    """How many readings of each file (by SHA-256) began and did not end, kept in HOME/.branchbook. The children
    of a burst begin files at the same time: the threads that wait on them count under one lock."""

    def __init__(self, home: Home):
        self.path = state_folder(home) / ATTEMPTS_NAME
        self._lock = threading.Lock()
        try:
            self.counts: dict[str, int] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.counts = {}

    def _save(self) -> None:
        if not self.counts:
            self.path.unlink(missing_ok=True)
            return
        temp = self.path.with_name(f".{ATTEMPTS_NAME}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(self.counts), encoding="utf-8")
        os.replace(temp, self.path)

    def failed(self, sha256: str) -> int:
        return self.counts.get(sha256, 0)

    def begin(self, sha256: str) -> int:
        with self._lock:
            self.counts[sha256] = self.counts.get(sha256, 0) + 1
            self._save()  # before the reading: a reading that takes the service down still counts
            return self.counts[sha256]

    def end(self, sha256: str) -> None:
        with self._lock:
            if self.counts.pop(sha256, None) is not None:
                self._save()


def private_copy(work: Path, path: Path) -> tuple[Path, str]:
    """A copy to read in `work` (never the file a secretary or the mail fetcher may still be touching) and
    the SHA-256 of what was copied, computed in the same pass."""
    work.mkdir(exist_ok=True)
    target = work / f"{uuid.uuid4().hex}{path.suffix.lower()[:16]}"
    digest = hashlib.sha256()
    try:
        with path.open("rb") as source, target.open("wb") as copy:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                copy.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)  # a copy cut short (a full disk) is not left behind
        raise
    return target, digest.hexdigest()


def received_at(home: Home, item) -> datetime:
    """When the file came: the mail's time or the file's; one after HOME's day (a HOME that lives in 2005,
    docs/configuration.md as_of) came on HOME's day, at its own time of day, so that it counts there."""
    moment = item.received_at or datetime.fromtimestamp(item.path.stat().st_mtime)
    return moment if moment.date() <= home.as_of else datetime.combine(home.as_of, moment.time())


def sampled_sha256(path: Path) -> str:
    """A stand-in for the SHA-256 of a file too large to read through: its size, first and last MiB."""
    size = path.stat().st_size
    digest = hashlib.sha256(f"branchbook-sampled/{size}/".encode())
    with path.open("rb") as handle:
        digest.update(handle.read(_SAMPLE))
        handle.seek(max(size - _SAMPLE, 0))
        digest.update(handle.read(_SAMPLE))
    return digest.hexdigest()


def marked_work_copy(copy: Path) -> Path:
    """Where the reader leaves the marked copy of a refused workbook, beside its private copy."""
    return copy.with_name(copy.stem + ".marked.xlsx")


def read_submissions(home: Home, items: list, tables: dict[str, list[dict]],
                     progress: Callable[[int, int, str], None] | None = None,
                     schemas: Schemas | None = None, made: list[Path] | None = None,
                     work: Path | None = None, meanwhile: Callable[[], None] | None = None,
                     ) -> tuple[list, list[Path | None], list[Submission]]:
    """Each item read against the ledger's current tables: the items this pass takes (a file whose reading
    timed out and may be tried again is left in the inbox), their private copies (None: none was made)
    and their submissions. The copies are made in `work` (else .work/), each added to `made` as soon as
    it is made, so that the caller removes them whatever happens. `meanwhile()` runs in this thread while
    the children read."""
    made = [] if made is None else made
    work = work or home.root / WORK_FOLDER
    schemas = schemas or load_schemas()
    settings = home.settings.intake
    limit_mb = schemas.rules["limits"]["max_file_mb"]
    attempts = Attempts(home)
    maximum, lang = settings.max_attempts, home.lang
    # First what needs no reading: the size, the copy and its hash, the failures already counted.
    prepared = []  # (item, received, submission or None, copy, sha256)
    calls = []
    for number, item in enumerate(items, start=1):
        if progress:
            progress(number, len(items), item.name)
        received = received_at(home, item)
        size = item.path.stat().st_size
        if size > limit_mb * 2**20:  # before any copy or read: a 2 GB file costs nothing (docs/hazards.md 33)
            prepared.append((item, received, _refused(item, sampled_sha256(item.path), received, "too-large",
                                                      **too_large(item.path, size, limit_mb).values), None, None))
            continue
        copy, sha256 = private_copy(work, item.path)
        made.append(copy)
        if attempts.failed(sha256) >= maximum:
            log.warning(say(lang, "{name} is not read again: its reading failed {count} times", name=item.name,
                            count=attempts.failed(sha256)))
            attempts.end(sha256)
            prepared.append((item, received, _refused(item, sha256, received, "reader-failed",
                                                      reason=_failure("attempts", count=maximum)), copy, sha256))
            continue
        prepared.append((item, received, None, copy, sha256))
        calls.append(((copy,), {"marked": marked_work_copy(copy), "file_name": item.name, "sender": item.sender,
                                "received_at": received, "sha256": sha256}))
    # Then the readings, by one child per core, each reading its share one file after another; each file
    # counted as it begins.
    to_read = [entry for entry in prepared if entry[2] is None]
    counts: dict[int, int] = {}
    shared = {"tables": tables, "schemas": schemas, "lang": lang, "seal": home_seal(home.root),
              "unsealed_grace_days": settings.unsealed_grace_days}
    read = read_in_children(limits_of(settings.reader_memory_mb, settings.reader_seconds), read_received, shared,
                            calls, on_start=lambda index: counts.__setitem__(index, attempts.begin(to_read[index][4])),
                            meanwhile=meanwhile)
    position = 0
    taken, copies, submissions = [], [], []
    for item, received, sub, copy, sha256 in prepared:
        if sub is None:
            sub = _judged(home, item, received, read[position], counts.get(position), attempts, copy, sha256)
            position += 1
            if sub is None:
                continue
        if item.sender and not item.mail.get("approved"):
            sub.hold = sender_hold(sub, tables.get("branches", []), item.mail.get("authenticated"), lang)
        taken.append(item)
        copies.append(copy)
        submissions.append(sub)
    return taken, copies, submissions


def _refused(item, sha256: str, received: datetime, kind: str, **values) -> Submission:
    return Submission(file_name=safe_label(item.name), sha256=sha256, received_at=timestamp_text(received),
                      sender=safe_label(item.sender), unreadable=UnreadableFile(kind, Path(item.name), **values))


def _judged(home: Home, item, received: datetime, outcome, count: int | None, attempts: Attempts, copy: Path,
            sha256: str) -> Submission | None:
    """The submission a reading gave, or the refusal of a file whose reading failed; None for a file left in
    the inbox to be tried again (its reading timed out, fewer than `intake.max_attempts` times)."""
    lang = home.lang
    seconds = f"{home.settings.intake.reader_seconds:g}"
    if not isinstance(outcome, ReaderFailed):
        attempts.end(sha256)
        return outcome
    if outcome.kind == "error":
        # One line in the log; the child's traceback in the errors log (sync/logs.py), never on the console.
        log.error(say(lang, "reading {name} failed: sent back as unreadable", name=item.name), exc_info=outcome)
    else:
        log.warning(say(lang, "reading {name} failed ({why})", name=item.name,
                        why=_failure(outcome.kind, seconds=seconds).render(lang)))
    if count is None:  # the time ran out before the child said it began: this reading counts all the same
        count = attempts.begin(sha256)
    if outcome.kind == "timeout" and count < home.settings.intake.max_attempts:
        copy.unlink(missing_ok=True)  # left in the inbox: tried again on a later pass
        return None
    attempts.end(sha256)
    return _refused(item, sha256, received, "reader-failed", reason=_failure(outcome.kind, seconds=seconds))
