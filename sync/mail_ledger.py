"""What the mail side has done, kept in HOME so that a restart neither skips nor repeats:
the IMAP folder's UIDVALIDITY and the UIDs taken, and the replies sent."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

LEDGER_NAME = "mail-ledger.json"


class MailLedger:
    def __init__(self, root: Path):
        self.path = Path(root) / LEDGER_NAME
        self.lock = threading.Lock()
        data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
        self.uidvalidity: int | None = data.get("uidvalidity")
        self.uids: set[int] = set(data.get("uids", []))
        self.replied: dict[str, str] = data.get("replied", {})

    def save(self) -> None:
        with self.lock:
            data = {"uidvalidity": self.uidvalidity, "uids": sorted(self.uids), "replied": self.replied}
            temp = self.path.with_suffix(".tmp")
            temp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(temp, self.path)

    def reset_folder(self, uidvalidity: int) -> None:
        """A new UIDVALIDITY means old UIDs name other messages: forget them (attachment hashes still
        keep a message seen again from being merged twice)."""
        self.uidvalidity = uidvalidity
        self.uids = set()
        self.save()

    def took(self, uid: int) -> None:
        self.uids.add(uid)
        self.save()

    def has_replied(self, key: str) -> bool:
        return key in self.replied

    def mark_replied(self, key: str, what: str) -> None:
        self.replied[key] = what
        self.save()
