"""A flag as an item to act on: its level, who it concerns, why it is open, and what clears it.

The secretaries' reminders and the liaisons' digests (reminders.py) list these; the bulletin counts them
and names no one.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..flags import Flag, _worded
from ..i18n import N_, Domain
from .flag_view import LEVELS, level_of

say = Domain("reports")

# What clears each rule's flag, worded from the flag's values (docs/domain.md, "Falling behind").
CLEARS = {
    "no-data": N_("Clears when the branch's return records the member's study or attendance."),
    "study-hours": N_("Clears once the records reach the hours due ({expected:.1f}; {gap:g} more)."),
    "absent-in-row": N_("Clears when the member attends, or is excused from, the next central session."),
    "attendance-rate": N_("Clears when the attendance rate rises to {minimum:.0%}."),
    "status-unknown": N_("Clears when the blank attendance cells are filled in (present, absent or excused) in a "
                         "corrected return."),
    "inspections-behind": N_("Clears when enough of the branch's notebooks are checked in the phase."),
    "questions": N_("Clears when a later check records all {needed} thinking questions answered."),
    # The check that ordered the fix is in an earlier week's return, already merged: the re-check is a row of a
    # later week's (docs/domain.md, "Falling behind": a later check closes it).
    "fix-overdue": N_("Clears when a re-check is recorded as a row of Notebook checks in any later week's return "
                      "(dated the day of the re-check, result Pass)."),
    "opinions": N_("Clears when {missing} more people asked for opinions are recorded in Opinions."),
    "away-silent": N_("Clears when a report from the member is recorded."),
    "return-missing": N_("Clears when the return of week {weeks} is received and merged."),
    "return-rejected": N_("Clears when the corrected return of week {weeks} is received and merged."),
    "return-late": N_("Nothing to clear: it stays on record. Send the next return on time."),
    "plan-missing": N_("Clears when the office receives the plan and enters the day it came (Received on) on the "
                       "sheet Plans of the master."),
    # Phases 2 and 3 (phase_flags.py): each record is an event, so a later week's return reports the next step.
    "analysis-not-final": N_("Clears when a row of Self-analyses in any later week's return records the step Final "
                             "(dated the day it was made final)."),
    "talks-missing": N_("Clears when {missing} more talks with a member of the branch committee are recorded in "
                        "Heart-to-heart talks."),
    "appraisal-missing": N_("Clears when the member's appraisal is recorded in Appraisals (a probationary member's "
                            "without a grade)."),
    "rectification-overdue": N_("Clears when a later row of Rectification items reports it Done (after a failed "
                                "re-check: a passing re-check)."),
}


@dataclass(frozen=True)
class OpenItem:
    level: str
    rule: str
    subject_kind: str  # member | branch | committee
    name: str  # the member's name, the branch's, or the committee's words
    branch_id: str
    branch: str
    title: str
    reason: str
    clears: str  # "" when the rule names nothing
    new: bool  # 新增: open now and not the week before (flag_history.py)

    def sort_key(self) -> tuple:
        return LEVELS.index(self.level), self.subject_kind != "branch", self.name, self.title


def open_items(flags: list[Flag], lang: str) -> list[OpenItem]:
    """The flags (with their level and state: flag_history.raised_with_history) as items, most urgent first."""
    items = []
    for flag in flags:
        clears = say(lang, CLEARS[flag.rule], **_worded(lang, flag.values)) if flag.rule in CLEARS else flag.shortfall(lang)
        items.append(OpenItem(level_of(flag), flag.rule, flag.subject_kind, flag.subject_name(lang), flag.branch_id,
                              flag.branch_name(lang),
                              flag.title(lang), flag.detail(lang), clears, flag.state == "new"))
    return sorted(items, key=OpenItem.sort_key)
