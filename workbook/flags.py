"""Who falls behind, as of a date: the rules of DOMAIN.md with thresholds from schemas/rules.yaml.

Each rule is a small function over Facts (the ledger's records as of a date, indexed once) that yields Flags.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from .calendar import Campaign, Phase
from .cells import as_day
from .schema import Schemas, load_schemas
from .settings import Rules


@dataclass(frozen=True)
class Flag:
    subject_kind: str  # member | branch
    subject_id: str
    name: str
    branch: str
    rule: str  # a code; RULE_TITLES gives its words
    detail: str
    since: date | None
    liaison: str
    secretary: str
    shortfall: str = ""  # what the member still needs, for reminders

    def row(self) -> dict[str, Any]:
        data = asdict(self)
        data["rule"] = RULE_TITLES[self.rule]
        data.pop("shortfall")
        return data


RULE_TITLES = {
    "study-hours": "学时落后于进度",
    "no-data": "尚无学习记录",
    "absent-in-row": "连续缺席集中学习",
    "attendance-rate": "出勤率偏低",
    "status-unknown": "出勤情况不明",
    "no-inspection": "读书笔记尚未检查",
    "questions": "思考题未答完",
    "fix-overdue": "限期改进逾期",
    "opinions": "征求意见人数不足",
    "away-silent": "在外培训未按时汇报",
    "return-missing": "周报未交",
    "return-late": "周报迟交",
}


class Facts:
    """The master's records indexed for the rules, as of a date (later records are ignored)."""

    def __init__(self, tables: dict[str, list[dict]], as_of: date, schemas: Schemas):
        self.as_of = as_of
        self.schemas = schemas
        self.campaign = Campaign.from_records(tables.get("phases", []))
        self.branches = {b["branch_id"]: b for b in tables.get("branches", [])}
        committee = {c["committee_id"]: c["name"] for c in tables.get("committee", [])}
        self.liaison = {bid: committee.get(b.get("liaison_id"), "") for bid, b in self.branches.items()}
        self.members = [m for m in tables.get("members", []) if m.get("member_id")]
        self.sessions = {s["session_id"]: s for s in tables.get("sessions", [])
                         if s.get("session_id") and as_day(s.get("date")) and as_day(s["date"]) <= as_of}
        self.attendance: dict[str, list[dict]] = defaultdict(list)
        for row in tables.get("attendance", []):
            if row.get("session_id") in self.sessions:
                self.attendance[row.get("member_id")].append(row)
        self.by_member: dict[str, dict[str, list[dict]]] = {}
        for key in ("selfstudy", "inspections", "opinions"):
            index: dict[str, list[dict]] = defaultdict(list)
            for row in tables.get(key, []):
                day = as_day(row.get("date"))
                if day and day <= as_of:
                    index[row.get("member_id")].append(row)
            self.by_member[key] = index
        self.returns = [r for r in tables.get("returns", []) if r.get("result") in ("merged", "replaced")
                        and (as_day(r.get("received_at")) or as_of) <= as_of]
        self.central = self.schemas.codes["session_kind"].codes_where("central")
        self.thresholds = schemas.rules.thresholds
        self.study_targets = study_targets(self.campaign, schemas.rules)

    def flag(self, rule: str, member: dict | None, branch_id: str, detail: str, since: date | None,
             shortfall: str = "") -> Flag:
        branch = self.branches.get(branch_id, {})
        return Flag(
            "member" if member else "branch", member["member_id"] if member else branch_id,
            member["name"] if member else branch.get("name", branch_id), branch.get("name", branch_id),
            rule, detail, since, self.liaison.get(branch_id, ""), branch.get("secretary", ""), shortfall)


def study_targets(campaign: Campaign, rules: Rules) -> list[tuple[Phase, float]]:
    """The phases whose study hours count, each with its target: the phases sheet's 目标学时 where it is
    given; when no phase has one, the first phase with rules.yaml's campaign.target_hours."""
    given = [(phase, float(phase.target_hours)) for phase in campaign.phases
             if isinstance(phase.target_hours, (int, float)) and phase.target_hours > 0]
    return given or [(campaign.phases[0], float(rules.campaign.target_hours))]


@dataclass(frozen=True)
class StudyProgress:
    hours: float  # studied so far in the phases that carry a target
    expected: float  # what the targets ask by now, pro rata within each phase
    has_records: bool
    start: date  # the day he is measured from
    target: float  # the targets of the phases he is measured in, whole


def _study(facts: Facts, member: dict) -> StudyProgress | None:
    joined = as_day(member.get("joined"))
    attended = facts.attendance.get(member["member_id"], [])
    studied = facts.by_member["selfstudy"].get(member["member_id"], [])
    hours = expected = target = 0.0
    has_records, first = False, None
    for phase, phase_target in facts.study_targets:
        start = max(phase.start, joined or phase.start)
        if start > phase.end:
            continue  # he joined after this phase: its target is not his
        first = first or start
        target += phase_target
        if facts.as_of < start:
            continue
        in_phase = [r for r in attended if phase.start <= as_day(facts.sessions[r["session_id"]]["date"]) <= phase.end]
        in_phase += [r for r in studied if phase.start <= as_day(r["date"]) <= phase.end]
        hours += sum(float(r.get("hours") or 0) for r in in_phase)
        has_records = has_records or bool(in_phase)
        elapsed = (min(facts.as_of, phase.end) - start).days + 1
        span = (phase.end - start).days + 1
        expected += phase_target * min(elapsed / span, 1.0)
    if first is None or facts.as_of < first:
        return None
    return StudyProgress(hours, expected, has_records, first, target)


def study_progress(facts: Facts, member: dict) -> tuple[float, float, bool, date] | None:
    """(hours so far, hours expected by now, has any record, the day he is measured from) in the phases
    that carry a study target (study_targets); None before he starts."""
    progress = _study(facts, member)
    if progress is None:
        return None
    return progress.hours, progress.expected, progress.has_records, progress.start


def study_hours(facts: Facts, member: dict):
    progress = _study(facts, member)
    if progress is None:
        return
    hours, expected, target = progress.hours, progress.expected, progress.target
    if not progress.has_records:
        yield facts.flag("no-data", member, member["branch_id"], "还没有任何学习或出勤记录（不是 0 学时，而是尚无数据）。",
                          progress.start, f"还差 {target:g} 学时")
        return
    if hours + 1e-9 < expected:
        gap = round(expected - hours, 1)
        yield facts.flag("study-hours", member, member["branch_id"],
                          f"已学 {hours:g} 学时，按进度应达 {expected:.1f} 学时（还差 {gap:g} 学时）。", progress.start,
                          f"还差 {target - hours:g} 学时（按进度还差 {gap:g}）")


def attendance(facts: Facts, member: dict):
    rows = sorted(facts.attendance.get(member["member_id"], []),
                  key=lambda r: as_day(facts.sessions[r["session_id"]]["date"]))
    central = [r for r in rows if facts.sessions[r["session_id"]].get("kind") in facts.central]
    run, run_start, worst, worst_start = 0, None, 0, None
    for row in central:
        if row.get("status") == "absent":
            run += 1
            run_start = run_start or as_day(facts.sessions[row["session_id"]]["date"])
            if run > worst:
                worst, worst_start = run, run_start
        elif row.get("status") in ("present", "excused"):
            run, run_start = 0, None  # excused is not absent; a blank or unknown status does not break or extend
    if worst >= facts.thresholds.absences_in_row:
        yield facts.flag("absent-in-row", member, member["branch_id"], f"无故连续缺席集中学习 {worst} 次。", worst_start,
                          "请补学缺席的集中学习内容")
    counted = [r for r in central if r.get("status") in ("present", "absent")]
    if counted:
        rate = sum(r["status"] == "present" for r in counted) / len(counted)
        if rate < facts.thresholds.attendance_rate_min:
            yield facts.flag("attendance-rate", member, member["branch_id"],
                              f"出勤率 {rate:.0%}（请假不计），低于 {facts.thresholds.attendance_rate_min:.0%}。",
                              None, "请按时参加集中学习")
    unknown = [r for r in rows if r.get("status") not in ("present", "absent", "excused")]
    if unknown:
        sessions = "、".join(r["session_id"] for r in unknown[:3])
        yield facts.flag("status-unknown", member, member["branch_id"],
                          f"{len(unknown)} 次活动的出勤未填写或无法识别（{sessions}），未计为缺席。", None)


def notebook(facts: Facts, member: dict):
    phase = facts.campaign.phase_on(facts.as_of) or facts.campaign.phases[-1]
    checks = sorted((r for r in facts.by_member["inspections"].get(member["member_id"], [])
                     if as_day(r["date"]) >= phase.start), key=lambda r: as_day(r["date"]))
    if not checks:
        due = phase.start + timedelta(weeks=facts.thresholds.inspection_due_weeks)
        if facts.as_of >= due:
            yield facts.flag("no-inspection", member, member["branch_id"], f"「{phase.name}」阶段还没有读书笔记检查记录。",
                              due, "请督查小组检查读书笔记")
        return
    latest = checks[-1]
    needed = facts.thresholds.thinking_questions
    answered = latest.get("questions")
    if isinstance(answered, (int, float)) and answered < needed:
        yield facts.flag("questions", member, member["branch_id"], f"{needed} 个思考题只完成 {answered:g} 个。",
                          as_day(latest["date"]), f"还差 {needed - answered:g} 个思考题")
    for row in checks:
        deadline = as_day(row.get("deadline"))
        if row.get("result") == "fix" and deadline and deadline < facts.as_of and row.get("recheck_result") != "pass":
            yield facts.flag("fix-overdue", member, member["branch_id"],
                              f"读书笔记限期改进，期限 {deadline:%m月%d日} 已过，尚无合格的复查。", deadline,
                              f"笔记检查限期 {deadline.month} 月 {deadline.day} 日，已逾期")


def opinions(facts: Facts, member: dict):
    branch = facts.branches.get(member["branch_id"], {})
    if branch.get("kind") not in facts.thresholds.opinions_branch_kinds:
        return
    needed = facts.thresholds.opinions_min_people
    asked = sum(int(r.get("people") or 0) for r in facts.by_member["opinions"].get(member["member_id"], []))
    if asked < needed:
        yield facts.flag("opinions", member, member["branch_id"], f"已向 {asked} 位群众征求意见，要求不少于 {needed} 位。",
                          None, f"还需向 {needed - asked} 位群众征求意见")


def away_reports(facts: Facts, member: dict):
    if member.get("away") != "yes":
        return
    weeks = facts.thresholds.away_report_weeks
    records = [r for key in ("selfstudy", "opinions", "inspections") for r in facts.by_member[key].get(member["member_id"], [])]
    last = max((as_day(r["date"]) for r in records), default=None)
    since = last or facts.campaign.start
    if (facts.as_of - since).days > 7 * weeks:
        text = f"最近一次汇报在 {last:%m月%d日}" if last else "活动开始以来没有汇报"
        yield facts.flag("away-silent", member, member["branch_id"], f"长期在外培训，{text}，超过 {weeks} 周。", since,
                          "请尽快汇报学习情况")


def branch_returns(facts: Facts, branch_id: str):
    grace = timedelta(days=facts.thresholds.return_grace_days)
    weeks = {r.get("week"): r for r in facts.returns if r.get("branch_id") == branch_id}
    for week in range(1, facts.campaign.last_week + 1):
        start, end = facts.campaign.week_range(week)
        if end + grace >= facts.as_of:
            break
        received = weeks.get(week)
        if received is None:
            yield facts.flag("return-missing", None, branch_id, f"第{week}周（{start:%m月%d日}—{end:%m月%d日}）周报未交。",
                              end + grace)
            continue
        arrived = as_day(received.get("received_at"))
        if arrived and arrived > end + grace:
            yield facts.flag("return-late", None, branch_id, f"第{week}周周报 {arrived:%m月%d日} 才收到，晚于 "
                              f"{end + grace:%m月%d日}。", end + grace)


MEMBER_RULES = (study_hours, attendance, notebook, opinions, away_reports)


def compute_flags(tables: dict[str, list[dict]], as_of: date, schemas: Schemas | None = None,
                  facts: Facts | None = None) -> list[Flag]:
    """The flags as of a date; `facts`, when the caller has indexed the tables already (the dashboard does too)."""
    facts = facts or Facts(tables, as_of, schemas or load_schemas())
    flags: list[Flag] = []
    for branch_id in facts.branches:
        flags += branch_returns(facts, branch_id)
    for member in facts.members:
        joined = as_day(member.get("joined"))
        if joined and joined > as_of:
            continue
        for rule in MEMBER_RULES:
            flags += rule(facts, member)
    return flags


def flag_rows(flags: list[Flag]) -> list[dict[str, Any]]:
    return [flag.row() for flag in flags]
