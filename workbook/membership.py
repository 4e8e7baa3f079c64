"""A member's membership period: when she left the branch, and why (schemas/master.yaml, members)."""
from __future__ import annotations

from datetime import date
from typing import Any

from .cells import as_day
from .schema import Schemas

LEFT = "left"  # the members field holding the day a member left
LEFT_REASON = "left_reason"
IMPORT_REASON = "transfer_out"  # a member an import no longer lists has moved out (转出) unless the office says more


def left_on(member: dict[str, Any]) -> date | None:
    return as_day(member.get(LEFT))


def leave_values(schemas: Schemas, day: date) -> dict[str, Any]:
    """The fields that mark a member as having left on `day`."""
    keys = set(schemas.sheet("members").keys)
    return {k: v for k, v in ((LEFT, day), (LEFT_REASON, IMPORT_REASON)) if k in keys}
