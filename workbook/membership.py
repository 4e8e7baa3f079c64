"""A member's membership period as an import sees it (schemas/master.yaml, members: joined, join_reason,
from_branch, left, leave_reason): a member no longer listed has left; one listed in another branch has
moved (one row, so her records stay with her); one listed again after leaving is back."""
from __future__ import annotations

from datetime import date
from typing import Any

from .cells import as_day

LEFT, LEAVE_REASON = "left", "leave_reason"
IMPORT_LEAVE_REASON = "transfer_out"  # 转出, unless the roster's own 离开原因 column says 毕业 or 出国


def left_on(member: dict[str, Any]) -> date | None:
    return as_day(member.get(LEFT))


def leave_values(day: date) -> dict[str, Any]:
    """The fields that mark a member as having left on `day`."""
    return {LEFT: day, LEAVE_REASON: IMPORT_LEAVE_REASON}


def listed_values(before: dict[str, Any], row: dict[str, Any], day: date) -> dict[str, Any]:
    """What a roster row listing an existing member changes besides its own cells: a move to another branch
    (joined that day, transferred in from the old branch), or a return after leaving (left cleared)."""
    changes: dict[str, Any] = {}
    moved = row.get("branch_id") and before.get("branch_id") and row["branch_id"] != before["branch_id"]
    if moved and not row.get("joined"):
        changes.update(joined=day, join_reason="transfer_in", from_branch=before["branch_id"])
    if left_on(before) is not None and not row.get(LEFT):
        changes.update({LEFT: None, LEAVE_REASON: None})
    return changes
