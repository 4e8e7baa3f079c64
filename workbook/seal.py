"""The return's metadata sealed with a key of HOME's own, so that an edited `_元数据` sheet is refused.

`make_returns` writes into the hidden metadata sheet the HOME's public id and an HMAC-SHA256, keyed with
a secret kept in `HOME/.branchbook/seal.json`, over the branch, the week and its dates, the template
version and the roster checksum, and the phase when the return names one (a return made before phases had
their own sheets names none, and its seal still holds). Intake checks it (docs/design.md, "Sealed metadata"):

- a seal that does not match: the metadata was edited after the return was made; refused;
- another HOME's id: a template made by another office's BranchBook; refused, and said so;
- an earlier campaign's id (its seal kept in `HOME/campaigns/<name>/`, docs/design.md "Campaigns"): a return of
  the campaign closed by `branchbook campaign new`; refused, saying which campaign it belongs to;
- no seal at all: in a HOME sealed from its start, refused; in a HOME made before the seal existed
  (the key was created on first use), accepted with a warning for `intake.unsealed_grace_days` after
  the key's creation (the returns already sent out), refused after that.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .cells import as_day
from .findings import Finding

KEY_NAME = "seal.json"
CAMPAIGNS_FOLDER = "campaigns"  # earlier campaigns, each a HOME of its own (sync/campaigns.py)
CLOSED_NAME = "closed.json"  # in an earlier campaign's .branchbook/: its name, when it closed, what followed
SEALED_FIELDS = ("branch_id", "week", "week_start", "week_end", "template_version", "roster_checksum")
SEALED_IF_WRITTEN = ("phase",)  # written since phases 2 and 3 have sheets of their own: blanking it breaks the seal


@dataclass(frozen=True)
class Seal:
    key: bytes
    home_id: str
    created: datetime
    migrated: bool  # the key was made for a HOME that existed before seals (its returns in circulation have none)
    earlier: dict[str, tuple[bytes, str]] = field(default_factory=dict, compare=False)  # home_id: (key, campaign)

    def sign(self, meta: dict[str, Any]) -> str:
        return hmac.new(self.key, _payload(meta, self.home_id), hashlib.sha256).hexdigest()

    def judge(self, meta: dict[str, Any], grace_days: float, now: datetime | None = None) -> Finding | None:
        """What is wrong with a return's metadata seal, if anything (a warning for an old unsealed one)."""
        signature, home_id = meta.get("seal"), meta.get("home_id")
        if not signature:
            now = now or datetime.now()
            if self.migrated and now <= self.created + timedelta(days=grace_days):
                return Finding("meta-unsealed-accepted")
            return Finding("meta-unsealed")
        if str(home_id or "") in self.earlier:
            key, campaign = self.earlier[str(home_id)]
            if hmac.compare_digest(hmac.new(key, _payload(meta, str(home_id)), hashlib.sha256).hexdigest(),
                                   str(signature).strip()):
                return Finding("meta-earlier-campaign", params={"campaign": campaign})
            return Finding("meta-forged")
        if str(home_id or "") != self.home_id:
            return Finding("meta-foreign", params={"home": str(home_id or "?")})
        expected = hmac.new(self.key, _payload(meta, str(home_id)), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, str(signature).strip()):
            return Finding("meta-forged")
        return None


def _canonical(key: str, value: Any) -> str:
    if key in ("week", "template_version", "phase"):
        try:
            return str(int(value))
        except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite number (another program's)
            return str(value)
    if key in ("week_start", "week_end"):
        day = as_day(value)
        return day.isoformat() if day else str(value)
    return "" if value is None else str(value).strip()


def _payload(meta: dict[str, Any], home_id: str) -> bytes:
    parts = ["branchbook-return-seal/1", home_id, *(_canonical(k, meta.get(k)) for k in SEALED_FIELDS)]
    parts += [f"{key}={_canonical(key, meta[key])}" for key in SEALED_IF_WRITTEN if meta.get(key) not in (None, "")]
    return "\n".join(parts).encode()


def home_seal(root: Path, *, new_home: bool = False) -> Seal:
    """HOME's seal; made on first use (`new_home`: at init, so that unsealed returns were never sent)."""
    path = Path(root) / ".branchbook" / KEY_NAME
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return Seal(bytes.fromhex(data["key"]), data["home_id"], datetime.fromisoformat(data["created"]),
                    bool(data["migrated"]), _earlier_seals(Path(root)))
    path.parent.mkdir(exist_ok=True)
    seal = Seal(secrets.token_bytes(32), secrets.token_hex(6), datetime.now().replace(microsecond=0), not new_home)
    data = {"key": seal.key.hex(), "home_id": seal.home_id, "created": seal.created.isoformat(),
            "migrated": seal.migrated}
    temp = path.with_name(f".{KEY_NAME}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    if os.name == "posix":
        temp.chmod(0o600)  # the key is the office's alone
    try:
        os.link(temp, path)  # never over a key another process made meanwhile
    except FileExistsError:
        temp.unlink()
        return home_seal(root)
    except OSError:  # a file system without hard links
        os.replace(temp, path)
        return seal
    temp.unlink()
    return seal


def _earlier_seals(root: Path) -> dict[str, tuple[bytes, str]]:
    """The seals of the campaigns this HOME ran before (each kept whole in campaigns/<name>/), by home id."""
    found = {}
    for state in sorted((root / CAMPAIGNS_FOLDER).glob(f"*/.branchbook/{KEY_NAME}")):
        try:
            data = json.loads(state.read_text(encoding="utf-8"))
            closed = json.loads(state.with_name(CLOSED_NAME).read_text(encoding="utf-8"))
            found[data["home_id"]] = (bytes.fromhex(data["key"]), str(closed["campaign"]))
        except (OSError, ValueError, KeyError):
            continue  # not a campaign BranchBook closed: its returns are another HOME's, as before
    return found
