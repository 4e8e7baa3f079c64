"""The office's report jobs on HOME: the bulletin file, the secretaries' reminders and the liaisons' digests, in outbox/."""
from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from pathlib import Path

from .. import journal
from ..books import journal_path
from ..calendar import Campaign
from ..errors import UserError
from ..flag_history import raised_with_history
from ..flags import Flag, day_words
from ..home import Home
from ..i18n import Domain
from ..ledger import Ledger
from ..settings import Settings
from .bulletin import build_bulletin, write_bulletin
from .issues import issue_before, number_for, past_issues, record
from .progress import week_reported
from .reminders import Digest, Reminder, digests, reminders

say = Domain("reports")
FORMATS = ("docx", "pdf", "html")


def report_date(home: Home, tables: dict, week: int | None) -> date:
    """As of HOME's date, or, for a given week, as of the day its returns were due (HOME's date if that is
    later than HOME's date). A week that has not ended by HOME's date is refused: it has no returns to report,
    and its bulletin would take an issue number (第N期) for nothing (docs/design.md, "The bulletin")."""
    if week is None:
        return home.as_of
    campaign = Campaign.from_records(tables["phases"])
    _, end = campaign.week_range(week)
    if end > home.as_of:
        raise UserError("week-not-ended", week=week, end=day_words(home.lang, end),
                        as_of=day_words(home.lang, home.as_of), last=week_reported(campaign, home.as_of))
    return min(end + timedelta(days=home.schemas.rules.thresholds.return_grace_days), home.as_of)


def _named(home: Home, key: str) -> str | None:
    """A name HOME's settings give; None while they keep the default (then the words of HOME's language)."""
    default = next(f.default for f in fields(Settings) if f.name == key)
    value = getattr(home.settings, key)
    return None if value == default else value


def college_name(home: Home) -> str | None:
    return _named(home, "college")


def make_bulletin(home: Home, tables: dict, ledger: Ledger, week: int | None = None, fmt: str = "docx",
                  who: str | None = None) -> Path:
    """The bulletin in outbox/, numbered and recorded in the ledger (issues.py); the caller holds the writer's lock."""
    lang, schemas = home.lang, home.schemas
    as_of = report_date(home, tables, week)
    past = past_issues(ledger)
    number = number_for(past, week_reported(Campaign.from_records(tables["phases"]), as_of))
    history = raised_with_history(ledger, tables, as_of, schemas)
    bulletin = build_bulletin(tables, as_of, college_name(home), lang, number=number, editor=_named(home, "editor"),
                              before=issue_before(past, number), history=history, schemas=schemas)
    outbox = home.folder("outbox")
    outbox.mkdir(exist_ok=True)
    path = write_bulletin(bulletin, outbox / say(lang, "bulletin_{number}_week{week}.{format}", number=number,
                                                 week=bulletin.week, format=fmt), fmt)
    record(ledger, bulletin.issue, who)
    journal.mirror(ledger, journal_path(home))
    return path


def _write(folder: Path, letters: list, name_of) -> list[tuple]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for letter in letters:
        path = folder / f"{name_of(letter)}.txt"
        path.write_text(letter.text, encoding="utf-8")
        written.append((letter, path))
    return written


def write_reminders(home: Home, tables: dict, flags: list[Flag] | None = None,
                    branch_ids: list[str] | None = None) -> list[tuple[Reminder, Path]]:
    """One text per branch secretary in outbox/提醒/, named after the branch (only the branches named, when they
    are); `flags` with their levels."""
    letters = [r for r in reminders(tables, home.as_of, home.lang, flags, home.schemas)
               if not branch_ids or r.branch_id in branch_ids]
    return _write(home.folder("outbox") / say(home.lang, "reminders"), letters, lambda reminder: reminder.branch)


def write_digests(home: Home, tables: dict, flags: list[Flag] | None = None) -> list[tuple[Digest, Path]]:
    """One text per committee liaison in outbox/联系委员摘要/, named after her."""
    return _write(home.folder("outbox") / say(home.lang, "digests"),
                  digests(tables, home.as_of, home.lang, flags, home.schemas), lambda digest: digest.liaison)
