"""Dates typed in a return must fall in the week the return is for, and not after today."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ..cells import column_letter
from ..findings import Finding
from ..schema import ReturnSheet
from ..sheetio import SheetRead
from .values import ParsedRow


def check_dates_in_week(read: SheetRead, parsed: list[ParsedRow], sheet: ReturnSheet, start: date, end: date,
                        lang: str, today: date | None = None) -> Iterator[Finding]:
    """A date outside the week is an error; one in the week but after `today` (the week in progress) a warning:
    a record is entered once it has happened (docs/domain.md, "What a return must say"). One message a cell."""
    for key in sheet.date_within_week:
        if key not in read.columns:
            continue
        for number, record in parsed:
            day = record.get(key)
            if day is None:
                continue
            where = {"sheet": read.title, "row": number, "column": column_letter(read.columns[key]),
                     "column_label": sheet.field(key).label(lang), "value": day}
            if not start <= day <= end:
                yield Finding("date-outside-week", **where, params={"start": start.isoformat(), "end": end.isoformat()})
            elif today is not None and day > today:
                yield Finding("date-in-future", **where, params={"today": today.isoformat()})
