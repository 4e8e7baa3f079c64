"""Who falls behind, as of a date: the rules of docs/domain.md with thresholds from schemas/rules.yaml.

Each rule is a small function over Facts (the ledger's records as of a date, indexed once) that yields Flags.
A Flag carries its rule's code and the values the rule found; its words (title, detail, what the member
still needs) are rendered where a person reads them, in that person's language.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

from .calendar import Campaign, Phase
from .campaign_definition import CampaignDefinition
from .cells import as_day
from .i18n import N_, Domain
from .membership import active_on, away_on, away_period, branch_on, campaign_start, group_form, left
from .phase_flags import COLLEGE_RULES
from .phase_flags import MEMBER_RULES as PHASE_MEMBER_RULES
from .return_states import return_states
from .schema import Schemas, load_schemas

say = Domain("flags")

RULE_TITLES = {
    "study-hours": N_("Study hours behind schedule"),
    "no-data": N_("No study records yet"),
    "absent-in-row": N_("Absent from central sessions in a row"),
    "attendance-rate": N_("Low attendance"),
    "status-unknown": N_("Attendance unclear"),
    "inspections-behind": N_("Notebook checks behind"),
    "questions": N_("Thinking questions unanswered"),
    "fix-overdue": N_("Notebook fix overdue"),
    "opinions": N_("Too few people asked for opinions"),
    "away-silent": N_("Away on training, no report"),
    "return-missing": N_("Weekly return missing"),
    "return-late": N_("Weekly return late"),
    "return-rejected": N_("Weekly return sent back"),
    "plan-missing": N_("Plan not received"),
    # Phases 2 and 3 (phase_flags.py)
    "analysis-not-final": N_("Self-analysis not final"),
    "talks-missing": N_("Heart-to-heart talk not held"),
    "appraisal-missing": N_("Democratic appraisal missing"),
    "rectification-overdue": N_("Rectification item overdue"),
}
# Rule titles as a Flags sheet written before a rename shows them (docs/domain.md, "Words"), so that a master
# written then is still read by its rules (a college master rolled up).
FORMER_RULE_TITLES = {"思考题未答完": "questions"}
# What each rule found, from its values; a date value {x} is given in words, with {x_month} and {x_day} as numbers.
DETAILS = {
    "no-data": N_("No study or attendance record up to {until} (not 0 hours: no data)."),
    "study-hours": N_("Studied {hours:g} hours by {until}; {expected:.1f} due by then, {gap:g} short."),
    "absent-in-row": N_("Central sessions missed in a row without leave: {count}."),
    "attendance-rate": N_("Present at {present} of {counted} central sessions ({rate:.0%}; leave not counted), "
                          "below {minimum:.0%}."),
    "attendance-rate:made-up": N_("Present at {present} of {counted} central sessions ({rate:.0%}; leave not "
                                  "counted), below {minimum:.0%}; absences made up since: {made_up}."),
    "status-unknown": N_("Sessions whose attendance is blank or unreadable: {count} ({sessions}); not counted as "
                         "absent."),
    "inspections-behind": N_("Notebooks checked in the phase “{phase}”: {checked} of {members} members; the "
                             "phase ends on {end}."),
    "questions": N_("Thinking questions answered: {answered:g} of {needed}."),
    "fix-overdue": N_("Notebook to be improved by {deadline}: that day has passed without a passing recheck."),
    "opinions": N_("People asked for opinions by {due}: {asked}; at least {needed} required."),
    "away-silent": N_("Away on training; last report on {last}, longer ago than the {weeks}-week limit."),
    "away-silent:never": N_("Away on training since {away_since}; no report received yet, longer than the "
                            "{weeks}-week limit."),
    # The branch rules' details follow their titles ("周报未交。第3周。"): the week, not the title again.
    "return-missing": N_("Week {weeks}."),
    "return-rejected": N_("Week {weeks}: {reasons}"),
    "return-rejected:empty": N_("Week {weeks}: the return sent was empty (the template not filled in)."),
    "return-late": N_("Week {week}: arrived on {arrived}, after {due}."),
    "return-late:weeks": N_("Weeks {weeks}: each arrived after its due day; the first was due by {due}, the last "
                            "arrived on {arrived}."),
    # A study plan (学习计划); the variants: an implementation plan, and more than one plan overdue.
    "plan-missing": N_("The study plan for the phase “{phase}” was due on {due} and has not been "
                                  "received."),
    "plan-missing:implementation_plan": N_("The implementation plan for the phase “{phase}” was due on {due} and has "
                                           "not been received."),
    "plan-missing:appraisal_report": N_("The appraisal report for the phase “{phase}” was due on {due} and has not "
                                        "been received."),
    "plan-missing:rectification_plan": N_("The rectification plan for the phase “{phase}” was due on {due} and has "
                                          "not been received."),
    "plan-missing:more": N_("Plans overdue and not received: {count}, the first due on {due} (the phase “{phase}”)."),
    # The self-analysis by the step it is at (codes.yaml analysis_stage); the rule's own code: no step recorded.
    "analysis-not-final": N_("The self-analysis was to be final by {due}; no step of it is recorded yet."),
    "analysis-not-final:written": N_("The self-analysis was to be final by {due}; it is at the step Written "
                                     "(on {step_day})."),
    "analysis-not-final:reviewed": N_("The self-analysis was to be final by {due}; it is at the step Reviewed "
                                      "(on {step_day})."),
    "analysis-not-final:returned": N_("The self-analysis was to be final by {due}; it is at the step Returned for "
                                      "rework (on {step_day})."),
    "talks-missing": N_("Talks with a member of the branch committee by {due}: {count}; at least {needed} required."),
    "appraisal-missing": N_("No democratic appraisal recorded by {due}, the end of the phase “{phase}”."),
    # An item by its state (codes.yaml rectification_status), a failed re-check, or more than one item.
    "rectification-overdue": N_("Item {item} ({problem}) was to be done by {deadline}; it is still in progress."),
    "rectification-overdue:planned": N_("Item {item} ({problem}) was to be done by {deadline}; it has not been "
                                        "started."),
    "rectification-overdue:failed": N_("Item {item} ({problem}) failed its re-check on {checked}."),
    "rectification-overdue:more": N_("Items overdue or failing their re-check: {count} ({items}); the first was to "
                                     "be done by {deadline}."),
}
# What the member still needs, for reminders (branch rules need none).
SHORTFALLS = {
    "no-data": N_("{target:g} hours to go"),
    "study-hours": N_("{remaining:g} hours to go, {gap:g} behind schedule"),
    "absent-in-row": N_("make up the central sessions missed"),
    "attendance-rate": N_("attend the central sessions on time"),
    "questions": N_("thinking questions to go: {missing:g}"),
    "fix-overdue": N_("notebook fix was due on {deadline}: overdue"),
    "opinions": N_("people still to ask for opinions: {missing}"),
    "away-silent": N_("should report on the study soon"),
    "analysis-not-final": N_("self-analysis to make final"),
    "talks-missing": N_("talks with the branch committee to go: {missing}"),
    "appraisal-missing": N_("to be appraised"),
    "rectification-overdue": N_("rectification items overdue: {count}"),
}
# The college committee as a flag's subject (subject_kind committee: its own 整改 items, phase_flags.py).
COMMITTEE_WORDS = N_("College Party committee")
MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"), N_("Aug"), N_("Sep"),
          N_("Oct"), N_("Nov"), N_("Dec"))


def day_words(lang: str, day: date) -> str:
    """A day in words, as all prose gives it: "21 Mar" in English, "3月21日" in Chinese (no padding, no spaces)."""
    return say(lang, "{day} {month_name}", day=day.day, month=day.month, month_name=say(lang, MONTHS[day.month - 1]))


def rule_title(lang: str, rule: str) -> str:
    return say(lang, RULE_TITLES[rule])


SENTENCE_ENDS = ("。", ".", "！", "!", "？", "?")


def sentences_joined(lang: str, parts: list[str]) -> str | None:
    """Whole sentences (a return's reasons) one after the other, never "。，"; None unless every part is one."""
    if not parts or not all(part.rstrip().endswith(SENTENCE_ENDS) for part in parts):
        return None
    text = parts[0].rstrip()
    for part in parts[1:]:
        text = say(lang, "{sentence} {next}", sentence=text, next=part.strip())
    return text


def _joined(lang: str, parts: list[str]) -> str:
    joined = sentences_joined(lang, parts)
    return joined if joined is not None else say(lang, ", ").join(parts)


def _worded(lang: str, values: dict[str, Any]) -> dict[str, Any]:
    """A flag's values as its messages take them: dates in words (and as numbers), lists joined."""
    worded: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, date):
            worded.update({key: day_words(lang, value), f"{key}_month": value.month, f"{key}_day": value.day})
        elif key == "weeks" and isinstance(value, (list, tuple)):
            worded[key] = week_spans(lang, value)
        elif isinstance(value, (list, tuple)):
            worded[key] = _joined(lang, [str(part) for part in value])
        else:
            worded[key] = value
    return worded


def week_spans(lang: str, weeks: list[int]) -> str:
    """Weeks as a reader counts them: runs in a row as 4–12, the rest one by one (第2、4–12周)."""
    runs: list[list[int]] = []
    for week in sorted(weeks):
        if runs and week == runs[-1][-1] + 1:
            runs[-1].append(week)
        else:
            runs.append([week])
    return say(lang, ", ").join(f"{run[0]}–{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def _week_rejected(lang: str, sent_back: dict[str, Any]) -> str:
    """One week's return sent back, with its reasons: a part of the return-rejected flag's detail."""
    if sent_back.get("empty"):
        return say(lang, DETAILS["return-rejected:empty"], weeks=sent_back["week"])
    return say(lang, DETAILS["return-rejected"], weeks=sent_back["week"],
               reasons=_joined(lang, [str(reason) for reason in sent_back.get("reasons", ())]))


# A flag's level (how hard the office pushes) and its state against the previous week's flags
# (docs/domain.md, "Falling behind"); codes in the core, words where a person reads them.
LEVELS = ("escalate", "urge", "notice")  # most pressing first: the order of the Flags sheet
LEVEL_WORDS = {"notice": N_("Notice"), "urge": N_("Urge"), "escalate": N_("Escalate")}
STATES = ("new", "continuing", "cleared")
STATE_WORDS = {"new": N_("New"), "continuing": N_("Continuing"), "cleared": N_("Cleared")}


@dataclass(frozen=True)
class Flag:
    """One thing the office follows up: a member or a branch behind on one rule.

    `level`, `first_seen` and `state` come from the flags kept for earlier weeks (flag_history.py);
    a flag computed without history is new, first seen on the day it was computed, at its rule's
    starting level."""

    subject_kind: str  # member | branch | committee (the college committee: codes.yaml subject_kind)
    subject_id: str  # the member's ID, or the branch's ("" for the committee)
    name: str  # "" for the committee: worded where read (subject_name)
    branch: str  # the branch's name ("" for the committee)
    rule: str  # a code; RULE_TITLES, DETAILS and SHORTFALLS give its words
    values: dict[str, Any]  # what the rule found (numbers, dates, names), for its words
    since: date | None  # when the shortfall began, as the rule sees it
    liaison: str
    secretary: str
    branch_id: str = ""
    level: str = "notice"  # notice 提示 | urge 督促 | escalate 重点督办 (LEVELS)
    first_seen: date | None = None  # the day the office first saw this flag
    state: str = "new"  # new 新增 | continuing 持续 | cleared 已消除, against the previous week (STATES)

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two weeks' flags the same flag: who, and which rule."""
        return self.subject_kind, self.subject_id, self.rule

    def level_word(self, lang: str = "zh") -> str:
        return say(lang, LEVEL_WORDS[self.level])

    def state_word(self, lang: str = "zh") -> str:
        return say(lang, STATE_WORDS[self.state])

    def title(self, lang: str = "zh") -> str:
        return rule_title(lang, self.rule)

    def subject_name(self, lang: str = "zh") -> str:
        """Who the flag concerns, as a reader sees it: the member's or the branch's name, or the committee's words."""
        return say(lang, COMMITTEE_WORDS) if self.subject_kind == "committee" else self.name

    def branch_name(self, lang: str = "zh") -> str:
        """The branch's name; for the college committee, its words (it is in no branch)."""
        return say(lang, COMMITTEE_WORDS) if self.subject_kind == "committee" else self.branch

    def detail(self, lang: str = "zh") -> str:
        if self.rule == "return-rejected" and len(self.values.get("by_week", ())) > 1:
            # Each week's reasons after its own week (第3周：…… 第9周：……), never run together.
            return _joined(lang, [_week_rejected(lang, sent_back) for sent_back in self.values["by_week"]])
        return say(lang, DETAILS.get(self.variant, DETAILS[self.rule]), **_worded(lang, self.values))

    @property
    def variant(self) -> str:
        """The rule's code, or code:variant where its wording or starting level differs."""
        if self.rule == "away-silent" and self.values.get("last") is None:
            return "away-silent:never"
        if self.rule == "return-rejected" and self.values.get("empty"):
            return "return-rejected:empty"
        if self.rule == "return-missing" and len(self.values.get("weeks", ())) > 1:
            return "return-missing:weeks"
        if self.rule == "return-late" and len(self.values.get("weeks", ())) > 1:
            return "return-late:weeks"
        if self.rule == "attendance-rate" and self.values.get("made_up"):
            return "attendance-rate:made-up"
        if self.rule == "plan-missing":
            if self.values.get("count", 1) > 1:
                return "plan-missing:more"
            kind = f"plan-missing:{self.values.get('kind')}"
            return kind if kind in DETAILS else self.rule
        if self.rule == "analysis-not-final" and self.values.get("step"):
            return f"analysis-not-final:{self.values['step']}"
        if self.rule == "rectification-overdue":
            if self.values.get("count", 1) > 1:
                return "rectification-overdue:more"
            if self.values.get("failed"):
                return "rectification-overdue:failed"
            return "rectification-overdue:planned" if self.values.get("status") == "planned" else self.rule
        return self.rule

    def shortfall(self, lang: str = "zh") -> str:
        """What the member still needs, for reminders; "" when the rule names nothing."""
        message = SHORTFALLS.get(self.rule)
        return say(lang, message, **_worded(lang, self.values)) if message else ""

    def row(self, lang: str = "zh") -> dict[str, Any]:
        """The flag as the Flags sheet (and `flags --json`) shows it: words in `lang`, with the code and values."""
        # The committee's ID is its words too: the sheet's 编号 is never blank.
        subject_id = self.subject_name(lang) if self.subject_kind == "committee" else self.subject_id
        return {"subject_kind": self.subject_kind, "subject_id": subject_id, "name": self.subject_name(lang),
                "branch": self.branch_name(lang), "rule": self.title(lang), "detail": self.detail(lang), "since": self.since,
                "liaison": self.liaison, "secretary": self.secretary, "shortfall": self.shortfall(lang),
                "level": self.level_word(lang), "first_seen": self.first_seen, "state": self.state_word(lang),
                "code": self.rule, "values": dict(self.values), "branch_id": self.branch_id,
                "level_code": self.level, "state_code": self.state}


class Facts:
    """The master's records indexed for the rules, as of a date (later records are ignored).

    What is known of a branch runs to the end of its last merged week (`cutoff`): a return can only report
    up to its week's end, so members are measured to that day, not to `as_of` (docs/domain.md)."""

    def __init__(self, tables: dict[str, list[dict]], as_of: date, schemas: Schemas):
        self.as_of = as_of
        self.schemas = schemas
        self.campaign = Campaign.from_records(tables.get("phases", []))
        self.branches = {b["branch_id"]: b for b in tables.get("branches", [])}
        committee = {c["committee_id"]: c["name"] for c in tables.get("committee", [])}
        self.liaison = {bid: committee.get(b.get("liaison_id"), "") for bid, b in self.branches.items()}
        self.members = [m for m in tables.get("members", []) if m.get("member_id")]
        self._rosters: dict[str | None, list[dict]] | None = None
        self._outstanding: dict[str, bool] = {}
        self.sessions: dict[str, dict] = {}
        self.session_day: dict[str, date] = {}  # each session's day, parsed once (the rules ask per attendance row)
        for s in tables.get("sessions", []):
            day = as_day(s.get("date")) if s.get("session_id") else None
            if day and day <= as_of:
                self.sessions[s["session_id"]], self.session_day[s["session_id"]] = s, day
        self.attendance: dict[str, list[dict]] = defaultdict(list)
        # Each row's session day beside it, in the same order: the study hours, the attendance rule and the
        # dashboard all ask it per row (a 2,400-member college has 105,000 rows).
        self.attendance_days: dict[str, list[date]] = defaultdict(list)
        session_day = self.session_day
        # A 补学 session expects only those who missed the session it makes up (docs/domain.md, "Records"): who
        # was marked with a `missed` status (缺席, 请假) at each session some session makes up.
        made_up_sessions = {s["makes_up"] for s in self.sessions.values() if s.get("makes_up")}
        missed = schemas.codes["attendance_status"].codes_where("missed")
        self.missed: dict[str, set[str]] = {}  # a session whose attendance is not in the ledger: not listed
        for row in tables.get("attendance", []):
            day = session_day.get(row.get("session_id"))
            if day is not None:
                member_id = row.get("member_id")
                self.attendance[member_id].append(row)
                self.attendance_days[member_id].append(day)
                if row["session_id"] in made_up_sessions:
                    who = self.missed.setdefault(row["session_id"], set())
                    if row.get("status") in missed:
                        who.add(member_id)
        self.by_member: dict[str, dict[str, list[dict]]] = {}
        self.selfstudy_days: dict[str, list[date]] = defaultdict(list)  # beside by_member["selfstudy"], as above
        for key in ("selfstudy", "inspections", "opinions", "reports", "analyses", "talks", "appraisals"):
            index: dict[str, list[dict]] = defaultdict(list)
            for row in tables.get(key, []):
                day = as_day(row.get("date"))
                if day and day <= as_of:
                    member_id = row.get("member_id")
                    index[member_id].append(row)
                    if key == "selfstudy":
                        self.selfstudy_days[member_id].append(day)
            self.by_member[key] = index
        # 整改清单's rows up to as_of, for the items' state (phase_flags.rectification_items)
        self.rectification = [row for row in tables.get("rectification", [])
                              if (as_day(row.get("date")) or date.max) <= as_of]
        self.plans: dict[str, list[dict]] = defaultdict(list)  # each branch's plans (计划方案); the college's: None
        for plan in tables.get("plans", []):
            self.plans[plan.get("branch_id")].append(plan)
        self.returns = [r for r in tables.get("returns", []) if r.get("result") in ("merged", "replaced")
                        and (as_day(r.get("received_at")) or as_of) <= as_of]
        self.central = self.schemas.codes["session_kind"].codes_where("central")
        self.central_sessions = {sid for sid, s in self.sessions.items() if s.get("kind") in self.central}
        # A 党小组 session's group: only its members are expected at it (docs/domain.md, "Records").
        self.session_group = {sid: group_form(s.get("party_group")) for sid, s in self.sessions.items()
                              if group_form(s.get("party_group"))}
        self.member_group = {m["member_id"]: group_form(m.get("party_group")) for m in self.members}
        # Each 补学 session: those who missed the session it makes up (only they are expected at it).
        self.makeup_expects = {sid: self.missed[s["makes_up"]] for sid, s in self.sessions.items()
                               if s.get("makes_up") in self.missed}
        # 补学: the sessions each member has made up, by a self-study row or by being present at a session that
        # makes one up (docs/domain.md, "Falling behind"), up to as_of.
        self.made_up: dict[str, set[str]] = defaultdict(set)
        for member_id, studied in self.by_member["selfstudy"].items():
            self.made_up[member_id].update(row["makes_up"] for row in studied if row.get("makes_up"))
        makeup_sessions = {sid: s["makes_up"] for sid, s in self.sessions.items() if s.get("makes_up")}
        if makeup_sessions:
            for member_id, rows in self.attendance.items():
                self.made_up[member_id].update(makeup_sessions[row["session_id"]] for row in rows
                                               if row.get("status") == "present" and row["session_id"] in makeup_sessions)
        self.thresholds = schemas.rules.thresholds
        self.study_targets = study_targets(self.campaign, schemas.campaign)
        receipts: dict[str, list[dict]] = defaultdict(list)  # each branch's, so that no branch reads all the others'
        for receipt in tables.get("returns", []):
            receipts[receipt.get("branch_id")].append(receipt)
        self.receipts = receipts
        grace = self.thresholds.return_grace_days
        self.return_states = {bid: return_states(self.campaign, receipts.get(bid, []), bid, grace, as_of)
                              for bid in self.branches}
        self.cutoff: dict[str, date | None] = {}
        for bid, states in self.return_states.items():
            merged = [s.week for s in states if s.merged]
            self.cutoff[bid] = min(self.campaign.week_range(max(merged))[1], as_of) if merged else None

    def counted_days(self, member: dict) -> Callable[[date], bool] | None:
        """Whether a day counts against him: in the college (membership.active_on) and not away on training
        (membership.away_on); his dates parsed once, not once per attendance row. None: every day counts (no
        start, end or time away: most members)."""
        start, end, away = campaign_start(member), left(member), away_period(member)
        if away is None and start is None and end is None:
            return None
        if away is None:
            return lambda day: (start is None or start <= day) and (end is None or day < end)
        away_from, away_until = away
        return lambda day: ((start is None or start <= day) and (end is None or day < end)
                            and not ((away_from is None or away_from <= day) and (away_until is None or day <= away_until)))

    def dated_hours(self, member_id: str) -> list[tuple[date, float]]:
        """(day, hours) of his attendance, then of his self-study, in the ledger's order: what his study
        progress sums, each day parsed once for every phase. Not kept: a university's would hold a million pairs."""
        found = list(zip(self.attendance_days.get(member_id, ()),
                         [float(r.get("hours") or 0) for r in self.attendance.get(member_id, ())]))
        found += zip(self.selfstudy_days.get(member_id, ()),
                     [float(r.get("hours") or 0) for r in self.by_member["selfstudy"].get(member_id, ())])
        return found

    def roster(self, branch_id: str) -> list[dict]:
        """The members of a branch on the as-of day (membership.branch_on), indexed once for every branch."""
        if self._rosters is None:
            self._rosters = defaultdict(list)
            for member in self.members:
                self._rosters[branch_on(member, self.as_of)].append(member)
        return self._rosters.get(branch_id, [])

    def expected_at(self, member_id: str) -> Callable[[str], bool]:
        """Whether a session counts for the member: a 党小组 session counts for its group's members only, a 补学
        session for those who missed the session it makes up; anyone else there is neither expected nor counted,
        whatever he is marked (docs/domain.md, "Records")."""
        group = self.member_group.get(member_id, "")
        session_group, makeups = self.session_group, self.makeup_expects
        if not makeups:
            return lambda session_id: session_group.get(session_id, group) == group
        return lambda session_id: (session_group.get(session_id, group) == group
                                   and (session_id not in makeups or member_id in makeups[session_id]))

    def branch_of(self, member: dict) -> str | None:
        """His branch on the as-of day (membership.branch_on), else the one he is listed in; worked out once
        per member, though every rule asks."""
        return _branch(self, member)

    def data_until(self, member: dict) -> date | None:
        """The last day his branch's returns are known for (None: nothing merged yet)."""
        return self.cutoff.get(self.branch_of(member))

    def returns_outstanding(self, branch_id: str) -> bool:
        """A return due and not merged (missing, rejected or empty): the branch's hours are unknown meanwhile."""
        if branch_id not in self._outstanding:
            self._outstanding[branch_id] = any(s.state in ("missing", "rejected", "empty") and s.due < self.as_of
                                               for s in self.return_states.get(branch_id, ()))
        return self._outstanding[branch_id]

    def flag(self, rule: str, member: dict | None, branch_id: str, since: date | None, **values: Any) -> Flag:
        branch = self.branches.get(branch_id, {})
        return Flag(
            "member" if member else "branch", member["member_id"] if member else branch_id,
            member["name"] if member else branch.get("name", branch_id), branch.get("name", branch_id),
            rule, values, since, self.liaison.get(branch_id, ""), branch.get("secretary", ""), branch_id=branch_id,
            first_seen=self.as_of)

    def committee_flag(self, rule: str, since: date | None, **values: Any) -> Flag:
        """A flag on the college committee itself (its own 整改 items): in no branch, followed by the office."""
        return Flag("committee", "", "", "", rule, values, since, "", "", first_seen=self.as_of)


def study_targets(campaign: Campaign, definition: CampaignDefinition) -> list[tuple[Phase, float]]:
    """The phases whose study hours count, each with its target: the phases sheet's 目标学时 where it is
    given; when no phase has one (a sheet imported without them), the campaign definition's targets, phase by
    phase in date order (docs/configuration.md, "The campaign")."""
    given = [(phase, float(phase.target_hours)) for phase in campaign.phases
             if isinstance(phase.target_hours, (int, float)) and phase.target_hours > 0]
    return given or [(campaign.phases[number - 1], hours) for number, hours in definition.targets()
                     if number <= len(campaign.phases)]


@dataclass(frozen=True)
class StudyProgress:
    hours: float  # studied so far in the phases that carry a target
    expected: float  # what the targets ask by the day he is measured to, pro rata within each phase
    has_records: bool
    start: date  # the day he is measured from
    target: float  # what the targets ask of him in those phases, whole
    until: date  # the day he is measured to: his branch's data cut-off


def _once_per_member(compute):
    """Computed once per member, day and Facts: the flags and the dashboard both ask (a 2,400-member college's
    export spent a tenth of its time asking twice), and every rule asks his branch."""
    def cached(facts: Facts, member: dict, until: date | None = None):
        memo = facts.__dict__.setdefault(f"_memo_{compute.__name__}", {})
        key = (id(member), until)  # the record is kept in the memo beside its result: its id is not reused meanwhile
        if key not in memo:
            memo[key] = (member, compute(facts, member, until))
        return memo[key][1]
    return cached


@_once_per_member
def _branch(facts: Facts, member: dict, until: date | None = None) -> str | None:
    return branch_on(member, facts.as_of) or member.get("branch_id")


@_once_per_member
def _study(facts: Facts, member: dict, until: date | None = None) -> StudyProgress | None:
    """His hours and what is due of him up to `until` (default: as of the facts' date)."""
    until = min(until or facts.as_of, facts.as_of)
    start_day = campaign_start(member)
    pro_rata = facts.thresholds.late_joiner_target == "pro_rata"
    dated = facts.dated_hours(member["member_id"])
    hours = expected = target = 0.0
    has_records, first = False, None
    for phase, phase_target in facts.study_targets:
        start = max(phase.start, start_day or phase.start)
        if start > phase.end:
            continue  # he joined after this phase: its target is not his
        first = first or start
        span = (phase.end - start).days + 1
        whole = (phase.end - phase.start).days + 1
        owed = phase_target * span / whole if pro_rata else phase_target
        target += owed
        if until < start:
            continue
        last = min(until, phase.end)
        in_phase = [spent for day, spent in dated if start <= day <= last]
        hours += sum(in_phase)
        has_records = has_records or bool(in_phase)
        expected += owed * ((last - start).days + 1) / span
    if first is None or until < first:
        return None
    return StudyProgress(hours, expected, has_records, first, target, until)


def study_progress(facts: Facts, member: dict, until: date | None = None) -> tuple[float, float, bool, date] | None:
    """(hours so far, hours expected by then, has any record, the day he is measured from) in the phases
    that carry a study target (study_targets), up to `until` (default: the as-of day; the flags measure to
    `facts.data_until(member)`, his branch's data cut-off); None before he starts."""
    progress = _study(facts, member, until)
    if progress is None:
        return None
    return progress.hours, progress.expected, progress.has_records, progress.start


def study_hours(facts: Facts, member: dict):
    branch = facts.branch_of(member)
    until = facts.data_until(member)
    if until is None or facts.returns_outstanding(branch):
        return  # his hours are not known to the end of the weeks due: the branch's flag says why
    if away_on(member, until):
        return  # away on training, he studies on his own and is followed by his reports (away_reports)
    progress = _study(facts, member, until)
    if progress is None:
        return
    hours, expected, target = progress.hours, progress.expected, progress.target
    allowed = max(facts.thresholds.hours_tolerance, facts.thresholds.hours_tolerance_share * expected)
    if expected - hours <= allowed:
        return
    if not progress.has_records:
        yield facts.flag("no-data", member, branch, progress.start, target=target, until=until)
        return
    gap = round(expected - hours, 1)
    yield facts.flag("study-hours", member, branch, progress.start, hours=hours, expected=expected, gap=gap,
                     target=target, remaining=target - hours, until=until)


KNOWN_STATUSES = ("present", "absent", "excused", "away")


def attendance(facts: Facts, member: dict):
    branch = facts.branch_of(member)
    # Sessions while he was not in the branch, or away on training, are not held against him.
    member_id, counts = member["member_id"], facts.counted_days(member)
    dated = zip(facts.attendance_days.get(member_id, ()), facts.attendance.get(member_id, ()))
    # (day, row) by day; a stable sort on the day alone keeps the ledger's order within a day.
    rows = sorted(dated if counts is None else (pair for pair in dated if counts(pair[0])), key=itemgetter(0))
    central_sessions, expected = facts.central_sessions, facts.expected_at(member_id)
    central = [(day, row.get("status"), row["session_id"]) for day, row in rows
               if row["session_id"] in central_sessions and expected(row["session_id"])]
    statuses = [status for _, status, _ in central]
    made_up = facts.made_up.get(member_id, set())
    run, run_start, worst, worst_start = 0, None, 0, None
    if "absent" in statuses:
        for day, status, session_id in central:
            if status == "absent" and session_id not in made_up:  # a 补学 breaks a run as leave does
                run += 1
                run_start = run_start or day
                if run > worst:
                    worst, worst_start = run, run_start
            elif status in KNOWN_STATUSES:  # here: present, excused, away, or an absence made up
                run, run_start = 0, None  # excused is not absent; a blank or unknown status does not break or extend
    if worst >= facts.thresholds.absences_in_row:
        yield facts.flag("absent-in-row", member, branch, worst_start, count=worst)
    present = statuses.count("present")
    counted = present + statuses.count("absent")
    if counted >= facts.thresholds.attendance_min_sessions:
        rate = present / counted
        if rate < facts.thresholds.attendance_rate_min and worst < facts.thresholds.absences_in_row:
            # The rate as recorded (a 补学 is not attendance); the absences made up are said beside it.
            yield facts.flag("attendance-rate", member, branch, None, rate=rate,
                             minimum=facts.thresholds.attendance_rate_min, present=present, counted=counted,
                             made_up=sum(status == "absent" and sid in made_up for _, status, sid in central))
    unknown = [row for _, row in rows if row.get("status") not in KNOWN_STATUSES]
    if unknown:
        yield facts.flag("status-unknown", member, branch, None, count=len(unknown),
                         sessions=[r["session_id"] for r in unknown[:3]])


def open_fixes(checks: list[dict]) -> list[dict]:
    """The 限期改进 orders not yet closed: a passing re-check on the order's row closes it, and so does any later
    check (a pass closes it; another 限期改进 replaces it with its own deadline), whatever phase it falls in."""
    days = [as_day(row["date"]) for row in checks]
    last = max(days, default=None)
    return [row for row, day in zip(checks, days)
            if row.get("result") == "fix" and row.get("recheck_result") != "pass" and day == last]


def notebook(facts: Facts, member: dict):
    branch = facts.branch_of(member)
    checks = facts.by_member["inspections"].get(member["member_id"], [])
    if not checks:
        return  # not yet inspected is the branch's figure (branch_inspections)
    for row in open_fixes(checks):
        deadline = as_day(row.get("deadline"))
        if deadline and deadline < facts.as_of:
            yield facts.flag("fix-overdue", member, branch, deadline, deadline=deadline, checked=as_day(row["date"]))
    latest = max(checks, key=lambda r: as_day(r["date"]))
    needed = facts.thresholds.thinking_questions
    answered = latest.get("questions")
    if latest.get("result") == "pass" and isinstance(answered, (int, float)) and answered < needed:
        yield facts.flag("questions", member, branch, as_day(latest["date"]), needed=needed,
                         answered=answered, missing=needed - answered)


def opinions_due(facts: Facts) -> date | None:
    phases = facts.campaign.phases
    number = facts.thresholds.opinions_due_phase
    return phases[number - 1].end if number <= len(phases) else None


def opinions(facts: Facts, member: dict):
    branch_id = facts.branch_of(member)
    if facts.branches.get(branch_id, {}).get("kind") not in facts.thresholds.opinions_branch_kinds:
        return
    due = opinions_due(facts)
    if due is None or facts.as_of <= due:
        return  # not due yet
    needed = facts.thresholds.opinions_min_people
    asked = sum(int(r.get("people") or 0) for r in facts.by_member["opinions"].get(member["member_id"], []))
    if asked < needed:
        yield facts.flag("opinions", member, branch_id, due, asked=asked, needed=needed, missing=needed - asked,
                         due=due)


def away_reports(facts: Facts, member: dict):
    """Away on training: a report received (汇报收到: letter, e-mail, phone) at least every `away_report_weeks`."""
    if not away_on(member, facts.as_of):
        return
    weeks = facts.thresholds.away_report_weeks
    reports = facts.by_member["reports"].get(member["member_id"], [])
    last = max((as_day(r["date"]) for r in reports), default=None)
    left_on = (away_period(member) or (None, None))[0] or facts.campaign.start
    since = max(last or left_on, left_on)
    if (facts.as_of - since).days > 7 * weeks:
        yield facts.flag("away-silent", member, facts.branch_of(member), since,
                         last=last, weeks=weeks, away_since=left_on)


def branch_returns(facts: Facts, branch_id: str):
    """One flag per kind of trouble: the weeks not received; the weeks sent back (with why, week by week), from
    the day they were sent back, due or not; the late weeks, while the last week due is late (docs/design.md,
    "Flags and their history")."""
    states = facts.return_states.get(branch_id, ())
    due = [s for s in states if s.due < facts.as_of]
    missing = [s for s in due if s.state == "missing"]
    if missing:
        yield facts.flag("return-missing", None, branch_id, missing[0].due, weeks=[s.week for s in missing],
                         week=missing[-1].week)
    refused = [s for s in states if s.state in ("rejected", "empty")]
    if refused:
        reasons = [reason for s in refused for reason in s.reasons]
        by_week = [{"week": s.week, "empty": s.state == "empty", "reasons": s.reasons} for s in refused]
        yield facts.flag("return-rejected", None, branch_id, refused[0].received or refused[0].due,
                         weeks=[s.week for s in refused], reasons=reasons, by_week=by_week,
                         empty=all(s.state == "empty" for s in refused))
    late = _late_run(due)
    if late:
        last = late[-1]
        yield facts.flag("return-late", None, branch_id, late[0].due, weeks=[s.week for s in late], week=last.week,
                         arrived=last.received, due=late[0].due, first_arrived=late[0].received)


def _late_run(due: list) -> list:
    """The weeks late in a row up to the last week due (none when that one came on time): all of them are
    named, not only the last (weeks 4–12 sent together on one day are nine late returns)."""
    run: list = []
    for state in reversed(due):
        if state.state != "late":
            break
        run.insert(0, state)
    return run


def branch_inspections(facts: Facts, branch_id: str):
    """已查 x / y 人 in the phase: flagged near the phase's end when too few notebooks have been checked."""
    phase = facts.campaign.phase_on(facts.as_of)
    if phase is None or facts.as_of < phase.end - timedelta(days=facts.thresholds.inspection_days_before_end):
        return
    roster = facts.roster(branch_id)
    if not roster:
        return
    checked = sum(1 for m in roster if any(as_day(r["date"]) >= phase.start
                                           for r in facts.by_member["inspections"].get(m["member_id"], [])))
    if checked / len(roster) < facts.thresholds.inspection_share_min:
        yield facts.flag("inspections-behind", None, branch_id, phase.end, checked=checked, members=len(roster),
                         phase=phase.name, end=phase.end)


def branch_plans(facts: Facts, branch_id: str):
    """A plan of the kinds due (学习计划 by default: thresholds.plan_kinds_due) not received by its due day and the
    grace days (docs/domain.md, "College-level records"): the office fills in 收到日期 when it comes, which clears it."""
    grace = timedelta(days=facts.thresholds.plan_grace_days)
    phases = {str(phase.phase_id): phase.name for phase in facts.campaign.phases}
    overdue = []
    for plan in facts.plans.get(branch_id, ()):
        due, received = as_day(plan.get("due")), as_day(plan.get("received"))
        if plan.get("kind") not in facts.thresholds.plan_kinds_due or due is None or due + grace >= facts.as_of:
            continue
        if received is None or received > facts.as_of:  # received after the day the flags are computed for: not yet
            overdue.append((due, plan))
    if overdue:
        due, plan = min(overdue, key=lambda found: found[0])
        yield facts.flag("plan-missing", None, branch_id, due, kind=plan["kind"], due=due, count=len(overdue),
                         phase=phases.get(str(plan.get("phase_id")), str(plan.get("phase_id"))))


MEMBER_RULES = (study_hours, attendance, notebook, opinions, away_reports, *PHASE_MEMBER_RULES)
BRANCH_RULES = (branch_returns, branch_inspections, branch_plans)


def compute_flags(tables: dict[str, list[dict]], as_of: date, schemas: Schemas | None = None,
                  facts: Facts | None = None) -> list[Flag]:
    """The flags as of a date; `facts`, when the caller has indexed the tables already (the dashboard does too)."""
    facts = facts or Facts(tables, as_of, schemas or load_schemas())
    flags: list[Flag] = []
    for branch_id in facts.branches:
        for branch_rule in BRANCH_RULES:
            flags += branch_rule(facts, branch_id)
    for member in facts.members:
        if not active_on(member, as_of):
            continue  # not yet in, or gone (graduated, transferred out, abroad)
        for rule in MEMBER_RULES:
            flags += rule(facts, member)
    for college_rule in COLLEGE_RULES:  # rules over the college's records at once (整改 items of every level)
        flags += college_rule(facts)
    return flags


def flag_rows(flags: list[Flag], lang: str = "zh") -> list[dict[str, Any]]:
    """The Flags sheet's rows, in the master's language."""
    return [flag.row(lang) for flag in flags]
