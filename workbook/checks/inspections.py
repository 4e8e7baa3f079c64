"""Notebook checks: an order to improve (限期改进) names the day it is due (docs/domain.md)."""
from __future__ import annotations

from collections.abc import Iterator

from ..cells import column_letter
from ..findings import Finding
from ..schema import ReturnSheet
from ..sheetio import SheetRead
from .values import ParsedRow


def check_fix_deadlines(read: SheetRead, parsed: list[ParsedRow], sheet: ReturnSheet, lang: str) -> Iterator[Finding]:
    if "deadline" not in read.columns:
        return
    for number, record in parsed:
        if record.get("result") == "fix" and record.get("deadline") is None:
            yield Finding("fix-no-deadline", sheet=read.title, row=number, column=column_letter(read.columns["deadline"]),
                          column_label=sheet.field("deadline").label(lang))
