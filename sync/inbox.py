"""What in the inbox is ready: not a temp file, and no longer being written (docs/hazards.md 1-3)."""
from __future__ import annotations

import errno
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..workbook.names import notes_beside

try:
    import fcntl
except ImportError:  # Windows: the open itself is exclusive there
    fcntl = None

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
# Excel saves through an extensionless 8-hex temp name (KB 814068); its owner files start with ~$.
_EXCEL_TEMP = re.compile(r"^[0-9A-Fa-f]{8}$")


def is_ignored(path: Path) -> bool:
    name = path.name
    return (name.startswith(("~$", ".")) or name.lower().endswith((".tmp", ".crdownload", ".part"))
            or bool(_EXCEL_TEMP.match(name)) or name.endswith(".mail.json") or notes_beside(name))


def inbox_files(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir() if p.is_file() and not is_ignored(p))


def _open_elsewhere(handle) -> bool:
    """Whether another process has the file open (Linux): a write lease is refused while anyone else holds
    it, as Windows refuses an open while the writer holds the file. Where leases are not to be had (another
    owner's file without CAP_LEASE, a file system without them) it cannot tell, and says no."""
    if not hasattr(fcntl, "F_SETLEASE"):
        return False
    try:
        fcntl.fcntl(handle.fileno(), fcntl.F_SETLEASE, fcntl.F_WRLCK)
    except OSError as error:
        return error.errno in (errno.EAGAIN, errno.EBUSY)
    fcntl.fcntl(handle.fileno(), fcntl.F_SETLEASE, fcntl.F_UNLCK)
    return False


def _complete(path: Path) -> bool:
    try:
        with path.open("rb+") as handle:  # an exclusive open: on Windows it fails while the writer holds the file
            if _open_elsewhere(handle):
                return False
            zipped = handle.read(2) == b"PK"
        if path.suffix.lower() in WORKBOOK_SUFFIXES and zipped:
            with zipfile.ZipFile(path):
                pass  # the central directory is written last: if it parses, the copy is done
        return True
    except (OSError, zipfile.BadZipFile):
        return False


@dataclass
class StabilityTracker:
    """A file is ready once its size and mtime held for `stable_seconds` and it opens whole (docs/hazards.md 1).

    Measured in time, not in looks: the worker looks whenever an event wakes it, and its own look at a
    file (an exclusive open) is itself an event on Linux, so counting looks would hurry a slow copy along."""

    stable_seconds: float = 2.0
    # A file unchanged this long is taken even if its zip does not parse: it is not being written, it is
    # broken, and the merge rejects it with a report. Long, because a copy from a share or a USB stick can
    # stall for a while and then go on; if it goes on later still, the rejected file is looked at again (relook).
    stall_seconds: float = 120.0
    _seen: dict[Path, tuple[tuple[int, int], float]] = field(default_factory=dict)

    def ready(self, candidates: list[Path], now: float | None = None) -> list[Path]:
        now = time.monotonic() if now is None else now
        ready = []
        alive = set()
        for path in candidates:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            alive.add(path)
            signature = (stat.st_size, stat.st_mtime_ns)
            previous, since = self._seen.get(path, (None, now))
            if previous != signature:
                since = now
            self._seen[path] = (signature, since)
            held = now - since
            if held >= self.stable_seconds and (_complete(path) or held >= max(self.stall_seconds, self.stable_seconds)):
                ready.append(path)
        for path in list(self._seen):
            if path not in alive:
                del self._seen[path]
        return ready

    def changing(self, candidates: list[Path], now: float | None = None) -> list[Path]:
        """The files among `candidates` that changed within the last `stable_seconds` (as of the last look)."""
        now = time.monotonic() if now is None else now
        return [path for path in candidates if path in self._seen and now - self._seen[path][1] < self.stable_seconds]

    def forget(self, paths: list[Path]) -> None:
        for path in paths:
            self._seen.pop(path, None)
