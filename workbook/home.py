"""HOME: the office's working folder, holding the master, the drop folders and the config."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError
from .schema import LANGS

CONFIG_NAME = "branchbook.yaml"
MASTER_NAME = "master.xlsx"
FOLDERS = ("inbox", "archive", "rejected", "outbox", "backups")

DEFAULT_CONFIG: dict[str, Any] = {
    "lang": "zh",
    "master": MASTER_NAME,
    "sync": {"poll_seconds": 1.0, "stable_polls": 2, "rescan_seconds": 30, "backups_kept": 20},
    "mail": {"enabled": False},
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UserError("bad-lang", lang=lang)
    return lang


@dataclass(frozen=True)
class Home:
    root: Path
    config: dict[str, Any]

    @classmethod
    def open(cls, root: Path | str) -> Home:
        root = Path(root)
        config_path = root / CONFIG_NAME
        if not config_path.is_file():
            raise UserError("home-missing", home=str(root), config=CONFIG_NAME)
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        return cls(root, {**DEFAULT_CONFIG, **config})

    @property
    def lang(self) -> str:
        return check_lang(self.config.get("lang", "zh"))

    @property
    def master(self) -> Path:
        return self.root / self.config.get("master", MASTER_NAME)

    def folder(self, name: str) -> Path:
        return self.root / name

    @property
    def as_of(self) -> date:
        """Flags and reports are as of today, or as of the date the config fixes (the demo lives in 2005)."""
        fixed = self.config.get("as_of")
        if isinstance(fixed, date):
            return fixed
        return date.fromisoformat(str(fixed)) if fixed else date.today()


def create_home(root: Path | str, lang: str = "zh") -> Home:
    """Make HOME's folders and config; refuse, changing nothing, when a master is already there."""
    check_lang(lang)
    root = Path(root)
    master = root / MASTER_NAME
    if master.exists() or (root / CONFIG_NAME).exists():
        raise UserError("home-exists", home=str(root), master=MASTER_NAME)
    root.mkdir(parents=True, exist_ok=True)
    for name in FOLDERS:
        (root / name).mkdir(exist_ok=True)
    config = {**DEFAULT_CONFIG, "lang": lang}
    (root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Home(root, config)
