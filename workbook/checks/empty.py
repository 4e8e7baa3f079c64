"""A return with no records at all: an untouched template is refused as empty, not merged as nothing.

A week with no activity still has its attendance or its summary written; a return whose record sheets
and attendance grid are all blank was sent before it was filled (docs/domain.md, "Flows").
"""
from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding
from .attendance import AWAY


def check_not_empty(parsed: dict, statuses: dict, record_keys: list[str]) -> Iterator[Finding]:
    """`parsed`: each record sheet's parsed rows; `statuses`: the attendance grid's filled cells."""
    if any(status != AWAY for status in statuses.values()) or any(parsed.get(key) for key in record_keys):
        return  # (请假(在外) is pre-filled: it alone is not a return filled in)
    yield Finding("empty-return")
