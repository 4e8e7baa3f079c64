"""Masters at college and university scale for the benchmarks (deterministic)."""
from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import yaml

from branchbook.demo.college import COMMITTEE, PHASES, demo_tables
from branchbook.workbook.home import CONFIG_NAME, Home, create_home
from branchbook.workbook.master import write_master
from branchbook.workbook.provenance import stamp
from branchbook.workbook.schema import load_schemas

CACHE = Path(__file__).parent / "results" / "cache"


def university_tables(members: int = 20_000, attendance: int = 800_000, branches: int = 600) -> dict:
    rng = random.Random(1)
    schemas = load_schemas()
    branch_rows = [{"branch_id": f"U{b:03d}", "name": f"第{b}党支部", "kind": "staff", "secretary": f"书记{b}",
                    "secretary_email": f"u{b:03d}@example.edu.cn", "liaison_id": "C01"} for b in range(branches)]
    member_rows = [{"member_id": f"M{m:05d}", "name": f"党员{m}", "branch_id": f"U{m % branches:03d}",
                    "category": "staff", "standing": "full", "away": "no"} for m in range(members)]
    per_member = attendance // members
    sessions, att = [], []
    start = date(2005, 3, 7)
    for b in range(branches):
        for s in range(per_member):
            sessions.append({"session_id": f"U{b:03d}-H{s + 1:02d}-S1", "branch_id": f"U{b:03d}",
                             "date": start + timedelta(days=3 + 7 * (s % 6)), "kind": "central", "topic": "集中学习",
                             "hours": 3, "source_return": "history"})
    sheet = schemas.sheet("attendance")
    for member in member_rows:
        for s in range(per_member):
            status = "present" if rng.random() < 0.9 else "absent"
            att.append(stamp(sheet, {"session_id": f"{member['branch_id']}-H{s + 1:02d}-S1",
                                     "member_id": member["member_id"], "status": status,
                                     "hours": 3 if status == "present" else 0}, "history"))
    return {"phases": PHASES, "committee": COMMITTEE, "branches": branch_rows, "members": member_rows,
            "sessions": sessions, "attendance": att}


def _schema_digest() -> str:
    import hashlib
    from importlib import resources

    folder = resources.files("branchbook.schemas")
    text = b"".join(folder.joinpath(n).read_bytes() for n in ("master.yaml", "codes.yaml"))
    return hashlib.sha256(text).hexdigest()[:8]


def master_at(scale: str) -> Path:
    """The master file for a scale, written once and cached under bench/results/."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"master-{scale}-{_schema_digest()}.xlsx"  # a schema change makes a new master
    if not path.exists():
        tables = demo_tables() if scale == "college" else university_tables()
        write_master(path, tables)
    return path


def home_at(scale: str, folder: Path) -> Home:
    """A HOME whose master is the cached one for the scale."""
    root = folder / f"home-{scale}"
    if root.exists():
        shutil.rmtree(root)
    home = create_home(root)
    shutil.copyfile(master_at(scale), home.master)
    config = {**home.config, "as_of": "2005-04-20"}
    (root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return Home.open(root)


# -- HOMEs filled through the ledger (bench_merge.py) ----------------------------------------------------------------
# A HOME at a scale is built once per run: an empty HOME (init_home), its base tables put in with a journalled
# snapshot, the campaign's history inserted straight into the ledger (Ledger.insert, one transaction, no journal
# entry of its own: a history this size would otherwise be one journal line of hundreds of MB), optionally one
# return merged the ordinary way (`settle`), then the master exported once. Every job works on a fresh copy of it.

SCALES = {
    # name: what it is (scale_tables builds its records)
    "college": "the seed college at the end of the campaign: 300 members, 43 sessions each (weeks 1-14 of every "
               "branch plus 15 college-wide sessions)",
    "college2400": "a 2,400-member college (72 branches), 44 sessions each, weeks 1-14",
    "university": "university_tables(): 20,000 members in 600 branches, 40 sessions each (as README's figures)",
}
AS_OF = "2005-06-19"  # the last day of the campaign (week 15)
HISTORY_WEEKS = 14  # weeks 1-14 are in the ledger; the benchmarked returns are week 15 (and, at college, resubmissions)
BASE_SHEETS = ("phases", "committee", "branches", "members")
_BRANCH_SESSIONS = [  # what demo_fill's secretaries write each week: (number, weekday offset, kind, topic, hours)
    ("S1", 2, "central", "学习党的十六大报告，交流学习体会", 3),
    ("S2", 4, "orglife", "组织生活会：对照8个思考题开展党性分析", 2),
]
_COLLEGE_SESSIONS = [("lecture", "全院党员大会：先进性教育专题报告", 3), ("film", "观看电教片《惊涛骇浪》", 2.5)]
_CATEGORY = {"doctoral": "student", "master": "student", "undergrad": "student", "office": "office"}


def _base_college(members: int) -> dict:
    """Phases, committee, branches and members: the demo college itself at 300, else 33-member branches."""
    from branchbook.demo.college import BRANCHES

    demo = demo_tables()
    if members == len(demo["members"]):
        return {key: demo[key] for key in BASE_SHEETS}
    count = round(members / 33.3)
    branches = []
    for b in range(count):
        kind = BRANCHES[b % len(BRANCHES)][2]
        branches.append({"branch_id": f"B{b + 1:02d}", "name": f"第{b + 1}党支部", "kind": kind,
                         "secretary": f"书记{b + 1}", "secretary_email": f"b{b + 1:02d}.secretary@example.edu.cn",
                         "liaison_id": f"C0{b % 5 + 1}"})
    rows = [{"member_id": f"M{m + 1:05d}", "name": f"党员{m + 1}", "branch_id": branches[m % count]["branch_id"],
             "category": _CATEGORY.get(branches[m % count]["kind"], "staff"), "standing": "full", "away": "no"}
            for m in range(members)]
    return {"phases": PHASES, "committee": COMMITTEE, "branches": branches, "members": rows}


def college_tables(members: int = 300, sessions_each: int = 43, weeks: int = HISTORY_WEEKS, seed: int = 2005) -> dict:
    """A college whose weeks 1..`weeks` are all merged, shaped as merged returns are: per branch and week the
    two sessions demo_fill writes, everyone's attendance, self-study for 85%, one receipt; plus college-wide
    sessions to make `sessions_each` per member; and the records of phases 2 and 3 (_phase_records)."""
    rng = random.Random(seed)
    schemas = load_schemas()
    tables = {**_base_college(members), "sessions": [], "attendance": [], "selfstudy": [], "returns": []}
    start = PHASES[0]["start"]
    roster: dict[str, list[dict]] = {}
    for member in tables["members"]:
        roster.setdefault(member["branch_id"], []).append(member)

    def attend(people, session_id, day, hours, source):
        for member in people:
            if member.get("joined") and member["joined"] > day:
                continue
            if member.get("away") == "yes":
                status = "excused"
            else:
                roll = rng.random()
                status = "present" if roll < 0.88 else ("excused" if roll < 0.95 else "absent")
            tables["attendance"].append({"session_id": session_id, "member_id": member["member_id"], "status": status,
                                         "hours": hours if status == "present" else 0, "source_return": source})

    for i in range(sessions_each - len(_BRANCH_SESSIONS) * weeks):
        week, number = i % weeks + 1, i // weeks + 1
        kind, topic, hours = _COLLEGE_SESSIONS[i % len(_COLLEGE_SESSIONS)]
        day = start + timedelta(days=7 * (week - 1) + 2 * number - 1)
        session_id = f"ALL-W{week:02d}-S{number}"
        tables["sessions"].append({"session_id": session_id, "branch_id": None, "date": day, "kind": kind,
                                   "topic": topic, "hours": hours, "source_return": "college"})
        attend(tables["members"], session_id, day, hours, "college")
    for branch in tables["branches"]:
        people = roster.get(branch["branch_id"], [])
        for week in range(1, weeks + 1):
            return_id = f"{branch['branch_id']}-W{week:02d}"
            monday = start + timedelta(days=7 * (week - 1))
            for number, offset, kind, topic, hours in _BRANCH_SESSIONS:
                session_id = f"{return_id}-{number}"
                day = monday + timedelta(days=offset)
                tables["sessions"].append({"session_id": session_id, "branch_id": branch["branch_id"], "date": day,
                                           "kind": kind, "topic": topic, "hours": hours, "source_return": return_id})
                attend(people, session_id, day, hours, return_id)
            for member in people:
                if rng.random() < 0.85:
                    tables["selfstudy"].append({"member_id": member["member_id"],
                                                "date": monday + timedelta(days=rng.randrange(7)),
                                                "hours": rng.choice((2, 3, 4, 5)), "material": "《保持共产党员先进性教育读本》",
                                                "source_return": return_id})
            sunday = monday + timedelta(days=6)
            tables["returns"].append({
                "receipt_id": f"hist-{return_id}", "return_id": return_id, "branch_id": branch["branch_id"],
                "week": week, "summary": "本周组织集中学习一次、组织生活会一次。", "problems": None,
                "file_name": f"{branch['name']}_第{week}周.xlsx", "sha256": None, "sender": branch["secretary_email"],
                "filled_at": f"{sunday} 17:00:00", "received_at": f"{sunday} 18:00:00",
                "merged_at": f"{sunday} 18:05:00", "result": "merged"})
    _phase_records(tables, roster, rng)
    for key in ("sessions", "attendance", "selfstudy", "analyses", "talks", "appraisals", "rectification"):
        sheet = schemas.sheet(key)
        tables[key] = [stamp(sheet, row, row["source_return"]) for row in tables[key]]
    return tables


def _phase_records(tables: dict, roster: dict[str, list[dict]], rng: random.Random) -> None:
    """Phases 2 and 3 as branches keep them (docs/domain.md, "Phases 2 and 3"): each member's self-analysis
    written, reviewed and made final, a talk with a 支委 and an appraisal; three 整改 items per branch, most done.
    About one member in twenty is behind, so that the flags are those of a college in use, not of one without data."""
    phase2, phase3 = PHASES[1], PHASES[2]
    start = PHASES[0]["start"]

    def source(branch_id: str, day: date) -> str:
        return f"{branch_id}-W{(day - start).days // 7 + 1:02d}"

    for key in ("analyses", "talks", "appraisals", "rectification"):
        tables[key] = []
    for branch_id, people in roster.items():
        for member in people:
            behind = rng.random() < 0.05
            steps = (("written", 7), ("reviewed", 12)) if behind else (("written", 7), ("reviewed", 12), ("final", 19))
            for stage, offset in steps:
                day = phase2["start"] + timedelta(days=offset + rng.randrange(3))
                tables["analyses"].append({"member_id": member["member_id"], "date": day, "stage": stage,
                                           "reviewer": None if stage == "written" else "支部书记",
                                           "source_return": source(branch_id, day)})
            if not behind:
                day = phase2["start"] + timedelta(days=3 + rng.randrange(7))
                tables["talks"].append({"member_id": member["member_id"], "date": day, "partner": "支部书记",
                                        "kind": "committee", "source_return": source(branch_id, day)})
            day = phase2["end"] - timedelta(days=3)
            tables["appraisals"].append({"member_id": member["member_id"], "date": day, "votes_qualified": 20,
                                         "grade": "qualified", "source_return": source(branch_id, day)})
        for number in range(1, 4):
            day = phase3["start"] + timedelta(days=2)
            status = "in_progress" if number == 3 and rng.random() < 0.3 else "done"
            tables["rectification"].append({
                "item_no": f"Z{number}", "date": day, "level": "branch", "branch_id": branch_id,
                "problem": "学习制度落实不够", "measure": "每周固定集中学习时间", "owner": "支部书记",
                "deadline": day + timedelta(days=10), "status": status, "source_return": source(branch_id, day)})


def scale_tables(scale: str) -> dict:
    if scale == "college":
        return college_tables(300, 43)
    if scale == "college2400":
        return college_tables(2400, 44)
    if scale == "university":
        return university_tables()
    raise ValueError(f"unknown scale {scale!r} (one of {', '.join(SCALES)})")


def build_home(scale: str, root: Path, settle: Callable[[Home], None] | None = None) -> tuple[Home, dict[str, int]]:
    """A HOME at `scale` whose ledger holds the history and whose master was exported from it once.
    `settle(home)`, called before that export, can bring the HOME to the state of one in use (bench_merge
    merges a return, so that the journal ends with a batch rather than with the bulk snapshot).
    Returns the HOME and the rows per sheet."""
    from branchbook.sync.export import export_master
    from branchbook.workbook.books import open_ledger, snapshot
    from branchbook.workbook.office import init_home

    tables = scale_tables(scale)
    if root.exists():
        shutil.rmtree(root)
    init_home(root)
    config = yaml.safe_load((root / CONFIG_NAME).read_text(encoding="utf-8"))
    config["as_of"] = AS_OF
    # The rolling ledger copy (every 10 minutes) is measured on its own, not inside whichever job it falls in.
    config["sync"] = {**config.get("sync", {}), "backup_minutes": 10**9}
    (root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    home = Home.open(root)
    with open_ledger(home) as ledger:
        with ledger.transaction():
            snapshot(ledger, {key: tables.get(key, []) for key in BASE_SHEETS}, f"bench: {scale} base tables")
            for sheet in ledger.schemas.master:
                if sheet.key not in BASE_SHEETS and tables.get(sheet.key):
                    ledger.insert(sheet.key, tables[sheet.key])
    del tables
    if settle is not None:
        settle(home)
    with open_ledger(home) as ledger:
        result = export_master(home, ledger)
        if not result.written:
            raise RuntimeError(f"the first export of the {scale} HOME was not written: {result}")
        counts = {sheet.key: ledger.count(sheet.key) for sheet in ledger.schemas.master}
    return home, counts
