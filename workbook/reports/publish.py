"""The office's report jobs on HOME: the bulletin file and the reminder texts, in outbox/."""
from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from pathlib import Path

from ..calendar import Campaign
from ..home import Home
from ..i18n import Domain
from ..schema import load_schemas
from ..settings import Settings
from .bulletin import build_bulletin, write_bulletin
from .reminders import Reminder, reminders

say = Domain("reports")
FORMATS = ("docx", "pdf", "html")


def report_date(home: Home, tables: dict, week: int | None) -> date:
    """As of HOME's date, or, for a given week, as of the day its returns were due."""
    if week is None:
        return home.as_of
    _, end = Campaign.from_records(tables["phases"]).week_range(week)
    return end + timedelta(days=load_schemas().rules.thresholds.return_grace_days)


def college_name(home: Home) -> str | None:
    """The college as HOME's settings name it; None while they keep the default (then "the college" in HOME's language)."""
    default = next(f.default for f in fields(Settings) if f.name == "college")
    college = home.settings.college
    return None if college == default else college


def make_bulletin(home: Home, tables: dict, week: int | None = None, fmt: str = "docx") -> Path:
    lang = home.lang
    as_of = report_date(home, tables, week)
    bulletin = build_bulletin(tables, as_of, college_name(home), lang)
    outbox = home.folder("outbox")
    outbox.mkdir(exist_ok=True)
    return write_bulletin(bulletin, outbox / say(lang, "bulletin_week{week}.{format}", week=bulletin.week, format=fmt),
                          fmt)


def write_reminders(home: Home, tables: dict) -> list[tuple[Reminder, Path]]:
    folder = home.folder("outbox") / say(home.lang, "reminders")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for reminder in reminders(tables, home.as_of, home.lang):
        path = folder / f"{reminder.branch}.txt"
        path.write_text(reminder.text, encoding="utf-8")
        written.append((reminder, path))
    return written
