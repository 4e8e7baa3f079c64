"""The demo college (college.py), its secretaries (fill.py), and `branchbook demo`: the main job on it,
end to end. Demo data lives here, outside the core."""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import yaml

from ..sync.pipeline import Incoming, process
from ..workbook.errors import UserError
from ..workbook.home import CONFIG_NAME, MASTER_NAME, Home
from ..workbook.i18n import N_, Domain
from ..workbook.office import init_home, make_returns
from ..workbook.reports.summaries import flags_text, outcome_line
from .college import DEMO_AS_OF, demo_tables
from .fill import Secretary, fill_return

DEMO_MARKER = ".branchbook-demo"
say = Domain("demo")
DEMO_WEEK = 3
AS_OF = DEMO_AS_OF.isoformat()
ON_TIME = datetime(2005, 3, 28, 17, 30)
LATE = {"B07": datetime(2005, 3, 30, 9, 0)}  # one secretary sends her return after the deadline
# Two branches do not return this week; the others fill in their own ways.
SECRETARIES = {
    "B01": Secretary(summary=N_("The members watched the film “Jingtao Hailang” together and discussed it in party "
                                "groups; each wrote up answers to the thinking questions."),
                     problems=N_("Several doctoral students are away at conferences; their self-study records come in "
                                 "late.")),
    "B02": Secretary(diligence=0.8,
                     summary=N_("Centralised study of the new Party constitution; the reader and a notebook were "
                                "mailed to the member away on long training."),
                     problems=N_("The member away on training can report only by letter, so his records lag a week.")),
    "B03": Secretary(mistakes=("too-many-hours",),
                     summary=N_("48 members studied in five party groups; a forum on the report of the 16th "
                                "Congress."),
                     problems=N_("Group study clashes with coursework; one group's attendance was low.")),
    "B04": Secretary(summary=N_("The members attended the college's lecture and discussed it; the branch checked its "
                                "members' notebooks itself."),
                     problems=N_("Two notebooks still lack answers to some thinking questions: to be improved by a "
                                 "deadline.")),
    "B05": Secretary(mistakes=("bad-status", "date-outside-week"),
                     summary=N_("Centralised study of the reader; members on field work studied on their own."),
                     problems=N_("The attendance of members on field work is hard to record in time.")),
    "B07": Secretary(diligence=0.4,
                     summary=N_("A questionnaire asked fellow students for their opinions of the members; members "
                                "now wear party badges."),
                     problems=N_("Examinations this week: many members studied little on their own.")),
    "B08": Secretary(summary=N_("Every member asked at least three people for their opinions; the service counters "
                                "work with name badges."),
                     problems=N_("Counter duty leaves little time for centralised study.")),
}


def demo_home(root: Path | str, lang: str = "zh") -> Home:
    """A HOME holding the demo college."""
    from ..workbook.reports.dashboard import dashboard_painter

    return init_home(root, lang, demo_tables(lang), painters=(dashboard_painter(DEMO_AS_OF),))


def living_in_2005(home: Home) -> Home:
    """The demo HOME lives on the demo's day (as_of): its flags and dashboard are as of it, and what is
    merged there by hand is received on it (docs/configuration.md)."""
    config = {**home.config, "as_of": AS_OF}
    (home.root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Home.open(home.root)


def init_demo(root: Path | str, lang: str = "zh") -> Home:
    """What `branchbook init --demo` makes: the demo college, living on its day."""
    return living_in_2005(demo_home(root, lang))


def prepare_home(root: Path, lang: str = "zh") -> Home:
    """A fresh demo HOME; an earlier demo's folder (and only that) is replaced."""
    if (root / MASTER_NAME).exists() and not (root / DEMO_MARKER).exists():
        raise UserError("home-exists", home=str(root), master=MASTER_NAME)
    if (root / DEMO_MARKER).exists():
        shutil.rmtree(root)
    home = init_demo(root, lang)
    (root / DEMO_MARKER).write_text("made by branchbook demo; replaced by the next demo run\n", encoding="utf-8")
    return home


def fill_and_drop(home: Home, week: int = DEMO_WEEK) -> list[Path]:
    """Make the week's returns, fill them as the secretaries would, and drop them in inbox/."""
    dropped = []
    for number, (branch_id, path) in enumerate(make_returns(home, week).items()):
        secretary = SECRETARIES.get(branch_id)
        if secretary is None:
            continue
        target = home.folder("inbox") / path.name
        shutil.copyfile(path, target)
        fill_return(target, secretary, seed=week * 100 + number, lang=home.lang)
        arrived = LATE.get(branch_id, ON_TIME).timestamp()
        os.utime(target, (arrived, arrived))  # the drop folder's received time is the file's
        dropped.append(target)
    return dropped


def run_demo(root: Path, tell: Callable[[str], None] = print, lang: str = "zh") -> Home:
    home = prepare_home(root, lang)
    tell(say(lang, "Created the demo ledger: {path}", path=home.master))
    dropped = fill_and_drop(home)
    tell(say(lang, "Made {count} returns for week {week} (outbox/); {filled} branches filled theirs and dropped them in "
                   "inbox/:", count=len(list(home.folder("outbox").glob("*.xlsx"))), week=DEMO_WEEK, filled=len(dropped)))
    for path in dropped:
        tell(f"  {path.name}")
    result = process(home, [Incoming(path) for path in dropped])
    tell("\n" + say(lang, "Merged:"))
    for outcome in result.outcomes:
        tell("  " + outcome_line(outcome, lang=lang))
    tell("\n" + say(lang, "(as of {day})", day=AS_OF))
    for line in flags_text(result.flags, limit=15, lang=lang):
        tell(line)
    tell("\n" + say(lang, "The returns sent back and their reports are in {rejected}; the master is up to date: {master}",
                     rejected=home.folder("rejected"), master=home.master))
    return home
