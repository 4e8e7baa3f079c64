"""The figures of phases 2 and 3 per branch, for the dashboard, the bulletin and the roll-up: self-analyses final,
members talked with, members appraised, 整改 items done and overdue (docs/design.md, "The bulletin").

Each figure reads the records as the rules of phase_flags.py do (the latest row of an event record is its state),
through the same functions, so that a dashboard's "overdue" is the items the flags name."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from ..flags import Facts
from ..phase_flags import FINAL, Item, analysis_phase, analysis_step, committee_talks, latest


@dataclass
class PhaseFigures:
    """Counts over the members in a branch on the day (or over several branches, added up)."""

    members: int = 0
    analyses_final: int = 0
    steps: Counter = field(default_factory=Counter)  # the latest step of the members not final (None: none yet)
    talked: int = 0  # members with at least talks_min talks with a 支委
    appraised: int = 0
    grades: Counter = field(default_factory=Counter)  # 等次 of those appraised (None: none, a 预备党员's)
    items: int = 0  # 整改 items
    items_done: int = 0
    items_overdue: int = 0  # overdue or failing their re-check (phase_flags.Item.overdue)
    items_failed: int = 0  # of them, failing their latest re-check

    def __add__(self, other: PhaseFigures) -> PhaseFigures:
        return PhaseFigures(**{name: getattr(self, name) + getattr(other, name)
                               for name in self.__dataclass_fields__})


def shown(facts: Facts, day: date) -> bool:
    """The figures are shown from the start of the analysis phase (rules.yaml analysis_phase) on."""
    phase = analysis_phase(facts)
    return phase is not None and day >= phase.start


def item_figures(facts: Facts, items: list[Item]) -> PhaseFigures:
    overdue = [item for item in items if item.overdue(facts)]
    return PhaseFigures(items=len(items), items_done=sum(item.done for item in items), items_overdue=len(overdue),
                        items_failed=sum(item.recheck == "fail" for item in overdue))


def branch_figures(facts: Facts, branch_id: str, items: list[Item]) -> PhaseFigures:
    """A branch's members on the day (Facts.roster) and its own items (its members' and the branch's)."""
    figures = item_figures(facts, [item for item in items if item.branch_id == branch_id])
    needed = facts.thresholds.talks_min
    for member in facts.roster(branch_id):
        member_id = member["member_id"]
        figures.members += 1
        step = analysis_step(facts, member_id)
        if step is not None and step.get("stage") == FINAL:
            figures.analyses_final += 1
        else:
            figures.steps[step.get("stage") if step else None] += 1
        figures.talked += committee_talks(facts, member_id) >= needed
        appraisal = latest(facts.by_member["appraisals"].get(member_id, []))
        if appraisal is not None:
            figures.appraised += 1
            figures.grades[appraisal.get("grade")] += 1
    return figures
