"""Figures worded in full, the same in the bulletin, the reminders and the digests (issue 12: "已学 17 学时，按进度应达
19.6，差 2.6", never an arrow or a bare difference)."""
from __future__ import annotations

from datetime import date

from ..flags import MONTHS
from ..i18n import Domain

say = Domain("reports")
say_flags = Domain("flags")


def hours_words(lang: str, hours: float, due: float) -> str:
    """Hours studied on average against the hours due: how far short, or that it is on schedule."""
    if hours + 0.05 < due:
        return say(lang, "{hours:.1f} hours studied on average, {due:.1f} due by then, {gap:.1f} short",
                   hours=hours, due=due, gap=due - hours)
    return say(lang, "{hours:.1f} hours studied on average, {due:.1f} due by then: on schedule", hours=hours, due=due)


def long_date(lang: str, day: date) -> str:
    """A date with its year: "6 Apr 2005", "2005年4月6日"."""
    return say(lang, "{day} {month_name} {year}", day=day.day, month=day.month, year=day.year,
               month_name=say_flags(lang, MONTHS[day.month - 1]))
