"""The journal's copy outside the ledger: one JSON line per entry, appended after each commit.

The ledger keeps its journal in a table, written in the same transaction as the change; this
file mirrors it so that `rebuild` can replay everything (with the files in archive/) when the
ledger itself is lost. A commit whose line was not yet appended is appended at the next open.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .ledger import Ledger

JOURNAL_NAME = "ledger-journal.jsonl"


def _last_lines(path: Path, count: int = 2) -> list[bytes]:
    """The last `count` whole lines of the file, read from its end (a snapshot line can be megabytes)."""
    size = path.stat().st_size
    window = 1 << 16
    with path.open("rb") as handle:
        while True:
            start = max(0, size - window)
            handle.seek(start)
            lines = handle.read().splitlines()
            if start == 0 or len(lines) > count:
                return [line for line in lines[-count:] if line.strip()]
            window *= 4


# The last entry's number read or written in this process for each file, with the file as it was then (device,
# inode, size, time): the file is read again only when it changed. Its last line can be a week's flags, megabytes
# decoded whole to see that it is whole, and a merge asked four times.
_KNOWN: dict[str, tuple[tuple[int, int, int, int], int]] = {}


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def last_seq(path: Path) -> int:
    """The number of the file's last whole entry (0 for no file)."""
    identity = _identity(path)
    known = _KNOWN.get(str(path))
    if identity is not None and known is not None and known[0] == identity:
        return known[1]
    seq = _read_last_seq(path)
    if identity is not None:
        _KNOWN[str(path)] = (identity, seq)
    return seq


def _read_last_seq(path: Path) -> int:
    if not path.exists() or path.stat().st_size == 0:
        return 0
    # The last line alone first: the one before it may be a snapshot of megabytes, read only when needed.
    for count in (1, 2):
        for line in reversed(_last_lines(path, count)):
            try:
                return int(json.loads(line)["seq"])
            except (ValueError, KeyError):
                continue  # a line cut short by a crash: the entry before it counts
    return 0


def mirror(ledger: Ledger, path: Path) -> int:
    """Append the entries the file lacks; how many were appended."""
    lines = ledger.journal_lines(after=last_seq(path))
    if not lines:
        return 0
    with path.open("ab") as handle:
        if handle.tell() and not _ends_with_newline(path):
            handle.write(b"\n")  # close a line a crash cut short, so the next one stands alone
        for _, line in lines:
            handle.write(line.encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    identity = _identity(path)
    if identity is not None:
        _KNOWN[str(path)] = (identity, lines[-1][0])
    return len(lines)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def rewrite(ledger: Ledger, path: Path) -> None:
    """The file made equal to the ledger's journal (after a restore)."""
    temp = path.with_name(path.name + ".tmp")
    temp.unlink(missing_ok=True)
    mirror(ledger, temp)
    temp.touch()
    os.replace(temp, path)


def read(path: Path) -> list[dict[str, Any]]:
    """Every whole entry of the file, in order (a last line cut short by a crash is left out)."""
    entries = []
    if not path.exists():
        return entries
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries
