"""Files sent back as unreadable are looked at again when they change (docs/hazards.md 1).

A copy cut short (a stalled share, a slow USB stick) can be taken for a damaged file. If the copy then
goes on and finishes, the file in rejected/ changes: it goes back to the inbox under its own name, and
its old report is removed, so the finished return is judged afresh (its new bytes are a new receipt).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from ..workbook.books import state_folder
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.names import report_suffix

log = logging.getLogger("branchbook.sync")
say = Domain("service")
WATCH_NAME = "unreadable-rejected.json"
WATCH_DAYS = 2  # a file sent back as unreadable is watched this long


def _load(home: Home) -> dict[str, dict]:
    try:
        return json.loads((state_folder(home) / WATCH_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save(home: Home, watched: dict[str, dict]) -> None:
    path = state_folder(home) / WATCH_NAME
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(watched, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temp, path)


def _signature(path: Path) -> list[int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


def watch_rejected(home: Home, target: Path, name: str) -> None:
    """Remember a file just filed in rejected/ as unreadable: its size and time now, and its name."""
    watched = _load(home)
    watched[target.name] = {"signature": _signature(target), "name": name, "since": time.time()}
    _save(home, watched)


def relook(home: Home) -> list[Path]:
    """Move back to the inbox every watched file that changed since it was sent back; forget the old ones."""
    watched = _load(home)
    if not watched:
        return []
    folder, inbox, lang = home.folder("rejected"), home.folder("inbox"), home.lang
    back, keep = [], {}
    for stored, entry in watched.items():
        path = folder / stored
        signature = _signature(path)
        if signature is None or time.time() - entry.get("since", 0) > WATCH_DAYS * 86400:
            continue  # removed by the office, or watched long enough
        if signature == entry["signature"]:
            keep[stored] = entry
            continue
        target = inbox / entry["name"]
        if target.exists():
            keep[stored] = entry  # a return of that name waits in the inbox: the next look moves this one
            continue
        shutil.move(str(path), target)
        path.with_name(path.name + report_suffix(lang)).unlink(missing_ok=True)
        log.info(say(lang, "{name} changed after it was sent back as unreadable: it is read again", name=entry["name"]))
        back.append(target)
    if keep != watched:
        _save(home, keep)
    return back
