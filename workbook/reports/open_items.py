"""A flag as an item to act on: its level, who it concerns, why it is open, and what clears it.

The secretaries' reminders and the liaisons' digests (reminders.py) list these; the bulletin counts them
and names no one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..flags import Flag, _worded
from ..i18n import N_, Domain
from .flag_view import LEVELS, key_of, level_of, return_state

say = Domain("reports")

# What clears each rule's flag, worded from the flag's values (docs/domain.md, "Falling behind").
CLEARS = {
    "no-data": N_("Clears when the branch's return records the member's study or attendance."),
    "study-hours": N_("Clears once the records reach the hours due ({expected:.1f}; {gap:g} more)."),
    "absent-in-row": N_("Clears when the member attends, or is excused from, the next central session."),
    "attendance-rate": N_("Clears when the attendance rate rises to {minimum:.0%}."),
    "status-unknown": N_("Clears when the blank attendance cells are filled in (present, absent or excused) in a "
                         "corrected return."),
    "no-inspection": N_("Clears when the supervision group's notebook check is recorded."),
    "questions": N_("Clears when a later check records all {needed} thinking questions answered."),
    "fix-overdue": N_("Clears when a passing re-check is recorded."),
    "opinions": N_("Clears when {missing} more people asked for opinions are recorded."),
    "away-silent": N_("Clears when a report from the member is recorded."),
    "return-missing": N_("Clears when week {week}'s return is received and merged."),
    "return-late": N_("Nothing to clear: it stays on record. Send the next return on time."),
}
SENT_BACK = N_("Week {week}'s return was sent back for correction: {why}")
SENT_BACK_CLEARS = N_("Clears when the corrected return is received and merged.")


@dataclass(frozen=True)
class OpenItem:
    level: str
    subject_kind: str  # member | branch
    name: str  # the member's name, or the branch's
    branch_id: str
    branch: str
    title: str
    reason: str
    clears: str  # "" when the rule names nothing
    new: bool  # open now and not a week before

    def sort_key(self) -> tuple:
        return LEVELS.index(self.level), self.subject_kind != "branch", self.name, self.title


def _sent_back(tables: dict, flag: Flag, grace_days: int) -> str | None:
    """Why a return flagged as missing was sent back, when it was (the receipt's note, as the merge worded it)."""
    week = flag.values.get("week")
    end = flag.values.get("end")
    if flag.rule != "return-missing" or not isinstance(end, date):
        return None
    receipts = tables.get("returns", [])
    if return_state(receipts, flag.subject_id, week, end + timedelta(days=grace_days)) != "rejected":
        return None
    notes = [r.get("note") for r in receipts if r.get("branch_id") == flag.subject_id and r.get("week") == week
             and r.get("result") == "rejected"]
    return notes[-1] or ""


def open_items(flags: list[Flag], tables: dict, lang: str, week_before: set[str], grace_days: int) -> list[OpenItem]:
    """The flags as items, most urgent first; `week_before`: the keys of the flags open a week earlier."""
    branch_ids = {b.get("name"): b["branch_id"] for b in tables.get("branches", [])}
    items = []
    for flag in flags:
        values = _worded(lang, flag.values)
        reason, clears = flag.detail(lang), say(lang, CLEARS[flag.rule], **values) if flag.rule in CLEARS \
            else flag.shortfall(lang)
        why = _sent_back(tables, flag, grace_days) if flag.subject_kind == "branch" else None
        if why is not None:
            reason, clears = say(lang, SENT_BACK, week=flag.values["week"], why=why), say(lang, SENT_BACK_CLEARS)
        items.append(OpenItem(level_of(flag), flag.subject_kind, flag.name, flag.branch_id or branch_ids.get(flag.branch, ''),
                              flag.branch, flag.title(lang), reason, clears, key_of(flag) not in week_before))
    return sorted(items, key=OpenItem.sort_key)
