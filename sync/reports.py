"""Report jobs that write to the ledger, so under the writer's lock: a bulletin records its issue (第N期)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..workbook.books import open_ledger
from ..workbook.home import Home
from ..workbook.reports.publish import make_bulletin
from .export import current_tables
from .writer import writing


def publish_bulletin(home: Home, week: int | None = None, fmt: str = "docx",
                     on_wait: Callable[[str], None] | None = None) -> Path:
    """The bulletin in outbox/, numbered after the issues before it; the office's latest edits are in it."""
    tables = current_tables(home)
    with writing(home, "bulletin", on_wait=on_wait), open_ledger(home) as ledger:
        return make_bulletin(home, tables, ledger, week, fmt)
