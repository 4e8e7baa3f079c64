"""Mailed returns held for the office's approval: who must wait (the mail policy), and `branchbook approve`."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..workbook.errors import UserError
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.names import notes_beside
from ..workbook.submission import Submission
from .mail_intake import SIDECAR_SUFFIX

say = Domain("service")


class NotHeld(UserError):
    def __init__(self, receipt_id: str):
        super().__init__("not-held", receipt=receipt_id)


def held_file(home: Home, receipt_id: str) -> Path:
    folder = home.folder("quarantine")
    found = [p for p in folder.glob(f"{receipt_id}__*") if not p.name.endswith(SIDECAR_SUFFIX) and not notes_beside(p.name)] \
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
    for note in path.parent.glob(f"{path.name}.*.txt"):
        if notes_beside(note.name):
            note.unlink()
    return sidecar.get("file_name", path.name)


def sender_hold(sub: Submission, branches: list[dict], authenticated: bool | None, lang: str) -> str | None:
    """Why a mailed return must wait for approval, or None: the sender must be the branch's secretary
    or a listed deputy, and our own mail server must not have failed the sender's authentication."""
    if authenticated is False:
        return say(lang, "the sender {sender} failed the college mail server's authentication", sender=sub.sender)
    branch = next((b for b in branches if b.get("branch_id") == sub.branch_id), None)
    if branch is None:
        return None  # the return is rejected for its branch anyway
    allowed = {str(branch.get("secretary_email") or "").strip().lower()}
    allowed |= {a.strip().lower() for a in re.split(r"[,;，；、\s]+", str(branch.get("deputy_emails") or "")) if a.strip()}
    if (sub.sender or "").lower() in allowed - {""}:
        return None
    return say(lang, "the sender {sender} is not the registered secretary or deputy of {branch}", sender=sub.sender,
               branch=branch.get("name"))
