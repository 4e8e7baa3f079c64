"""Mailed returns held for the office's approval, and `branchbook approve`."""
from __future__ import annotations

import json
from pathlib import Path

from ..workbook.errors import UserError
from ..workbook.home import Home
from .mail_intake import SIDECAR_SUFFIX

HOLD_NOTE_SUFFIX = ".待审批.txt"


class NotHeld(UserError):
    def __init__(self, receipt_id: str):
        super().__init__("not-held", receipt=receipt_id)


def held_file(home: Home, receipt_id: str) -> Path:
    folder = home.folder("quarantine")
    found = [p for p in folder.glob(f"{receipt_id}__*") if not p.name.endswith((SIDECAR_SUFFIX, HOLD_NOTE_SUFFIX))] \
        if folder.is_dir() else []
    if len(found) != 1:
        raise NotHeld(receipt_id)
    return found[0]


def approve(home: Home, receipt_id: str) -> str:
    """Put a held return back in the inbox, marked approved; returns its original name."""
    path = held_file(home, receipt_id)
    sidecar_path = path.with_name(path.name + SIDECAR_SUFFIX)
    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8")) if sidecar_path.exists() else {}
    sidecar["approved"] = True
    target = home.folder("inbox") / f"{receipt_id}{path.suffix}"
    # The sidecar first: the watcher must never see the file without the approval.
    target.with_name(target.name + SIDECAR_SUFFIX).write_text(json.dumps(sidecar, ensure_ascii=False, indent=1),
                                                              encoding="utf-8")
    path.replace(target)
    sidecar_path.unlink(missing_ok=True)
    path.with_name(path.name + HOLD_NOTE_SUFFIX).unlink(missing_ok=True)
    return sidecar.get("file_name", path.name)
