"""Dates typed in a return must fall in the week the return is for."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ..cells import column_letter
from ..findings import Finding
from ..schema import ReturnSheet
from ..sheetio import SheetRead
from .values import ParsedRow


def check_dates_in_week(read: SheetRead, parsed: list[ParsedRow], sheet: ReturnSheet, start: date, end: date,
                        lang: str) -> Iterator[Finding]:
    for key in sheet.date_within_week:
        if key not in read.columns:
            continue
        for number, record in parsed:
            day = record.get(key)
            if day is not None and not start <= day <= end:
                yield Finding("date-outside-week", sheet=read.title, row=number,
                              column=column_letter(read.columns[key]), column_label=sheet.field(key).label(lang),
                              value=day, params={"start": start.isoformat(), "end": end.isoformat()})
