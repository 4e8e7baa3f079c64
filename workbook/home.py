"""HOME: the office's working folder, holding the master, the drop folders and branchbook.yaml."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from .campaign_definition import CampaignDefinition, home_definition
from .errors import UserError
from .i18n import N_, Domain
from .schema import LANGS, Schemas, load_schemas
from .settings import CONFIG_NAME, MASTER_NAME, Settings, load_settings, read_config

__all__ = ["CONFIG_NAME", "FOLDERS", "MASTER_NAME", "Home", "check_lang", "create_home"]

say = Domain("workbook")
FOLDERS = ("inbox", "archive", "rejected", "outbox", "backups")
STARTER = N_("# BranchBook settings. What is not written here takes its default (docs/configuration.md).")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UserError("bad-lang", lang=lang)
    return lang


@dataclass(frozen=True)
class Home:
    """HOME and its settings. `settings` is the typed, checked model of branchbook.yaml (defaults merged in);
    `config` is the file's mapping as written, kept for callers not yet switched to `settings`."""

    root: Path
    config: dict[str, Any]
    settings: Settings = field(init=False, repr=False, compare=False)
    campaign: CampaignDefinition = field(init=False, repr=False, compare=False)  # campaign.yaml, else the packaged

    def __post_init__(self) -> None:
        campaign = home_definition(self.root)
        object.__setattr__(self, "campaign", campaign)
        base = campaign.checked_rules() if campaign.rules else None  # branchbook.yaml's `rules:` over the campaign's
        object.__setattr__(self, "settings", load_settings(self.config, Path(self.root) / CONFIG_NAME, base))

    @classmethod
    def open(cls, root: Path | str) -> Home:
        """HOME at `root`; a branchbook.yaml with an unknown key or a bad value is refused here, naming both."""
        root = Path(root)
        config_path = root / CONFIG_NAME
        if not config_path.is_file():
            raise UserError("home-missing", home=str(root), config=CONFIG_NAME)
        return cls(root, read_config(config_path))

    @property
    def lang(self) -> str:
        return self.settings.lang

    @property
    def master(self) -> Path:
        return self.root / self.settings.master

    def folder(self, name: str) -> Path:
        return self.root / name

    @property
    def schemas(self) -> Schemas:
        """schemas/, with this HOME's campaign (campaign.yaml) and the rules it and `rules:` override
        (docs/configuration.md)."""
        packaged = load_schemas()
        return replace(packaged, rules=self.settings.rules or packaged.rules, campaign=self.campaign)

    @property
    def as_of(self) -> date:
        """Flags and reports are as of today, or as of the date the settings fix (the demo lives in 2005)."""
        return self.settings.as_of or date.today()

    def now(self) -> datetime:
        """HOME's clock: now, or this time of day on the day the settings fix. A file merged in a HOME that
        lives in 2005 (the demo) is received in 2005, so that its flags and dashboard count it."""
        moment = datetime.now().replace(microsecond=0)
        return datetime.combine(self.settings.as_of, moment.time()) if self.settings.as_of else moment


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
    config = {"lang": lang}
    (root / CONFIG_NAME).write_text(say(lang, STARTER) + "\n" + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                                    encoding="utf-8")
    return Home(root, config)
