"""A member's period in a branch (docs/domain.md, "Who uses it"; schemas/master.yaml, members).

`joined` blank: in from the campaign's start; `left` blank: still in. `left` is the first day he is no
longer a member of the branch (graduated, transferred out, abroad). A transfer inside the college keeps one
row: `branch_id` is the new branch from `joined` on, `from_branch` the one before; his records stay his.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from .cells import as_day

LEFT, LEAVE_REASON = "left", "leave_reason"
IMPORT_LEAVE_REASON = "transfer_out"  # a roster import's leaver: 转出, unless its own 离开原因 column says 毕业 or 出国


def group_form(text: Any) -> str:
    """A 党小组 as compared (a member's, a 党小组 session's) in validation, the flags and the 填报检查 alike:
    stripped, case ignored."""
    return "" if text is None else str(text).strip().casefold()


def joined(member: dict) -> date | None:
    return as_day(member.get("joined"))


def left(member: dict) -> date | None:
    return as_day(member.get("left"))


def transferred(member: dict) -> bool:
    """Moved here from another branch of the college: in the campaign before `joined`."""
    return bool(member.get("from_branch")) and joined(member) is not None


def campaign_start(member: dict) -> date | None:
    """The day he entered the campaign (None: from its start); a transfer inside the college is not a new start."""
    return None if transferred(member) else joined(member)


def active_on(member: dict, day: date) -> bool:
    """A member of some branch of the college on `day`."""
    start, end = campaign_start(member), left(member)
    return (start is None or start <= day) and (end is None or day < end)


def branch_on(member: dict, day: date) -> str | None:
    """His branch on `day`, or None when he is not a member then."""
    if not active_on(member, day):
        return None
    if transferred(member) and day < joined(member):
        return member["from_branch"]
    return member.get("branch_id")


def in_branch(member: dict, branch_id: str, first: date, last: date) -> bool:
    """A member of `branch_id` on some day from `first` to `last` (who is on a week's roster)."""
    if member.get("branch_id") == branch_id:
        start, end = joined(member), left(member)
        return (start is None or start <= last) and (end is None or end > first)
    if transferred(member) and member.get("from_branch") == branch_id:
        return joined(member) > first  # here until the day before the move
    return False


def away_period(member: dict) -> tuple[date | None, date | None] | None:
    """(from, until) of his time away on training (None ends: open), or None when he is not away.
    `away` 是 with no dates is the whole campaign; dates alone say enough."""
    start, end = as_day(member.get("away_from")), as_day(member.get("away_until"))
    if start or end:
        return start, end
    return (None, None) if member.get("away") == "yes" else None


def away_on(member: dict, day: date) -> bool:
    period = away_period(member)
    return period is not None and (period[0] is None or period[0] <= day) and (period[1] is None or day <= period[1])


def away_all_week(member: dict, first: date, last: date) -> bool:
    """Away every day from `first` to `last`: his attendance that week is pre-filled 请假(在外)."""
    return away_on(member, first) and away_on(member, last)


# A roster import (roster_import.py): a member no longer listed has left; one listed in another branch has
# moved (one row, so her records stay with her); one listed again after leaving is back.
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
    if left(before) is not None and not row.get(LEFT):
        changes.update({LEFT: None, LEAVE_REASON: None})
    return changes
