"""The university's roll-up: each college's master read and checked, and its figures computed the way the college's
own dashboard computes them (reports/progress.py), from its records and the flags of its Flags sheet (those its
dashboard counted, with the levels its office gave them). A master that cannot be rolled up is reported, and the others still are (docs/design.md, "Roll-up").

The core returns codes and values; reports/university.py writes the workbook, the CLI words the problems."""
from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from .books import STATE_FOLDER
from .calendar import Campaign
from .errors import UserError
from .fastread import open_sheets, saved_time
from .flags import FORMER_RULE_TITLES, LEVEL_WORDS, RULE_TITLES, STATE_WORDS, Flag, rule_title
from .home import Home
from .i18n import N_, Domain
from .intake import file_sha256
from .isolation import IsolatedReader, ReaderFailed, limits_of
from .reports.dashboard import dashboard_as_of
from .reports.progress import Progress, compute_progress
from .return_reader import is_return
from .safe_open import UnreadableFile
from .schema import LANGS, Schemas, load_schemas
from .seal import CLOSED_NAME
from .settings import CONFIG_NAME, Settings
from .sheetio import read_sheet_records

say = Domain("reports")

# What can be wrong with a college's master: a code and the message that says it, naming what is wrong.
PROBLEMS = {
    "missing": N_("no such file or folder."),
    "no-master": N_("the folder holds no master ({master})."),
    "reader-memory": N_("reading it needed more memory than allowed: the file is damaged or far too large."),
    "reader-timeout": N_("reading it took too long: the file is damaged or far too large."),
    "reader-crash": N_("the reader stopped on it: the file is damaged."),
    "reader-error": N_("the reader stopped on it: the file is damaged."),
    "a-return": N_("this is a branch return, not a college master (台账)."),
    "missing-sheet": N_("the sheet {sheet} is missing: this is not a BranchBook master, or a sheet was deleted."),
    "missing-column": N_("the sheet {sheet} has no column {column}."),
    "no-campaign": N_("the sheet {sheet} has no phase dates, so its weeks cannot be counted."),
}
# Where a college's 数据截至 (the day its figures are as of) came from.
AS_OF_SOURCES = {"option": N_("as given (--as-of)"), "dashboard": N_("its dashboard"),
                 "home": N_("its HOME's settings"), "saved": N_("the day it was saved")}


@dataclass
class Problem:
    """Why one source was not rolled up."""

    source: Path
    code: str
    values: dict = field(default_factory=dict)
    unreadable: UnreadableFile | None = None  # why the file cannot be read, worded by safe_open

    def message(self, lang: str = "zh") -> str:
        if self.unreadable is not None:
            return self.unreadable.message(lang)
        return say(lang, PROBLEMS[self.code], **self.values)

    def line(self, lang: str = "zh") -> str:
        return say(lang, "{file}: {problem} Not rolled up; the other colleges are.", file=str(self.source),
                   problem=self.message(lang))


@dataclass
class College:
    """One college's figures and where they come from."""

    name: str
    master: Path
    sha256: str
    modified: datetime  # the file's last-modified time (local)
    saved: datetime | None  # when the program that wrote it says it saved it (UTC)
    as_of: date
    as_of_source: str  # a key of AS_OF_SOURCES
    progress: Progress
    levels: Counter  # open flags by level code (flags.LEVELS), as the master's Flags sheet gives them
    branch_levels: dict[str, Counter]  # the same, by branch ID

    def returns_expected(self) -> int:
        return len(self.progress.branches)


@dataclass
class RollUp:
    colleges: list[College]
    problems: list[Problem]


def rollup(sources: Iterable[Path | str], as_of: date | None = None, schemas: Schemas | None = None,
           workers: int | None = None) -> RollUp:
    """Every source read and figured; a source that fails is a Problem, never an exception.

    A college's master is a file from elsewhere: each is read in a child process with the reader's limits
    (workbook/isolation.py, docs/hazards.md 25), one child per core, each reading its share of the sources."""
    sources = [Path(source) for source in sources]
    workers = max(1, min(workers or os.cpu_count() or 1, len(sources)))
    intake = Settings().intake  # no HOME: a reading's default limits
    limits = limits_of(intake.reader_memory_mb, intake.reader_seconds)
    read: list[College | Problem | ReaderFailed | None] = [None] * len(sources)

    def read_share(first: int) -> None:
        numbers = list(range(first, len(sources), workers))
        with IsolatedReader(limits) as reader:
            results = reader.run_batch(read_college, {"as_of": as_of, "schemas": schemas},
                                       [((sources[number],), {}) for number in numbers])
        for number, outcome in zip(numbers, results):
            read[number] = outcome

    threads = [threading.Thread(target=read_share, args=(first,), name=f"rollup reader {first}")
               for first in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = RollUp([], [])
    for source, outcome in zip(sources, read):
        if isinstance(outcome, ReaderFailed) or outcome is None:
            kind = outcome.kind if isinstance(outcome, ReaderFailed) else "crash"
            outcome = Problem(source, f"reader-{kind}")
        (result.problems if isinstance(outcome, Problem) else result.colleges).append(outcome)
    return result


def _locate(source: Path) -> tuple[Path, str, Home | None] | Problem:
    """(the master, the college's name, its HOME if a HOME was given)."""
    if source.is_dir():
        if not (source / CONFIG_NAME).is_file():
            return Problem(source, "no-master", {"master": CONFIG_NAME})
        home = Home.open(source)
        if not home.master.is_file():
            return Problem(source, "no-master", {"master": home.master.name})
        default = Settings().college
        folder = source.parent.parent if (source / STATE_FOLDER / CLOSED_NAME).is_file() else source  # an earlier
        # campaign, kept in HOME/campaigns/<name>/, is named by its college's HOME
        return home.master, (home.settings.college if home.settings.college != default else folder.name), home
    if not source.is_file():
        return Problem(source, "missing")
    # A master saved as master.xlsx is named by its folder (the college's HOME); any other by its own name.
    name = source.parent.name if source.stem.casefold() == "master" and source.parent.name else source.stem
    return source, name, None


def read_college(source: Path, as_of: date | None = None, schemas: Schemas | None = None) -> College | Problem:
    located = _locate(source)
    if isinstance(located, Problem):
        return located
    path, name, home = located
    schemas = schemas or (home.schemas if home else load_schemas())
    try:
        sheets = open_sheets(path, limit_mb=schemas.rules["limits"]["max_master_mb"])
        if is_return(sheets, schemas):
            return Problem(source, "a-return")
        tables = {}
        for sheet in schemas.master:
            read = read_sheet_records(sheets, sheet)
            if read.title is None:
                if sheet.added_later:  # a college's master written before the sheet existed: nothing of it to add
                    tables[sheet.key] = []
                    continue
                return Problem(source, "missing-sheet", {"sheet": sheet.name("zh")})
            missing = [f for f in read.missing if f.required]
            if missing:
                return Problem(source, "missing-column", {"sheet": read.title, "column": missing[0].label("zh")})
            tables[sheet.key] = read.records
        found = dashboard_as_of(sheets)
    except UnreadableFile as error:
        error.path = source
        return Problem(source, "unreadable", unreadable=error)
    try:
        Campaign.from_records(tables["phases"])
    except UserError:  # no phase with dates
        return Problem(source, "no-campaign", {"sheet": schemas.sheet("phases").name("zh")})
    day, origin = _as_of(as_of, found, home, path)
    flags = sheet_flags(tables)
    return College(name=name, master=path, sha256=file_sha256(path),
                   modified=datetime.fromtimestamp(os.stat(path).st_mtime).replace(microsecond=0),
                   saved=saved_time(path), as_of=day, as_of_source=origin,
                   progress=compute_progress(tables, day, schemas, flags=flags), **_levels(flags))


def _as_of(given: date | None, dashboard: date | None, home: Home | None, path: Path) -> tuple[date, str]:
    if given is not None:
        return given, "option"
    if dashboard is not None:
        return dashboard, "dashboard"
    if home is not None and home.settings.as_of:
        return home.settings.as_of, "home"
    saved = saved_time(path)
    return (saved.date() if saved else datetime.fromtimestamp(os.stat(path).st_mtime).date()), "saved"


# A rule, level or state as the Flags sheet words it (the flags' words), in either language, back to its code.
_say_flags = Domain("flags")
_RULE_CODES = {**FORMER_RULE_TITLES, **{rule_title(lang, code): code for code in RULE_TITLES for lang in LANGS}}
_LEVEL_CODES = {_say_flags(lang, word): code for code, word in LEVEL_WORDS.items() for lang in LANGS}
_CLEARED = {_say_flags(lang, STATE_WORDS["cleared"]) for lang in LANGS}


def sheet_flags(tables: dict) -> list[Flag]:
    """The open flags of the master's Flags sheet: the flags its office saw, with the levels its flag history gave
    them (which only its ledger keeps), and the ones its dashboard counted. A flag names its branch by name."""
    by_name = {b.get("name"): b.get("branch_id") for b in tables.get("branches", [])}
    flags = []
    for row in tables.get("flags", []):
        if row.get("state") in _CLEARED:
            continue
        branch_id = row.get("subject_id") if row.get("subject_kind") == "branch" else by_name.get(row.get("branch"))
        flags.append(Flag(subject_kind=row.get("subject_kind"), subject_id=row.get("subject_id"),
                          name=row.get("name") or "", branch=row.get("branch") or "",
                          rule=_RULE_CODES.get(row.get("rule"), str(row.get("rule"))), values={},
                          since=row.get("since"), liaison=row.get("liaison") or "",
                          secretary=row.get("secretary") or "", branch_id=branch_id or "",
                          level=_LEVEL_CODES.get(row.get("level"), "notice")))
    return flags


def _levels(flags: list[Flag]) -> dict:
    """The flags by level, for the college and by branch."""
    levels: Counter = Counter(flag.level for flag in flags)
    branch_levels: dict[str, Counter] = {}
    for flag in flags:
        if flag.branch_id:
            branch_levels.setdefault(flag.branch_id, Counter())[flag.level] += 1
    return {"levels": levels, "branch_levels": branch_levels}
