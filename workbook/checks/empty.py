"""A return with no records at all: an untouched template is refused as empty, not merged as nothing.

A week with no activity still has its attendance or its summary written; a return whose record sheets
and attendance grid are all blank was sent before it was filled (docs/domain.md, "Flows").
"""
from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding


def check_not_empty(parsed: dict, statuses: dict, record_keys: list[str]) -> Iterator[Finding]:
    """`parsed`: each record sheet's parsed rows; `statuses`: the attendance grid's filled cells."""
    if statuses or any(parsed.get(key) for key in record_keys):
        return
    yield Finding("empty-return")
