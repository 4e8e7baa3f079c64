"""The demo college (college.py), its secretaries (fill.py), and `branchbook demo`: the main job on it,
end to end. Demo data lives here, outside the core."""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml

from ..sync.pipeline import Incoming, process
from ..workbook.errors import UserError
from ..workbook.home import CONFIG_NAME, MASTER_NAME, Home
from ..workbook.i18n import N_, Domain
from ..workbook.office import init_home, make_returns, week_returns
from ..workbook.reports.summaries import flags_text, outcome_line
from ..workbook.return_template import return_workbook
from ..workbook.seal import home_seal
from .college import DEMO_AS_OF, PHASES, demo_tables
from .fill import Secretary, fill_return, fill_workbook

DEMO_MARKER = ".branchbook-demo"
say = Domain("demo")
DEMO_WEEK = 3  # the first week merged by `branchbook demo` (weeks 1 and 2 are in the demo college's history)
AS_OF = DEMO_AS_OF.isoformat()  # the day of `branchbook init --demo`'s HOME
# `branchbook demo` runs the whole campaign to a day in its third phase (整改提高): week 13's returns were due on
# 6/7 (two days after the week), and their flags are as of the next day.
REPORT_WEEK = 13
CAMPAIGN_AS_OF = date(2005, 6, 8)
ON_TIME = (1, time(17, 30))  # the day after the week ends, in the afternoon
LATE = {"B07": (3, time(9, 0))}  # in the report week, one secretary sends her return after the deadline
# The report week as the secretaries fill it: two branches do not return it, two are sent back (their mistakes);
# before it, every branch sent each week's return, its secretary as careful as she is (her diligence, and the
# share of her members' analyses made final, of talks held, of 整改 items done in time).
SECRETARIES = {
    "B01": Secretary(summary=N_("The members watched the film “Jingtao Hailang” together and discussed it in party "
                                "groups; each wrote up answers to the thinking questions."),
                     problems=N_("Several doctoral students are away at conferences; their self-study records come in "
                                 "late.")),
    "B02": Secretary(diligence=0.8,
                     summary=N_("Centralised study of the new Party constitution; the reader and a notebook were "
                                "mailed to the member away on long training."),
                     problems=N_("The member away on training can report only by letter, so his records lag a week.")),
    "B03": Secretary(mistakes=("too-many-hours",), talks_done=0.9,
                     summary=N_("48 members studied in five party groups; a forum on the report of the 16th "
                                "Congress."),
                     problems=N_("Group study clashes with coursework; one group's attendance was low.")),
    "B04": Secretary(summary=N_("The members attended the college's lecture and discussed it; the branch checked its "
                                "members' notebooks itself."),
                     problems=N_("Two notebooks still lack answers to some thinking questions: to be improved by a "
                                 "deadline.")),
    "B05": Secretary(mistakes=("bad-status", "date-outside-week"), items_done=0.5,
                     summary=N_("Centralised study of the reader; members on field work studied on their own."),
                     problems=N_("The attendance of members on field work is hard to record in time.")),
    "B07": Secretary(diligence=0.4, analyses_final=0.75, talks_done=0.9, items_done=0.4,
                     summary=N_("A questionnaire asked fellow students for their opinions of the members; members "
                                "now wear party badges."),
                     problems=N_("Examinations this week: many members studied little on their own.")),
    "B08": Secretary(summary=N_("Every member asked at least three people for their opinions; the service counters "
                                "work with name badges."),
                     problems=N_("Counter duty leaves little time for centralised study.")),
}


SILENT = {"B06": Secretary(diligence=0.85), "B09": Secretary(analyses_final=0.9)}  # before the report week
EARLIER_ABSENT_SHARE = 0.02  # before the report week, fewer absences: runs of them would flag a third of the college


def demo_home(root: Path | str, lang: str = "zh") -> Home:
    """A HOME holding the demo college."""
    from ..workbook.reports.dashboard import dashboard_painter

    return init_home(root, lang, demo_tables(lang), painters=(dashboard_painter(DEMO_AS_OF),))


def living_in_2005(home: Home, as_of: str = AS_OF) -> Home:
    """The demo HOME lives on the demo's day (as_of): its flags and dashboard are as of it, and what is
    merged there by hand is received on it (docs/configuration.md)."""
    config = {**home.config, "as_of": as_of}
    (home.root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Home.open(home.root)


def init_demo(root: Path | str, lang: str = "zh") -> Home:
    """What `branchbook init --demo` makes: the demo college, living on its day."""
    return living_in_2005(demo_home(root, lang))


def prepare_home(root: Path, lang: str = "zh", as_of: str = AS_OF) -> Home:
    """A fresh demo HOME; an earlier demo's folder (and only that) is replaced."""
    if (root / MASTER_NAME).exists() and not (root / DEMO_MARKER).exists():
        raise UserError("home-exists", home=str(root), master=MASTER_NAME)
    if (root / DEMO_MARKER).exists():
        shutil.rmtree(root)
    home = living_in_2005(demo_home(root, lang), as_of)
    (root / DEMO_MARKER).write_text("made by branchbook demo; replaced by the next demo run\n", encoding="utf-8")
    return home


def _arrival(week: int, branch_id: str, report_week: int) -> float:
    days, hour = LATE.get(branch_id, ON_TIME) if week == report_week else ON_TIME
    week_end = PHASES[0]["start"] + timedelta(days=7 * week - 1)
    return datetime.combine(week_end + timedelta(days=days), hour).timestamp()


def _secretary(branch_id: str, week: int, report_week: int) -> Secretary | None:
    """Who fills the branch's return of the week: in the report week as SECRETARIES says (None: nothing sent);
    before it, every branch sends, without the report week's mistakes."""
    if week == report_week:
        return SECRETARIES.get(branch_id)
    secretary = SILENT.get(branch_id) or SECRETARIES[branch_id]
    return dataclasses.replace(secretary, mistakes=(), absent_share=EARLIER_ABSENT_SHARE)


def _branches(home: Home) -> list[dict]:
    from ..workbook.books import open_ledger

    with open_ledger(home) as ledger:
        return ledger.tables(("branches",))["branches"]


def _branch_weeks(root: str, branch_id: str, number: int, first: int, report_week: int) -> list[tuple[int, Path]]:
    """One branch's returns of weeks `first` to `report_week`, made, filled and dropped in inbox/, in order: each
    week re-checks the notebooks ordered to improve the week before."""
    home = Home.open(Path(root))
    schemas, seal = home.schemas, home_seal(home.root)  # as make_returns writes the template
    dropped, ordered = [], []
    for week in range(first, report_week + 1):
        secretary = _secretary(branch_id, week, report_week)
        again = tuple(ordered)
        if week == report_week:  # the week's template, in outbox/, as the office sends it; the secretary's copy
            made = make_returns(home, week, [branch_id])[branch_id]
            if secretary is None:
                continue
            target = home.folder("inbox") / made.name
            shutil.copyfile(made, target)
            ordered = fill_return(target, secretary, seed=week * 100 + number, lang=home.lang, rechecks=again)
        else:  # the weeks before: the same template filled before it is first saved (half the time of a file)
            [(spec, made)] = week_returns(home, week, [branch_id])
            wb = return_workbook(spec, home.lang, schemas, seal)
            ordered = fill_workbook(wb, secretary, seed=week * 100 + number, lang=home.lang, rechecks=again)
            target = home.folder("inbox") / made.name
            wb.save(target)
        arrived = _arrival(week, branch_id, report_week)
        os.utime(target, (arrived, arrived))  # the drop folder's received time is the file's
        dropped.append((week, target))
    return dropped


def _campaign(home: Home, report_week: int) -> list[tuple[int, Path]]:
    """Every branch's returns of the campaign's weeks, the branches side by side in processes of their own: a
    return is made and filled in about a second (openpyxl), and a branch's weeks follow one another."""
    branches = [b["branch_id"] for b in _branches(home)]
    workers = max(1, min(len(branches), os.cpu_count() or 1))
    methods = multiprocessing.get_all_start_methods()
    # A one-thread command forks at once; elsewhere (a test's threads, Windows) the children are spawned.
    context = multiprocessing.get_context("fork" if threading.active_count() == 1 and "fork" in methods else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        batches = pool.map(_branch_weeks, [str(home.root)] * len(branches), branches, range(len(branches)),
                           [DEMO_WEEK] * len(branches), [report_week] * len(branches))
        return sorted((dropped for batch in batches for dropped in batch), key=lambda dropped: dropped[0])  # stable


def run_demo(root: Path, tell: Callable[[str], None] = print, lang: str = "zh") -> Home:
    """The whole campaign to a day of its third phase: the returns of weeks 3 to REPORT_WEEK filled and merged in
    one batch, as if the office had merged each week's as it came; the report week's are listed one by one."""
    home = prepare_home(root, lang, CAMPAIGN_AS_OF.isoformat())
    tell(say(lang, "Created the demo ledger: {path}", path=home.master))
    every = _campaign(home, REPORT_WEEK)
    dropped = [path for week, path in every if week == REPORT_WEEK]
    earlier = [path for week, path in every if week != REPORT_WEEK]
    tell(say(lang, "The branches filled and sent {count} returns for weeks {first} to {last}, every branch every "
                   "week (the campaign's three phases: study, analysis and appraisal, rectification).",
             count=len(earlier), first=DEMO_WEEK, last=REPORT_WEEK - 1))
    tell(say(lang, "Made {count} returns for week {week} (outbox/); {filled} branches filled theirs and dropped them in "
                   "inbox/:", count=len(list(home.folder("outbox").glob(f"*{REPORT_WEEK}*.xlsx"))), week=REPORT_WEEK,
             filled=len(dropped)))
    for path in dropped:
        tell(f"  {path.name}")
    result = process(home, [Incoming(path) for path in (*earlier, *dropped)])
    merged = sum(1 for outcome in result.outcomes if outcome.week != REPORT_WEEK and outcome.merged)
    tell("\n" + say(lang, "Merged:"))
    tell("  " + say(lang, "weeks {first} to {last}: {merged} of {count} returns merged", first=DEMO_WEEK,
                    last=REPORT_WEEK - 1, merged=merged, count=len(earlier)))
    for outcome in result.outcomes:
        if outcome.week == REPORT_WEEK:
            tell("  " + outcome_line(outcome, lang=lang))
    tell("\n" + say(lang, "(as of {day})", day=CAMPAIGN_AS_OF.isoformat()))
    for line in flags_text(result.flags, limit=15, lang=lang):
        tell(line)
    tell("\n" + say(lang, "The returns sent back and their reports are in {rejected}; the master is up to date: {master}",
                     rejected=home.folder("rejected"), master=home.master))
    return home
