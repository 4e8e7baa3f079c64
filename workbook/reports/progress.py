"""Progress per branch and per week, as of a date: the figures the dashboard, the bulletin and the reminders show.

Each branch's hours are measured to its data cut-off (Facts.cutoff: the end of its last merged week), at most
the end of the report week: a return can only report up to its week's end, so a branch is not held short for
days no return could cover, nor for a week it has not reported (issue 12; docs/domain.md, "Falling behind").
The flags measure the same way (flags.study_hours). Each branch's return state for the report week comes from
return_states.py, as the flags' do."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from ..calendar import Campaign
from ..cells import as_day
from ..flags import Facts, Flag, compute_flags, study_progress
from ..phase_flags import rectification_items
from ..return_states import ReturnState, return_state
from ..schema import Schemas, load_schemas
from .phase_progress import PhaseFigures, branch_figures, item_figures, shown

LAGGING = "*"  # marks the figures of a branch measured to an earlier day than the report week's end


@dataclass
class BranchProgress:
    branch_id: str
    name: str
    liaison: str
    secretary: str
    members: int
    return_state: ReturnState  # the report week's return: 未交, 已交, 迟交, 退回待更正, 空表, 更正已收
    returns_total: int
    average_hours: float  # 0.0 when nothing is measured (measured_to None)
    expected_hours: float
    on_target_share: float | None  # None: no member with data yet
    attendance_rate: float | None
    inspected: int
    passed: int
    overdue: int
    opinions: int
    flags: int
    on_target: int = 0  # members at or above their hours due
    measured: int = 0  # members with any study record (the share's denominator)
    measured_to: date | None = None  # the day the hours are measured to (None: no return merged yet)
    present: int = 0  # attendance at centralised sessions, counted (the rate's parts: a roll-up adds them up)
    absent: int = 0
    phases: PhaseFigures | None = None  # phases 2 and 3, from the analysis phase's start (phase_progress.py)

    @property
    def returned_this_week(self) -> bool:
        return self.return_state.merged


@dataclass
class WeekProgress:
    week: int
    returns: int
    attendance_rate: float | None
    present: int = 0
    absent: int = 0


@dataclass
class Progress:
    as_of: date
    week: int  # the report week: the last week ended by as_of
    week_start: date
    week_end: date
    branches: list[BranchProgress]
    weeks: list[WeekProgress]
    flags: list[Flag] = field(default_factory=list)
    phases: PhaseFigures | None = None  # the branches' phase-2/3 figures added up, with the committee's own items

    @property
    def missing(self) -> list[BranchProgress]:
        return [b for b in self.branches if not b.returned_this_week]

    def complete(self) -> list[BranchProgress]:
        """The branches whose hours are known to the end of the report week."""
        return [b for b in self.branches if b.measured_to == self.week_end]

    def measured(self) -> list[BranchProgress]:
        """The branches whose hours are known to some day (to the week's end or to their last return)."""
        return [b for b in self.branches if b.measured_to is not None]

    def lagging(self) -> int:
        """How many branches are measured to an earlier day than the week's end, or not at all."""
        return sum(b.measured_to != self.week_end for b in self.branches)


def rate(present: int, absent: int) -> float | None:
    """Attendance: present of present and absent (leave not counted)."""
    return present / (present + absent) if present + absent else None


def report_week(facts: Facts) -> int:
    return week_reported(facts.campaign, facts.as_of)


def week_reported(campaign: Campaign, as_of: date) -> int:
    """The last campaign week that has ended by the as-of date (week 1 before any has)."""
    week = campaign.week_of(as_of)
    if week > 1 and campaign.week_range(min(week, campaign.last_week))[1] > as_of:
        week -= 1
    return max(1, min(week, campaign.last_week))


def compute_progress(tables: dict[str, list[dict]], as_of: date, schemas: Schemas | None = None,
                     flags: list[Flag] | None = None, facts: Facts | None = None) -> Progress:
    schemas = schemas or load_schemas()
    facts = facts or Facts(tables, as_of, schemas)
    flags = compute_flags(tables, as_of, schemas, facts) if flags is None else flags
    week = report_week(facts)
    start, end = facts.campaign.week_range(week)
    merged = [r for r in facts.returns if r.get("result") in ("merged", "replaced")]
    overdue_rule = "fix-overdue"
    # Indexed once: a university has 600 branches, 20,000 members and thousands of flags.
    members_of: dict[str, list[dict]] = defaultdict(list)
    for member in facts.members:
        members_of[member.get("branch_id")].append(member)
    flags_on: dict[tuple[str, str], list[Flag]] = defaultdict(list)
    for flag in flags:
        flags_on[(flag.subject_kind, flag.subject_id)].append(flag)
    # Each centralised session's week once, then one pass over attendance for both each member's and each
    # week's present and absent.
    week_of = {sid: facts.campaign.week_of(facts.session_day[sid]) for sid in facts.central_sessions}
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    attended: dict[str, tuple[int, int]] = {}  # member -> (present, absent) at centralised sessions
    for member_id, rows in facts.attendance.items():
        present = absent = 0
        expected = facts.expected_at(member_id)
        for row in rows:
            number = week_of.get(row["session_id"])
            if number is not None and expected(row["session_id"]):
                status = row.get("status")
                if status == "present":
                    present += 1
                    counts[number][0] += 1
                elif status == "absent":
                    absent += 1
                    counts[number][1] += 1
        attended[member_id] = present, absent
    weeks_returned: dict[str, set] = defaultdict(set)
    for r in merged:
        weeks_returned[r.get("branch_id")].add(r.get("week"))
    grace = schemas.rules.thresholds.return_grace_days
    items = rectification_items(facts) if shown(facts, end) else None
    branches = []
    for branch_id, branch in facts.branches.items():
        members = [m for m in members_of.get(branch_id, ()) if (as_day(m.get("joined")) or as_of) <= as_of]
        cutoff = facts.cutoff.get(branch_id)
        until = min(cutoff, end) if cutoff else None
        progress = [p for p in (study_progress(facts, m, until) for m in members) if p is not None] if until else []
        with_data = [p for p in progress if p[2]]
        on_target = sum(p[0] + 1e-9 >= p[1] for p in with_data)
        present = absent = 0
        inspected = passed = opinions = 0
        for member in members:
            member_present, member_absent = attended.get(member["member_id"], (0, 0))
            present += member_present
            absent += member_absent
            checks = sorted(facts.by_member["inspections"].get(member["member_id"], []), key=lambda r: as_day(r["date"]))
            if checks:
                inspected += 1
                latest = checks[-1]
                passed += latest.get("result") == "pass" or latest.get("recheck_result") == "pass"
            opinions += sum(int(r.get("people") or 0) for r in facts.by_member["opinions"].get(member["member_id"], []))
        member_ids = {m["member_id"] for m in members}
        branch_flags = flags_on.get(("branch", branch_id), []) + [
            f for member_id in member_ids for f in flags_on.get(("member", member_id), ())]
        branches.append(BranchProgress(
            branch_id=branch_id, name=branch.get("name", branch_id), liaison=facts.liaison.get(branch_id, ""),
            secretary=branch.get("secretary", ""), members=len(members),
            return_state=return_state(facts.campaign, facts.receipts.get(branch_id, []), branch_id, week, grace, as_of),
            returns_total=len(weeks_returned.get(branch_id, ())),
            average_hours=sum(p[0] for p in progress) / len(progress) if progress else 0.0,
            expected_hours=max((p[1] for p in progress), default=0.0),
            on_target_share=on_target / len(with_data) if with_data else None,
            attendance_rate=rate(present, absent), inspected=inspected, passed=passed,
            overdue=sum(f.rule == overdue_rule for f in branch_flags), opinions=opinions, flags=len(branch_flags),
            on_target=on_target, measured=len(with_data), measured_to=until, present=present, absent=absent,
            phases=None if items is None else branch_figures(facts, branch_id, items),
        ))
    weeks = [WeekProgress(number, len({r.get("branch_id") for r in merged if r.get("week") == number}),
                          rate(*counts[number]), *counts[number]) for number in range(1, week + 1)]
    college = None if items is None else sum(
        (b.phases for b in branches), item_figures(facts, [item for item in items if item.branch_id is None]))
    return Progress(as_of, week, start, end, branches, weeks, flags, college)


def hours_cells(progress: Progress, branch: BranchProgress) -> list[str]:
    """Hours studied, hours due, share on schedule, as a table shows them; marked when measured to an earlier
    day than the week's end, a dash when not measured."""
    if branch.measured_to is None:
        return ["—", "—", "—"]
    mark = "" if branch.measured_to == progress.week_end else LAGGING
    share = "—" if branch.on_target_share is None else f"{branch.on_target_share:.0%}"
    return [f"{branch.average_hours:.1f}{mark}", f"{branch.expected_hours:.1f}{mark}", share]
