"""The rules of phases 2 and 3 (docs/domain.md, "Falling behind"): 党性分析材料 not final, 谈心谈话 not held,
民主评议 missing, 整改 items overdue. Thresholds in schemas/rules.yaml; flags.py runs them with its own rules.

Every record of these phases is an event: a later week reports the next step as a new row, and the latest row
(by date) is the state (docs/domain.md, "Phases 2 and 3"). A member is judged once his branch's returns are
known through the due day and none is outstanding, as the study hours are (flags.study_hours): before that the
step he took that week may simply not be reported yet, and a missing or rejected return has its own flag.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .calendar import Phase
from .cells import as_day
from .membership import active_on, campaign_start

if TYPE_CHECKING:
    from .flags import Facts

FINAL = "final"  # codes.yaml analysis_stage: the material's last step
TALK_KIND = "committee"  # codes.yaml talk_kind: a 支委 with a member, the talk the rule asks for
DONE, FAILED = "done", "fail"  # codes.yaml rectification_status and recheck_result


def analysis_phase(facts: Facts) -> Phase | None:
    """The phase of 党性分析、民主评议, by its ordinal (rules.yaml analysis_phase); None when the campaign has fewer."""
    number, phases = facts.thresholds.analysis_phase, facts.campaign.phases
    return phases[number - 1] if number <= len(phases) else None


def due_days(facts: Facts) -> dict[str, date] | None:
    """The day each phase-2 record is due: the analysis final and the talks some days before the phase ends, the
    appraisal by its end; None without that phase. Worked out once for the facts (every member's rules ask)."""
    if "_due_days" not in facts.__dict__:
        facts.__dict__["_due_days"] = _due_days(facts)
    return facts.__dict__["_due_days"]


def _due_days(facts: Facts) -> dict[str, date] | None:
    phase = analysis_phase(facts)
    if phase is None:
        return None
    thresholds = facts.thresholds
    return {"analysis": phase.end - timedelta(days=thresholds.analysis_days_before_end),
            "talks": phase.end - timedelta(days=thresholds.talks_days_before_end), "appraisal": phase.end}


def known_past(facts: Facts, branch_id: str | None, day: date) -> bool:
    """Whether the branch's records are known through `day` and `day` is over: its data cut-off reaches it and no
    return due is missing or sent back (the branch's own flag says so meanwhile). A college item (no branch) is
    the office's own: known as of the day."""
    if day >= facts.as_of:
        return False
    if not branch_id:
        return True
    cutoff = facts.cutoff.get(branch_id)
    return cutoff is not None and cutoff >= day and not facts.returns_outstanding(branch_id)


def _held(facts: Facts, member: dict, due: date) -> str | None:
    """His branch when the rule holds him to `due`: in the college before it (one who joined after it owes
    nothing of it) and his branch's records known past it; else None."""
    start = campaign_start(member)
    if start is not None and start > due:
        return None
    branch = facts.branch_of(member)
    return branch if known_past(facts, branch, due) else None


def latest(rows: list[dict]) -> dict | None:
    """The state of an event record: its latest row by date (the ledger's order within a day)."""
    return max(reversed(rows), key=lambda row: as_day(row.get("date")), default=None)


def analysis_step(facts: Facts, member_id: str) -> dict | None:
    return latest(facts.by_member["analyses"].get(member_id, []))


def committee_talks(facts: Facts, member_id: str) -> int:
    return sum(row.get("kind") == TALK_KIND for row in facts.by_member["talks"].get(member_id, []))


def analysis_final(facts: Facts, member: dict):
    """党性分析材料 not 定稿 by its due day: the detail names the step it is at (or none)."""
    due = (due_days(facts) or {}).get("analysis")
    branch = _held(facts, member, due) if due else None
    if branch is None:
        return
    step = analysis_step(facts, member["member_id"])
    if step is not None and step.get("stage") == FINAL:
        return
    yield facts.flag("analysis-not-final", member, branch, due, due=due, step=step.get("stage") if step else None,
                     step_day=as_day(step.get("date")) if step else None)


def talks(facts: Facts, member: dict):
    """Fewer than talks_min 谈心谈话 with a 支委 by their due day (a talk recorded later clears it)."""
    due = (due_days(facts) or {}).get("talks")
    branch = _held(facts, member, due) if due else None
    if branch is None:
        return
    needed, held = facts.thresholds.talks_min, committee_talks(facts, member["member_id"])
    if held < needed:
        yield facts.flag("talks-missing", member, branch, due, due=due, count=held, needed=needed,
                         missing=needed - held)


def appraisal(facts: Facts, member: dict):
    """No 民主评议 row by the end of the phase; a 预备党员's row without 等次 counts (he gets none)."""
    phase, due = analysis_phase(facts), (due_days(facts) or {}).get("appraisal")
    branch = _held(facts, member, due) if due else None
    if branch is None or facts.by_member["appraisals"].get(member["member_id"]):
        return
    yield facts.flag("appraisal-missing", member, branch, due, due=due, phase=phase.name)


@dataclass(frozen=True)
class Item:
    """A 整改清单 item as its rows say now: the latest row's fields, and the latest re-check given."""

    item_no: str
    level: str  # member | branch | committee (codes.yaml rectification_level)
    branch_id: str | None  # None: the college committee's own item (the office types it)
    member_id: str | None
    problem: str
    deadline: date | None
    status: str | None
    recheck: str | None  # the latest re-check given on any of its rows
    recheck_day: date | None
    first_day: date

    @property
    def done(self) -> bool:
        return self.status == DONE and self.recheck != FAILED

    def overdue(self, facts: Facts) -> bool:
        """Past its 完成时限 and not done, or its latest re-check failed; judged once its branch's records are
        known past the deadline (the office's own items: as of the day)."""
        if self.recheck == FAILED:
            return True
        return self.status != DONE and self.deadline is not None and known_past(facts, self.branch_id, self.deadline)


def rectification_items(facts: Facts) -> list[Item]:
    """Each item (by branch and 整改编号) as its latest row says, in the order first reported."""
    rows: dict[tuple, list[dict]] = defaultdict(list)
    for row in facts.rectification:
        rows[(row.get("branch_id") or None, str(row.get("item_no")))].append(row)
    items = []
    for (branch_id, item_no), found in rows.items():
        now = latest(found)
        checked = latest([row for row in found if row.get("recheck")])
        level = now.get("level") or ("member" if now.get("member_id") else "branch" if branch_id else "committee")
        items.append(Item(item_no, level, None if level == "committee" else branch_id, now.get("member_id"),
                          str(now.get("problem") or ""), as_day(now.get("deadline")), now.get("status"),
                          checked.get("recheck") if checked else None,
                          as_day(checked.get("date")) if checked else None, min(as_day(r["date"]) for r in found)))
    return sorted(items, key=lambda item: (item.first_day, item.branch_id or "", item.item_no))


def rectification(facts: Facts):
    """The items overdue, one flag per subject: a member's on the member (while he is in the college), a branch's
    on the branch, the college committee's on the committee (subject_kind committee)."""
    members = {m["member_id"]: m for m in facts.members}
    by_subject: dict[tuple, list[Item]] = defaultdict(list)
    for item in rectification_items(facts):
        if not item.overdue(facts):
            continue
        member = members.get(item.member_id) if item.level == "member" else None
        if item.level == "member" and (member is None or not active_on(member, facts.as_of)):
            continue  # gone (graduated, transferred out): his item is not followed any more
        subject = ("member", item.member_id) if member else ("committee", "") if item.branch_id is None \
            else ("branch", item.branch_id)
        by_subject[subject].append(item)
    for (kind, subject_id), items in by_subject.items():
        first = min(items, key=lambda item: item.deadline or item.first_day)
        values = dict(items=[item.item_no for item in items], item=first.item_no, count=len(items),
                      problem=first.problem, deadline=first.deadline, status=first.status,
                      failed=first.recheck == FAILED, checked=first.recheck_day)
        since = first.recheck_day if first.recheck == FAILED and first.status == DONE else first.deadline
        if kind == "committee":
            yield facts.committee_flag("rectification-overdue", since, **values)
        else:
            yield facts.flag("rectification-overdue", members[subject_id] if kind == "member" else None,
                             first.branch_id or facts.branch_of(members[subject_id]), since, **values)


MEMBER_RULES = (analysis_final, talks, appraisal)
COLLEGE_RULES = (rectification,)
