"""Who falls behind, as of a date: the rules of docs/domain.md with thresholds from schemas/rules.yaml.

Each rule is a small function over Facts (the ledger's records as of a date, indexed once) that yields Flags.
A Flag carries its rule's code and the values the rule found; its words (title, detail, what the member
still needs) are rendered where a person reads them, in that person's language.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .calendar import Campaign, Phase
from .cells import as_day
from .i18n import N_, Domain
from .schema import Schemas, load_schemas
from .settings import Rules

say = Domain("flags")

RULE_TITLES = {
    "study-hours": N_("Study hours behind schedule"),
    "no-data": N_("No study records yet"),
    "absent-in-row": N_("Absent from central sessions in a row"),
    "attendance-rate": N_("Low attendance"),
    "status-unknown": N_("Attendance unclear"),
    "no-inspection": N_("Notebook not yet inspected"),
    "questions": N_("Thinking questions unanswered"),
    "fix-overdue": N_("Notebook fix overdue"),
    "opinions": N_("Too few people asked for opinions"),
    "away-silent": N_("Away on training, no report"),
    "return-missing": N_("Weekly return missing"),
    "return-late": N_("Weekly return late"),
}
# What each rule found, from its values; a date value {x} is given in words, with {x_month} and {x_day} as numbers.
DETAILS = {
    "no-data": N_("No study or attendance record yet (not 0 hours: no data)."),
    "study-hours": N_("Studied {hours:g} hours; {expected:.1f} due by now ({gap:g} short)."),
    "absent-in-row": N_("Central sessions missed in a row without leave: {count}."),
    "attendance-rate": N_("Attendance {rate:.0%} (leave not counted), below {minimum:.0%}."),
    "status-unknown": N_("Sessions whose attendance is blank or unreadable: {count} ({sessions}); not counted as "
                         "absent."),
    "no-inspection": N_("No notebook inspection yet in the phase “{phase}”."),
    "questions": N_("Thinking questions answered: {answered:g} of {needed}."),
    "fix-overdue": N_("Notebook to be improved by {deadline}: that day has passed without a passing recheck."),
    "opinions": N_("People asked for opinions: {asked}; at least {needed} required."),
    "away-silent": N_("Away on training; last report on {last}, longer ago than the {weeks}-week limit."),
    "away-silent:never": N_("Away on training; no report since the campaign began, longer than the {weeks}-week "
                            "limit."),
    "return-missing": N_("Week {week} ({start}–{end}): weekly return not received."),
    "return-late": N_("Week {week}'s return arrived on {arrived}, after {due}."),
}
# What the member still needs, for reminders (branch rules need none).
SHORTFALLS = {
    "no-data": N_("{target:g} hours to go"),
    "study-hours": N_("{remaining:g} hours to go, {gap:g} behind schedule"),
    "absent-in-row": N_("make up the central sessions missed"),
    "attendance-rate": N_("attend the central sessions on time"),
    "no-inspection": N_("the inspection group should check the notebook"),
    "questions": N_("thinking questions to go: {missing:g}"),
    "fix-overdue": N_("notebook fix was due on {deadline}: overdue"),
    "opinions": N_("people still to ask for opinions: {missing}"),
    "away-silent": N_("should report on the study soon"),
}
MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"), N_("Aug"), N_("Sep"),
          N_("Oct"), N_("Nov"), N_("Dec"))


def day_words(lang: str, day: date) -> str:
    """A day in words, as every report gives it: "21 Mar" in English, "03月21日" in Chinese."""
    return say(lang, "{day} {month_name}", day=day.day, month=day.month, month_name=say(lang, MONTHS[day.month - 1]))


def rule_title(lang: str, rule: str) -> str:
    return say(lang, RULE_TITLES[rule])


def _worded(lang: str, values: dict[str, Any]) -> dict[str, Any]:
    """A flag's values as its messages take them: dates in words (and as numbers), lists joined."""
    worded: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, date):
            worded.update({key: day_words(lang, value), f"{key}_month": value.month, f"{key}_day": value.day})
        elif isinstance(value, (list, tuple)):
            worded[key] = say(lang, ", ").join(str(part) for part in value)
        else:
            worded[key] = value
    return worded


@dataclass(frozen=True)
class Flag:
    subject_kind: str  # member | branch
    subject_id: str
    name: str
    branch: str
    rule: str  # a code; RULE_TITLES, DETAILS and SHORTFALLS give its words
    values: dict[str, Any]  # what the rule found (numbers, dates, names), for its words
    since: date | None
    liaison: str
    secretary: str

    def title(self, lang: str = "zh") -> str:
        return rule_title(lang, self.rule)

    def detail(self, lang: str = "zh") -> str:
        variant = f"{self.rule}:never" if self.rule == "away-silent" and self.values.get("last") is None else self.rule
        return say(lang, DETAILS[variant], **_worded(lang, self.values))

    def shortfall(self, lang: str = "zh") -> str:
        """What the member still needs, for reminders; "" when the rule names nothing."""
        message = SHORTFALLS.get(self.rule)
        return say(lang, message, **_worded(lang, self.values)) if message else ""

    def row(self, lang: str = "zh") -> dict[str, Any]:
        """The flag as the Flags sheet (and `flags --json`) shows it: words in `lang`, with the code and values."""
        return {"subject_kind": self.subject_kind, "subject_id": self.subject_id, "name": self.name,
                "branch": self.branch, "rule": self.title(lang), "detail": self.detail(lang), "since": self.since,
                "liaison": self.liaison, "secretary": self.secretary, "shortfall": self.shortfall(lang),
                "code": self.rule, "values": dict(self.values)}


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

    def flag(self, rule: str, member: dict | None, branch_id: str, since: date | None, **values: Any) -> Flag:
        branch = self.branches.get(branch_id, {})
        return Flag(
            "member" if member else "branch", member["member_id"] if member else branch_id,
            member["name"] if member else branch.get("name", branch_id), branch.get("name", branch_id),
            rule, values, since, self.liaison.get(branch_id, ""), branch.get("secretary", ""))


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


def _once_per_member(compute):
    """Computed once per member and Facts: the flags and the dashboard both ask (a 2,400-member college's
    export spent a tenth of its time asking twice)."""
    def cached(facts: Facts, member: dict):
        memo = facts.__dict__.setdefault(f"_memo_{compute.__name__}", {})
        key = id(member)  # the record is kept in the memo beside its result: its id is not reused meanwhile
        if key not in memo:
            memo[key] = (member, compute(facts, member))
        return memo[key][1]
    return cached


@_once_per_member
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
        yield facts.flag("no-data", member, member["branch_id"], progress.start, target=target)
        return
    if hours + 1e-9 < expected:
        gap = round(expected - hours, 1)
        yield facts.flag("study-hours", member, member["branch_id"], progress.start, hours=hours, expected=expected,
                          gap=gap, target=target, remaining=target - hours)


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
        yield facts.flag("absent-in-row", member, member["branch_id"], worst_start, count=worst)
    counted = [r for r in central if r.get("status") in ("present", "absent")]
    if counted:
        rate = sum(r["status"] == "present" for r in counted) / len(counted)
        if rate < facts.thresholds.attendance_rate_min:
            yield facts.flag("attendance-rate", member, member["branch_id"], None, rate=rate,
                              minimum=facts.thresholds.attendance_rate_min)
    unknown = [r for r in rows if r.get("status") not in ("present", "absent", "excused")]
    if unknown:
        yield facts.flag("status-unknown", member, member["branch_id"], None, count=len(unknown),
                          sessions=[r["session_id"] for r in unknown[:3]])


def notebook(facts: Facts, member: dict):
    phase = facts.campaign.phase_on(facts.as_of) or facts.campaign.phases[-1]
    checks = sorted((r for r in facts.by_member["inspections"].get(member["member_id"], [])
                     if as_day(r["date"]) >= phase.start), key=lambda r: as_day(r["date"]))
    if not checks:
        due = phase.start + timedelta(weeks=facts.thresholds.inspection_due_weeks)
        if facts.as_of >= due:
            yield facts.flag("no-inspection", member, member["branch_id"], due, phase=phase.name)
        return
    latest = checks[-1]
    needed = facts.thresholds.thinking_questions
    answered = latest.get("questions")
    if isinstance(answered, (int, float)) and answered < needed:
        yield facts.flag("questions", member, member["branch_id"], as_day(latest["date"]), needed=needed,
                          answered=answered, missing=needed - answered)
    for row in checks:
        deadline = as_day(row.get("deadline"))
        if row.get("result") == "fix" and deadline and deadline < facts.as_of and row.get("recheck_result") != "pass":
            yield facts.flag("fix-overdue", member, member["branch_id"], deadline, deadline=deadline)


def opinions(facts: Facts, member: dict):
    branch = facts.branches.get(member["branch_id"], {})
    if branch.get("kind") not in facts.thresholds.opinions_branch_kinds:
        return
    needed = facts.thresholds.opinions_min_people
    asked = sum(int(r.get("people") or 0) for r in facts.by_member["opinions"].get(member["member_id"], []))
    if asked < needed:
        yield facts.flag("opinions", member, member["branch_id"], None, asked=asked, needed=needed,
                          missing=needed - asked)


def away_reports(facts: Facts, member: dict):
    if member.get("away") != "yes":
        return
    weeks = facts.thresholds.away_report_weeks
    records = [r for key in ("selfstudy", "opinions", "inspections") for r in facts.by_member[key].get(member["member_id"], [])]
    last = max((as_day(r["date"]) for r in records), default=None)
    since = last or facts.campaign.start
    if (facts.as_of - since).days > 7 * weeks:
        yield facts.flag("away-silent", member, member["branch_id"], since, last=last, weeks=weeks)


def branch_returns(facts: Facts, branch_id: str):
    grace = timedelta(days=facts.thresholds.return_grace_days)
    weeks = {r.get("week"): r for r in facts.returns if r.get("branch_id") == branch_id}
    for week in range(1, facts.campaign.last_week + 1):
        start, end = facts.campaign.week_range(week)
        if end + grace >= facts.as_of:
            break
        received = weeks.get(week)
        if received is None:
            yield facts.flag("return-missing", None, branch_id, end + grace, week=week, start=start, end=end)
            continue
        arrived = as_day(received.get("received_at"))
        if arrived and arrived > end + grace:
            yield facts.flag("return-late", None, branch_id, end + grace, week=week, arrived=arrived, due=end + grace)


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


def flag_rows(flags: list[Flag], lang: str = "zh") -> list[dict[str, Any]]:
    """The Flags sheet's rows, in the master's language."""
    return [flag.row(lang) for flag in flags]
