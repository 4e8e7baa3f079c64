"""The weekly bulletin (简报) for the expanded committee meeting (docs/design.md, "The bulletin").

An issue (第N期) with its date and editor; the week's headline figures, each worded in full ("studied
17.0 hours on average, 19.6 due by then, 2.6 short"); a table of the branches that fits an A4 page; the
week's charts; each branch's own 本周概况 and 存在问题, quoted; what changed since the last issue, by
level. No member is named: the lists of members go to the secretaries and the liaisons (reminders.py).
The words and figures are made here; bulletin_docx.py and bulletin_html.py lay them out.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from ..calendar import Campaign
from ..errors import UserError
from ..flag_history import raised_with_history
from ..flags import Flag, day_words, rule_title, study_targets
from ..i18n import N_, Domain
from ..return_states import ReturnState
from ..schema import Schemas, load_schemas
from .charts import hours_chart, trend_chart
from .figures import hours_words, long_date
from .flag_view import (
    LEVELS,
    STATES,
    Changes,
    changes,
    level_of,
    level_words,
    received,
    sent_back,
    snapshot,
    state_words,
)
from .issues import Issue
from .progress import LAGGING, BranchProgress, Progress, compute_progress, hours_cells

say = Domain("reports")
TABLE_HEADER = [N_("Branch"), N_("Liaison"), N_("Members"), N_("This week's return"), N_("Average hours studied"),
                N_("Hours due"), N_("On schedule"), N_("Attendance"), N_("Notebooks checked / passed"), N_("Flags")]
LEVEL_HEADER, OPEN_HEADER = N_("Level"), N_("Open now")  # the changes table: a level, its states, open now
HEADINGS = {"headline": N_("1. Headline figures"), "table": N_("2. Progress by branch"),
            "charts": N_("3. Charts of the week"), "notes": N_("4. In the branches' own words"),
            "changes": N_("5. Since the last issue"), "changes-first": N_("5. Compared with the week before")}
FIGURES = ("received", "hours", "due", "flags")  # what an issue remembers of its headline, for the next one
# Members on schedule, and (True) the members with no study record yet when there are any.
ON_SCHEDULE = {False: N_("On schedule: {on_target} of the {measured} members with study records ({share:.0%})."),
               True: N_("On schedule: {on_target} of the {measured} members with study records ({share:.0%}); "
                        "{unmeasured} members have no record yet.")}
# The college's hours: over the branches whose returns are in to the week's end; (True) when some are not.
STUDY = {False: N_("Study hours, from the records up to {cutoff}: the {members} members of the {branches} branches, "
                   "{hours}. The campaign's target is {target:g} hours."),
         True: N_("Study hours, from the records up to {cutoff}: the {members} members of the {branches} branches whose "
                  "returns are in, {hours}; the other {others} branches are measured to their last return (table, "
                  "marked *). The campaign's target is {target:g} hours.")}
# Whom they concern, by (members, branches, the college committee's own items) flagged.
OPEN_FLAGS = {(True, True, False): N_("Open flags: {total} ({levels}), concerning {members} members and {branches} "
                                      "branches."),
              (True, False, False): N_("Open flags: {total} ({levels}), concerning {members} members."),
              (False, True, False): N_("Open flags: {total} ({levels}), concerning {branches} branches."),
              (True, True, True): N_("Open flags: {total} ({levels}), concerning {members} members, {branches} "
                                     "branches and the college Party committee."),
              (True, False, True): N_("Open flags: {total} ({levels}), concerning {members} members and the college "
                                      "Party committee."),
              (False, True, True): N_("Open flags: {total} ({levels}), concerning {branches} branches and the college "
                                      "Party committee."),
              (False, False, True): N_("Open flags: {total} ({levels}), concerning the college Party committee.")}
TABLE_NOTE = {False: N_("Hours count the records up to {cutoff}; “hours due” is what the target asks by that day; "
                        "“on schedule” is the share of the members with study records who have studied the hours "
                        "due; flags are those open on {date}."),
              True: N_("Hours count the records up to {cutoff}; {mark} a branch whose return is not in, measured to "
                       "the end of the last week it returned; “hours due” is what the target asks by the day "
                       "measured to; “on schedule” is the share of the members with study records who have "
                       "studied the hours due; flags are those open on {date}.")}


@dataclass
class BranchNote:
    """A branch's own words for the week, as its return gave them."""

    heading: str
    summary: str
    problems: str | None  # None: the return is not in (summary then says why)


@dataclass
class Bulletin:
    number: int
    week: int
    title: str
    issue_line: str  # 第N期
    editor_line: str
    date_line: str
    headline: list[str]
    table: list[list[str]]
    table_note: str
    notes: list[BranchNote]
    changes_intro: str
    changes: list[str]
    changes_table: list[list[str]]  # one row per level: new, continuing, cleared, open now
    charts: dict[str, bytes] = field(default_factory=dict)
    lang: str = "zh"
    issue: Issue | None = None  # what the ledger keeps of this issue
    first: bool = True  # no issue before it: changes are against the week before

    def headings(self) -> dict[str, str]:
        keys = {key: message for key, message in HEADINGS.items() if key != "changes-first"}
        if self.first:
            keys["changes"] = HEADINGS["changes-first"]
        return {key: say(self.lang, message) for key, message in keys.items()}

    def header(self, which: str = "table") -> list[str]:
        if which == "table":
            return [say(self.lang, text) for text in TABLE_HEADER]
        return [say(self.lang, LEVEL_HEADER), *(state_words(self.lang, s) for s in STATES), say(self.lang, OPEN_HEADER)]

    def text(self) -> str:
        """Every word of the bulletin but the charts', in reading order (for tests and search)."""
        parts = [self.title, self.issue_line, self.editor_line, self.date_line, *self.headline,
                 *(" ".join(row) for row in self.table), self.table_note]
        for note in self.notes:
            parts += [note.heading, note.summary, note.problems or ""]
        parts += [self.changes_intro, *self.changes, *(" ".join(row) for row in self.changes_table)]
        return "\n".join(part for part in parts if part)


def _counted(lang: str, counts: Counter, words) -> str:
    return say(lang, ", ").join(say(lang, "{what} {count}", what=words(code), count=count)
                                for code, count in counts.most_common())


def college_figures(progress: Progress) -> dict[str, float]:
    complete = progress.complete()
    members = sum(b.members for b in complete)
    return {
        "members": members,
        "hours": sum(b.average_hours * b.members for b in complete) / members if members else 0.0,
        "due": max((b.expected_hours for b in complete), default=0.0),
        "flags": len(progress.flags),
    }


def _headline(lang: str, progress: Progress, states: dict[str, ReturnState], target: float) -> list[str]:
    figures = college_figures(progress)
    rated = [b.attendance_rate for b in progress.branches if b.attendance_rate is not None]
    with_records = sum(b.measured for b in progress.complete())
    on_target = sum(b.on_target for b in progress.complete())
    levels = Counter(level_of(f) for f in progress.flags)
    flagged_members = len({f.subject_id for f in progress.flags if f.subject_kind == "member"})
    flagged_branches = len({f.subject_id for f in progress.flags if f.subject_kind == "branch"})
    committee = any(f.subject_kind == "committee" for f in progress.flags)
    lines = [
        _returns_line(lang, progress, states),
        say(lang, STUDY[bool(progress.lagging())], cutoff=day_words(lang, progress.week_end),
            members=int(figures["members"]), branches=len(progress.complete()), others=progress.lagging(),
            hours=hours_words(lang, figures["hours"], figures["due"]), target=target),
        say(lang, ON_SCHEDULE[bool(int(figures["members"]) - with_records)], on_target=on_target,
            measured=with_records, share=on_target / with_records if with_records else 0,
            unmeasured=int(figures["members"]) - with_records),
    ]
    if rated:
        lowest, highest = f"{min(rated):.0%}", f"{max(rated):.0%}"
        lines.append(say(lang, "Attendance at centralised sessions (leave not counted): {rate} in every branch.",
                         rate=lowest) if lowest == highest else
                     say(lang, "Attendance at centralised sessions (leave not counted): {lowest} to {highest} by "
                               "branch.", lowest=lowest, highest=highest))
    overdue = sum(b.overdue for b in progress.branches)
    notebooks = dict(inspected=sum(b.inspected for b in progress.branches),
                     passed=sum(b.passed for b in progress.branches), overdue=overdue)
    lines.append(say(lang, "Reading notebooks: {inspected} members checked, {passed} passed; notebook fixes overdue: "
                           "{overdue}.", **notebooks) if overdue else
                 say(lang, "Reading notebooks: {inspected} members checked, {passed} passed.", **notebooks))
    if progress.flags:
        # Who the flags concern, with a zero left out: members and branches, or only one of them.
        concerning = OPEN_FLAGS[(bool(flagged_members), bool(flagged_branches), committee)]
        lines.append(say(lang, concerning, total=len(progress.flags), members=flagged_members,
                         branches=flagged_branches,
                         levels=_counted(lang, Counter({lv: levels[lv] for lv in LEVELS if levels[lv]}),
                                         lambda lv: level_words(lang, lv))))
    else:
        lines.append(say(lang, "No open flags."))
    return lines


NO_STEP, NO_GRADE = N_("none recorded"), N_("no grade (probationary)")  # a member's step or 等次 when there is none


def _phase_lines(lang: str, tables: dict, progress: Progress, schemas: Schemas) -> list[str]:
    """Phases 2 and 3, from the analysis phase's start on (phase_progress.py): self-analyses, talks, appraisals,
    整改 items and satisfaction surveys, counted over the college; no member named. A line with nothing to count
    is left out."""
    figures = progress.phases
    if figures is None:
        return []
    codes, members = schemas.codes, figures.members

    def counted(counts: Counter, kind: str, none: str) -> str:
        ordered = [code.code for code in codes[kind].codes] + [None]
        return say(lang, ", ").join(
            say(lang, "{what} {count}", what=codes[kind].label(code, lang) if code else say(lang, none),
                count=counts[code]) for code in ordered if counts[code])

    lines = []
    if members:
        steps = counted(figures.steps, "analysis_stage", NO_STEP)
        if figures.analyses_final == members:
            lines.append(say(lang, "Self-analyses: final for all {members} members.", members=members))
        else:
            lines.append(say(lang, "Self-analyses: final for {final} of {members} members; the others at the step "
                                   "{steps}.", final=figures.analyses_final, members=members, steps=steps))
        lines.append(say(lang, "Heart-to-heart talks with the branch committee: {talked} of {members} members talked "
                               "with (at least {needed} each).", talked=figures.talked, members=members,
                         needed=schemas.rules.thresholds.talks_min))
        grades = counted(figures.grades, "appraisal_grade", NO_GRADE)
        if figures.appraised:
            lines.append(say(lang, "Democratic appraisal: {appraised} of {members} members appraised ({grades}).",
                             appraised=figures.appraised, members=members, grades=grades))
        else:
            lines.append(say(lang, "Democratic appraisal: none recorded yet ({members} members).", members=members))
    if figures.items:
        line = say(lang, "Rectification items: {items}, {done} done", items=figures.items, done=figures.items_done)
        if figures.items_overdue:
            line += say(lang, "; {overdue} overdue", overdue=figures.items_overdue)
            if figures.items_failed:
                line += say(lang, " ({failed} of them failed the re-check)", failed=figures.items_failed)
        lines.append(line + say(lang, "."))
    surveys = [row for row in tables.get("publicity", []) if row.get("kind") == "satisfaction"
               and isinstance(row.get("date"), date) and row["date"] <= progress.as_of and row.get("respondents")]
    if surveys:
        asked = sum(int(row["respondents"]) for row in surveys)
        lines.append(say(lang, "Satisfaction surveys: {surveys}, {asked} people asked; satisfied {satisfied:.0%}, "
                               "fairly satisfied {fairly:.0%}, dissatisfied {dissatisfied:.0%}.", surveys=len(surveys),
                         asked=asked, **{key: sum(int(row.get(key) or 0) for row in surveys) / asked
                                         for key in ("satisfied", "fairly", "dissatisfied")}))
    return lines


def _college_work(lang: str, tables: dict, progress: Progress) -> list[str]:
    """The office's own records of the week (docs/domain.md, "College-level records"): the last expanded committee
    meeting up to the report week's end, with the branches that reported and its plan for the week after, and the
    supervision visits of the week. Branches are named, people not; a line with nothing to say is left out."""
    names = {b.branch_id: b.name for b in progress.branches}
    lines = []
    meetings = [m for m in tables.get("meetings", []) if isinstance(m.get("date"), date) and m["date"] <= progress.week_end]
    if meetings:
        meeting = max(meetings, key=lambda m: m["date"])
        reported = [names.get(r.get("branch_id"), str(r.get("branch_id"))) for r in tables.get("meeting_reports", [])
                    if r.get("meeting_date") == meeting["date"]]
        plan = _NOT_XML.sub("", str(meeting.get("next_week") or "")).strip()
        lines.append(say(lang, MEETING[(bool(reported), bool(plan))], date=day_words(lang, meeting["date"]),
                         count=len(reported), branches=say(lang, ", ").join(reported), plan=plan))
    visits = [v for v in tables.get("supervision", []) if isinstance(v.get("date"), date)
              and progress.week_start <= v["date"] <= progress.week_end]
    if visits:
        checked = sorted({names.get(v.get("branch_id"), str(v.get("branch_id"))) for v in visits})
        found = sum(bool(str(v.get("findings") or "").strip()) for v in visits)
        lines.append(say(lang, "Supervision visits this week: {count} ({branches}); problems found in {found}.",
                         count=len(visits), branches=say(lang, ", ").join(checked), found=found))
    return lines


# The last expanded committee meeting, by (branches reported, a plan for the week after given).
MEETING = {(True, True): N_("Expanded committee meeting of {date}: branches reporting: {count} ({branches}); next "
                            "week's plan: “{plan}”"),
           (True, False): N_("Expanded committee meeting of {date}: branches reporting: {count} ({branches})."),
           (False, True): N_("Expanded committee meeting of {date}; next week's plan: “{plan}”"),
           (False, False): N_("Expanded committee meeting of {date}.")}


def _returns_line(lang: str, progress: Progress, states: dict[str, ReturnState]) -> str:
    """The week's returns in one sentence; a clause whose count is zero is left out."""
    counts = Counter(state.state for state in states.values())
    got, branches = sum(received(state) for state in states.values()), len(progress.branches)
    when = dict(week=progress.week, start=day_words(lang, progress.week_start), end=day_words(lang, progress.week_end))
    sentence = (say(lang, "Week {week} ({start}–{end}): all {branches} branches sent their return", branches=branches,
                    **when) if got == branches and branches else
                say(lang, "Week {week} ({start}–{end}): {received} of {branches} branches sent their return",
                    received=got, branches=branches, **when))
    if counts["late"]:
        sentence += say(lang, " ({late} of them late)", late=counts["late"])
    clauses = [sentence]
    rejected = sum(sent_back(state) for state in states.values())
    if rejected:
        clauses.append(say(lang, "{rejected} sent back for correction", rejected=rejected))
    if counts["missing"]:
        clauses.append(say(lang, "{missing} not received", missing=counts["missing"]))
    return say(lang, "; ").join(clauses) + say(lang, ".")


def _row(lang: str, progress: Progress, branch: BranchProgress) -> list[str]:
    rate = "—" if branch.attendance_rate is None else f"{branch.attendance_rate:.0%}"
    return [branch.name, branch.liaison or "—", str(branch.members), branch.return_state.word(lang),
            *hours_cells(progress, branch),
            rate, f"{branch.inspected}/{branch.passed}", str(branch.flags)]


def _notes(lang: str, tables: dict, progress: Progress, states: dict[str, ReturnState]) -> list[BranchNote]:
    merged = {r.get("branch_id"): r for r in tables.get("returns", [])
              if r.get("week") == progress.week and r.get("result") == "merged"}
    notes = []
    for branch in progress.branches:
        state = states[branch.branch_id]
        heading = say(lang, "{branch} (week {week}'s return: {state})", branch=branch.name, week=progress.week,
                      state=state.word(lang))
        merged_return = merged.get(branch.branch_id)
        if merged_return is None:
            why = (N_("The return was sent back for correction; its words will be quoted once it is merged.")
                   if sent_back(state) else N_("No return this week: nothing to quote."))
            notes.append(BranchNote(heading, say(lang, why), None))
            continue
        notes.append(BranchNote(heading, _quoted(lang, QUOTED["summary"], merged_return.get("summary")),
                                _quoted(lang, QUOTED["problems"], merged_return.get("problems"))))
    return notes


# The return's two fields, quoted as written; a field left blank is said to be so.
QUOTED = {"summary": (N_("Summary of the week: “{text}”"), N_("Summary of the week: not filled in.")),
          "problems": (N_("Problems: “{text}”"), N_("Problems: not filled in."))}


# What XML (and so a .docx) cannot hold: a return's text may carry it (Excel's _x000B_, docs/hazards.md 26).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _quoted(lang: str, messages: tuple[str, str], text: str | None) -> str:
    quoted, blank = messages
    text = _NOT_XML.sub("", str(text or "")).strip()
    return say(lang, quoted, text=text) if text else say(lang, blank)


def _changes(lang: str, progress: Progress, cleared: list[Flag], figures: dict[str, float],
             before: Issue | None) -> tuple[str, list[str], list[list[str]]]:
    counted: Changes = changes(progress.flags, cleared)
    lines = []
    if before is None:
        intro = say(lang, "This is the first issue: its flags are compared with those of the week before ({date}).",
                    date=day_words(lang, progress.as_of - timedelta(days=7)))
    else:
        intro = say(lang, "Compared with issue {number} (week {week}, {date}):", number=before.number,
                    week=before.week, date=day_words(lang, before.as_of))
        then = before.figures
        if "received" in then:
            lines.append(say(lang, "Returns received: {now} branches in this issue, {then} in the last.",
                             now=int(figures["received"]), then=int(then["received"])))
        if "hours" in then:
            change = figures["hours"] - then["hours"]
            message = (N_("Hours studied on average: {now:.1f} in this issue, {then:.1f} in the last, {change:.1f} more.")
                       if change >= 0 else
                       N_("Hours studied on average: {now:.1f} in this issue, {then:.1f} in the last, {change:.1f} "
                          "fewer (members who joined later count from their start)."))
            lines.append(say(lang, message, now=figures["hours"], then=then["hours"], change=abs(change)))
    for state in STATES:
        counts = counted.by_rule[state]
        if counts:
            lines.append(say(lang, "{state}: {count} ({rules}).", state=state_words(lang, state),
                             count=sum(counts.values()), rules=_counted(lang, counts, lambda r: rule_title(lang, r))))
    if not any(counted.by_rule.values()):
        lines.append(say(lang, "No flag then or now."))
    table = [[level_words(lang, level), *(str(counted.by_level[level][state]) for state in STATES),
              str(counted.open_now[level])] for level in LEVELS]
    return intro, lines, table


def build_bulletin(tables: dict[str, list[dict]], as_of: date, college: str | None = None, lang: str = "zh", *,
                   number: int = 1, editor: str | None = None, before: Issue | None = None,
                   history: tuple[list[Flag], list[Flag]] | None = None, schemas: Schemas | None = None) -> Bulletin:
    """Issue `number` of the bulletin as of a day, in `lang`; `before`, the issue it follows (None: the first).

    `college` and `editor` as the settings name them (None: "the college", "the Party committee office");
    `history`, the open flags with their levels and states and the week before's cleared ones
    (flag_history.raised_with_history; None: as the rules raise them, against the week before recomputed)."""
    schemas = schemas or load_schemas()
    if history is None:
        history = raised_with_history(None, tables, as_of, schemas)
    flags, cleared = history
    progress = compute_progress(tables, as_of, schemas, flags=flags)
    states = {b.branch_id: b.return_state for b in progress.branches}
    target = sum(hours for _, hours in study_targets(Campaign.from_records(tables.get("phases", [])), schemas.rules))
    figures = college_figures(progress)
    figures["received"] = sum(received(state) for state in states.values())
    intro, change_lines, change_table = _changes(lang, progress, cleared, figures, before)
    college = college or say(lang, "The college")
    return Bulletin(
        number=number, week=progress.week,
        title=say(lang, "{college}: bulletin of the {campaign}", college=college, campaign=schemas.campaign.title(lang)),
        issue_line=say(lang, "Issue {number}", number=number),
        editor_line=say(lang, "Edited by {editor}", editor=editor or say(lang, "the Party committee office")),
        date_line=long_date(lang, as_of),
        headline=[*_headline(lang, progress, states, target), *_phase_lines(lang, tables, progress, schemas),
                  *_college_work(lang, tables, progress)],
        table=[_row(lang, progress, b) for b in progress.branches],
        table_note=say(lang, TABLE_NOTE[bool(progress.lagging())], cutoff=day_words(lang, progress.week_end),
                       date=day_words(lang, as_of), mark=LAGGING),
        notes=_notes(lang, tables, progress, states),
        changes_intro=intro, changes=change_lines, changes_table=change_table,
        charts={"hours": hours_chart(replace(progress, branches=progress.measured()), lang),
                "trend": trend_chart(progress, lang)},
        lang=lang, first=before is None,
        issue=Issue(number, progress.week, as_of, {k: round(figures[k], 2) for k in FIGURES},
                    snapshot(progress.flags)),
    )


class NeedsLibreOffice(UserError):
    def __init__(self):
        super().__init__("needs-libreoffice")


def to_pdf(document: Path, target: Path) -> Path:
    """Convert with headless LibreOffice (a private profile, so a running instance does not interfere)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise NeedsLibreOffice()
    with tempfile.TemporaryDirectory() as profile:
        outdir = Path(profile) / "out"
        subprocess.run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(outdir), str(document)],
                       check=True, capture_output=True, timeout=300)
        shutil.move(str(outdir / (document.stem + ".pdf")), target)
    return target


def write_bulletin(bulletin: Bulletin, path: Path, fmt: str) -> Path:
    from .bulletin_docx import write_docx
    from .bulletin_html import write_html

    if fmt == "docx":
        return write_docx(bulletin, path)
    if fmt == "html":
        return write_html(bulletin, path)
    if fmt == "pdf":
        with tempfile.TemporaryDirectory() as scratch:
            source = write_docx(bulletin, Path(scratch) / (path.stem + ".docx"))
            return to_pdf(source, path)
    raise ValueError(fmt)
