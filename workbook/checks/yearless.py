"""Dates typed without a year (3月22日, 3/22) in a return: the return's week says which year, so they are
read as full dates, with a note. Only when the week leaves no doubt: a week across New Year takes a
year-less date only if it falls in the week."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from ..cells import column_letter
from ..findings import Finding
from ..schema import ReturnSheet
from ..sheetio import SheetRead

_NO_YEAR = re.compile(r"^\s*(\d{1,2})\s*(?:月\s*(\d{1,2})\s*[日号]?|[/.-]\s*(\d{1,2}))\s*$")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－／", "0123456789.-/")


def day_in_week(text: str, start: date, end: date) -> date | None:
    """The full date a year-less month and day stand for in the week start..end, or None."""
    match = _NO_YEAR.match(text.translate(_FULL_WIDTH))
    if not match:
        return None
    month, day = int(match.group(1)), int(match.group(2) or match.group(3))
    candidates = []
    for year in sorted({start.year, end.year}):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if len({start.year, end.year}) == 1:
        return candidates[0] if candidates else None
    within = [day for day in candidates if start <= day <= end]
    return within[0] if len(within) == 1 else None


def complete_dates(read: SheetRead, sheet: ReturnSheet, start: date, end: date, lang: str) -> Iterator[Finding]:
    """Put the full date in place of each year-less one of the sheet's date columns, and note each that falls in
    the week (one outside it gets date-outside-week's message only)."""
    for item in sheet.fields:
        if item.type != "date" or item.key not in read.cells:
            continue
        values = read.cells[item.key]
        completed = list(values)
        for at, raw in enumerate(values):
            day = day_in_week(raw, start, end) if isinstance(raw, str) else None
            if day is None:
                continue
            completed[at] = day
            if not start <= day <= end:
                continue  # date-outside-week says what to change; "nothing to change" would contradict it
            yield Finding("year-added", sheet=read.title, row=read.numbers[at],
                          column=column_letter(read.columns[item.key]), column_label=item.label(lang), value=raw,
                          params={"day": day.isoformat()})
        if completed != values:
            read.set_column(item.key, completed)
