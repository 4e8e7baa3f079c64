"""The office's report jobs on HOME: the bulletin file and the reminder texts, in outbox/."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from ..calendar import Campaign
from ..home import Home
from ..schema import load_schemas
from .bulletin import build_bulletin, write_bulletin
from .reminders import Reminder, reminders

FORMATS = ("docx", "pdf", "html")


def report_date(home: Home, tables: dict, week: int | None) -> date:
    """As of HOME's date, or, for a given week, as of the day its returns were due."""
    if week is None:
        return home.as_of
    _, end = Campaign.from_records(tables["phases"]).week_range(week)
    return end + timedelta(days=load_schemas().rules.thresholds.return_grace_days)


def make_bulletin(home: Home, tables: dict, week: int | None = None, fmt: str = "docx") -> Path:
    as_of = report_date(home, tables, week)
    bulletin = build_bulletin(tables, as_of, home.settings.college)
    outbox = home.folder("outbox")
    outbox.mkdir(exist_ok=True)
    return write_bulletin(bulletin, outbox / f"简报_第{bulletin.week}周.{fmt}", fmt)


def write_reminders(home: Home, tables: dict) -> list[tuple[Reminder, Path]]:
    folder = home.folder("outbox") / "提醒"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for reminder in reminders(tables, home.as_of):
        path = folder / f"{reminder.branch}.txt"
        path.write_text(reminder.text, encoding="utf-8")
        written.append((reminder, path))
    return written
