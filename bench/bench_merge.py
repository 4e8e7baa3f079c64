"""Merge speed on the ledger, at three scales, beside the naive pandas script and the practical limit,
each measured in the same run. One run prints one table (and writes it to bench/results.md).

Scales (bench/scale.py): the seed college at the end of the campaign (300 members, ~13k attendance rows),
a 2,400-member college (~105k rows), a university (20,000 members, 800,000 attendance rows). Each HOME is
built once: init_home, base tables by snapshot, the history by Ledger.insert in one transaction, one return
merged by process() (so that the journal ends as in a HOME in use), one export. The returns are filled with
demo_fill from the ledger's rosters: "1 return" is week 15 of the first branch (a new week); the 50 are week 15
of the first 50 branches (at the 9-branch college: week 15 of every branch, then weeks 14-10 resubmitted,
which replaces their rows).

Jobs, each in its own subprocess (its peak RSS is the job's), each timed with perf_counter, best of 3
unless one run takes more than CHEAP seconds, every run on a fresh copy of the HOME:
  a  commit 1 return       process(home, [Incoming(path)], export=False)
  b  master reflects it    export_master(home, ledger) after (a)
  c  commit + master       process(home, [one return]): (a) and (b) as `branchbook merge` does them
  c-serve  the same in the running service, second burst: process(export=False), then export_master with the
                           records the service kept from its first burst (another return, merged and written
                           untimed in the same process: sync/export.py KeptRecords)
  d  50 returns            process(home, 50 returns), with the export
  e  naive pandas          read_excel of every sheet of master and returns, concat, drop_duplicates, to_excel
  f  practical limit       python-calamine reading the values of master and returns + XlsxWriter
                           constant_memory write_row of the same values (no styles)
  g  validate master       validate_path(master), beside pandas read_excel of every sheet
  h  the command           `branchbook merge HOME file` (wall time), and what its imports cost
  split  (c) by part       the reading child's own cost, reading and checking the return, the ledger commit,
                           the master write (job_split)

Naive and limit read the master once per run and reuse it for the 1-return and the 50-return output (the
master read is counted in both). With --profile, every missed target's job is run again under cProfile.
All scales take about 10 minutes on 2 cores; the university needs about 2.2 GB (for the naive pandas script).

Run: .venv/bin/python bench/bench_merge.py [--scales college,college2400,university] [--profile]
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
BATCH = 50
CHEAP = 10.0  # seconds: a run longer than this is not repeated
MEMORY_TARGET = 1 << 30
PROFILE_LINES = 25
RESULTS = BENCH / "results.md"
RAW = BENCH / "results"  # git-ignored: the raw figures of the last run, one JSON per scale

# ---------------------------------------------------------------------------------------------------------------------
# The child side: one job, printed as JSON to --out


def _fresh(base: Path, runs: Path) -> Path:
    """A copy of the built HOME to change (its backups of masters and ledgers stay behind)."""
    target = runs / f"run-{uuid.uuid4().hex[:8]}"

    def skip(folder, names):
        return names if Path(folder).name == "backups" else []

    shutil.copytree(base, target, ignore=skip)
    return target


def _incoming(root: Path, returns: list[Path]):
    from branchbook.sync.pipeline import Incoming

    inbox = root / "inbox"
    items = []
    for path in returns:
        shutil.copyfile(path, inbox / path.name)
        items.append(Incoming(inbox / path.name))
    return items


def _check(result, count: int, export: bool) -> None:
    merged = [o for o in result.outcomes if o.result == "merged"]
    if len(merged) != count or not result.committed or (export and not result.written):
        problems = [(o.file_name, o.result, o.problems[:2]) for o in result.outcomes if o.result != "merged"]
        raise AssertionError(f"expected {count} merged, committed and written: {problems} busy={result.busy}")


def processor_seconds() -> float:
    """Processor time of this process and of its children that have ended (the reading child): a loaded machine
    stretches wall time far more than this (others' jobs wait on the same cores and disks)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Timer:
    """Best of up to three runs; a run longer than CHEAP seconds is the only one. With a profiler: a warm-up
    run (for cheap jobs), then one profiled run."""

    def __init__(self, profile: bool, warm: bool = True):
        self.times: list[float] = []
        self.cpus: list[float] = []  # processor seconds of each run (processor_seconds)
        self.parts: list[dict[str, float]] = []
        self.profile = profile
        self.warm = warm  # with a profiler: run once unprofiled first (skipped for jobs that are not cheap)
        self.profiler = None

    def runs(self):
        for number in range((2 if self.warm else 1) if self.profile else 3):
            yield number
            if self.times and self.times[-1] > CHEAP and not self.profile:
                return

    def measure(self, func, *args):
        if self.profile and (self.times or not self.warm):  # a warm-up run loads schemas and lazy imports
            import cProfile

            self.profiler = cProfile.Profile()
            start, cpu = time.perf_counter(), processor_seconds()
            self.profiler.enable()
            try:
                return func(*args)
            finally:
                self.profiler.disable()
                self.times.append(time.perf_counter() - start)
                self.cpus.append(processor_seconds() - cpu)
        start, cpu = time.perf_counter(), processor_seconds()
        try:
            return func(*args)
        finally:
            self.times.append(time.perf_counter() - start)
            self.cpus.append(processor_seconds() - cpu)

    def report(self) -> dict:
        best = len(self.times) - 1 if self.profile else min(range(len(self.times)), key=self.times.__getitem__)
        out = {"seconds": self.times[best], "runs": self.times, "parts": self.parts[best] if self.parts else {},
               "cpu": min(self.cpus) if self.cpus else None, "all_parts": self.parts}
        if self.profiler is not None:
            import io
            import pstats

            text = io.StringIO()
            stats = pstats.Stats(self.profiler, stream=text)
            stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
            out["profile"] = _trim_profile(text.getvalue())
        return out


def _trim_profile(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    body = [re.sub(r"\S*/(site-packages|main|lib/python3\.\d+)/", "", line) for line in lines[start:] if line.strip()]
    return "\n".join(body)


def job_commit(base: Path, runs: Path, returns: list[Path], timer: Timer, export: bool, then_export: bool):
    from branchbook.sync.export import export_master
    from branchbook.sync.pipeline import process
    from branchbook.workbook.books import open_ledger
    from branchbook.workbook.home import Home

    for _ in timer.runs():
        root = _fresh(base, runs)
        home = Home.open(root)
        items = _incoming(root, returns)
        if then_export:  # (b): the commit untimed, then the export alone
            _check(process(home, items, export=False), len(returns), False)
            with open_ledger(home) as ledger:
                written = timer.measure(export_master, home, ledger)
            if not written.written:
                raise AssertionError(f"export not written: {written}")
        else:
            _check(timer.measure(partial(process, home, items, export=export)), len(returns), export)
        shutil.rmtree(root)


def job_serve(base: Path, runs: Path, first: list[Path], second: list[Path], timer: Timer) -> None:
    """(c-serve): as the running service does a burst (sync/service.py): process(export=False), then export_master
    with the records it kept. The first burst warms them (untimed), the second is timed."""
    from branchbook.sync.export import KeptRecords, export_master
    from branchbook.sync.pipeline import process
    from branchbook.workbook.books import open_ledger
    from branchbook.workbook.home import Home

    def burst(home: Home, items, kept: KeptRecords) -> None:
        _check(process(home, items, export=False), len(items), False)
        with open_ledger(home) as ledger:
            if not export_master(home, ledger, kept=kept).written:
                raise AssertionError("export not written")

    for _ in timer.runs():
        root = _fresh(base, runs)
        home = Home.open(root)
        kept = KeptRecords()
        burst(home, _incoming(root, first), kept)
        if kept.records is None:
            raise AssertionError("the first burst kept no records (above KEPT_ROWS?)")
        timer.measure(burst, home, _incoming(root, second), kept)
        shutil.rmtree(root)


# The reading child's part is the reading's wall time (the ledger read ahead for the master's write runs beside it).
SPLIT_STEPS = {"reading child": ("read_submissions",), "ledger commit": ("plan_merge", "commit", "file_all"),
               "master write": ("export_master",)}
# The master write by part (module, attribute): what the flags, the dashboard's figures, the XML and the safe
# replace each cost of it; "rest of the write" is the records brought up to date, the body cache and the commits.
WRITE_STEPS = {"flags (index, rules, history, words)": (("branchbook.sync.export", "Facts"),
                                                        ("branchbook.sync.export", "compute_flags"),
                                                        ("branchbook.workbook.flag_history", "keep"),
                                                        ("branchbook.sync.export", "flag_rows")),
               "dashboard figures": (("branchbook.workbook.reports.dashboard", "compute_progress"),),
               "XML and zip": (("branchbook.sync.master_store", "write_master"),),
               "read-back check": (("branchbook.sync.master_store", "row_counts"),),
               "backup and replace": (("branchbook.sync.master_store:MasterStore", "backup"),
                                      ("branchbook.sync.master_store:MasterStore", "_replace"))}


def job_split(base: Path, runs: Path, returns: list[Path], timer: Timer) -> None:
    """(c) split into its parts: the reading child (run_batch, less the same reading in process), the reading and
    checking of the return itself (read_received in this process, measured after the runs so that the children
    forked before it inherit none of its imports), the ledger commit (plan, commit, journal mirror, filing) and
    the master write (export_master). Each part is the best of the runs."""
    from branchbook.sync import pipeline
    from branchbook.workbook.books import open_ledger
    from branchbook.workbook.home import Home

    spent: dict[str, float] = {}

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    originals = {name: getattr(pipeline, name) for names in SPLIT_STEPS.values() for name in names}
    for name, function in originals.items():
        setattr(pipeline, name, timed(name, function))
    patched = []  # (owner, attribute, original) of the write's parts
    for part, places in WRITE_STEPS.items():
        for place, attribute in places:
            module_name, _, class_name = place.partition(":")
            owner = importlib.import_module(module_name)
            owner = getattr(owner, class_name) if class_name else owner
            patched.append((owner, attribute, getattr(owner, attribute)))
            setattr(owner, attribute, timed(part, getattr(owner, attribute)))
    mirror = pipeline.journal.mirror
    pipeline.journal.mirror = timed("commit", mirror)  # the journal's mirror is part of committing
    best: dict[str, float] = {}
    try:
        for _ in timer.runs():
            spent.clear()
            root = _fresh(base, runs)
            home = Home.open(root)
            _check(timer.measure(partial(pipeline.process, home, _incoming(root, returns))), len(returns), True)
            parts = {part: sum(spent.get(name, 0.0) for name in names) for part, names in SPLIT_STEPS.items()}
            parts["other (lock, office edits, clean-up)"] = timer.times[-1] - sum(parts.values())
            within = {f"master write: {part}": spent.get(part, 0.0) for part in WRITE_STEPS}
            # write_master paints the dashboard, whose figures are their own part
            within["master write: XML and zip"] -= within["master write: dashboard figures"]
            within["master write: rest of the write"] = parts["master write"] - sum(within.values())
            parts.update(within)
            for part, value in parts.items():
                best[part] = min(best.get(part, value), value)
            shutil.rmtree(root)
    finally:
        for name, function in originals.items():
            setattr(pipeline, name, function)
        pipeline.journal.mirror = mirror
        for owner, attribute, function in reversed(patched):
            setattr(owner, attribute, function)
    # The same reading in this process: what the return itself costs to read and check, without the child.
    from branchbook.sync.reading import marked_work_copy
    from branchbook.workbook.intake import read_received
    from branchbook.workbook.seal import home_seal

    home = Home.open(base)
    with open_ledger(home) as ledger:
        tables = pipeline.base_tables(ledger)
        schemas = ledger.schemas
    readings = []
    for _ in range(3):
        start = time.perf_counter()
        read_received(returns[0], tables, marked_work_copy(runs / "split.xlsx"), file_name=returns[0].name,
                      schemas=schemas, lang=home.lang, seal=home_seal(home.root),
                      unsealed_grace_days=home.settings.intake.unsealed_grace_days)
        readings.append(time.perf_counter() - start)
    validation = min(readings)
    best["read + check the return (in process)"] = validation
    best["reading child"] = max(best["reading child"] - validation, 0.0)  # the child's own cost: start, transfer, stop
    timer.parts = [best] * len(timer.times)  # the best of each part, whichever run is reported


def job_validate(base: Path, timer: Timer) -> dict:
    from branchbook.workbook.validation import validate_path

    for _ in timer.runs():
        report = timer.measure(validate_path, base / "master.xlsx")
    return {"valid": report.valid, "findings": [f.message() for f in report.findings[:5]],
            "rows": sum(report.stats.values())}


COUNTS = (1, BATCH)


def _time_script(timer: Timer, read_master, merge, batch: list[Path], runs: Path, name: str) -> None:
    """One run of a baseline script: read the master once, then merge it with 1 return and with the batch."""
    def script() -> dict:
        t0, c0 = time.perf_counter(), processor_seconds()
        master = read_master()
        parts = {"read master": time.perf_counter() - t0, "cpu read master": processor_seconds() - c0}
        for count in COUNTS:
            c0 = processor_seconds()
            merge(master, batch[:count], runs / f"{name}-{count}.xlsx", parts, count)
            parts[f"cpu {count}"] = processor_seconds() - c0
        return parts

    for _ in timer.runs():
        timer.parts.append(timer.measure(script))


def job_naive(base: Path, runs: Path, batch: list[Path], timer: Timer) -> None:
    """What a user would script: pandas' default xlsx engine (openpyxl) to read and write, no checks. The
    master is read once per run and merged with 1 return, then (from the same frames) with 50."""
    import pandas as pd

    def merge(master: dict, returns: list[Path], out: Path, parts: dict, count: int) -> None:
        t0 = time.perf_counter()
        sheets = dict(master)
        for path in returns:
            ret = pd.read_excel(path, sheet_name=None, engine="openpyxl")
            grid = ret["出勤"].melt(id_vars=["党员编号", "姓名"], var_name="活动序号", value_name="状态").dropna()
            grid = grid.rename(columns={"活动序号": "活动编号"})[["活动编号", "党员编号", "状态"]]
            sheets["出勤"] = pd.concat([sheets["出勤"], grid]).drop_duplicates(subset=["活动编号", "党员编号"], keep="last")
            for name in ("自学", "笔记检查", "征求意见"):
                if name in ret:  # a return carries its phase's record sheets only
                    sheets[name] = pd.concat([sheets[name], ret[name]]).drop_duplicates()
        t1 = time.perf_counter()
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                frame.to_excel(writer, sheet_name=name, index=False)
        parts[f"read returns + concat {count}"] = t1 - t0
        parts[f"write {count}"] = time.perf_counter() - t1
        out.unlink()

    _time_script(timer, lambda: pd.read_excel(base / "master.xlsx", sheet_name=None, engine="openpyxl"), merge,
                 batch, runs, "naive")


def job_limit(base: Path, runs: Path, batch: list[Path], timer: Timer) -> None:
    """The floor: read the values as fast as Python can (calamine), write them as fast as XlsxWriter can
    (constant_memory, write_row, no formats). The master is read once per run, as in job_naive."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    def read(path: Path) -> dict[str, list[list]]:
        book = CalamineWorkbook.from_path(str(path))
        return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}

    def merge(master: dict, returns: list[Path], out: Path, parts: dict, count: int) -> None:
        t0 = time.perf_counter()
        sheets = {name: list(rows) for name, rows in master.items()}
        for path in returns:
            for name, rows in read(path).items():
                if name in sheets:
                    sheets[name].extend(rows[1:])
        t1 = time.perf_counter()
        wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        for name, rows in sheets.items():
            ws = wb.add_worksheet(name)
            write_row = ws.write_row
            for number, row in enumerate(rows):
                write_row(number, 0, row)
        wb.close()
        parts[f"read returns {count}"] = t1 - t0
        parts[f"write {count}"] = time.perf_counter() - t1
        out.unlink()

    _time_script(timer, lambda: read(base / "master.xlsx"), merge, batch, runs, "limit")


def split_counts(result: dict, kind: str) -> dict[str, dict]:
    """The combined naive (or limit) job as one result per count: master read + returns + write."""
    parts = result["parts"]
    read_returns = "read returns + concat" if kind == "naive" else "read returns"
    out = {}
    for count in COUNTS:
        mine = {"read master": parts["read master"], read_returns: parts[f"{read_returns} {count}"],
                "write": parts[f"write {count}"]}
        cpu = min(run["cpu read master"] + run[f"cpu {count}"] for run in result["all_parts"])
        out[f"{kind}{count}"] = {"seconds": sum(mine.values()), "parts": mine, "peak_rss": result["peak_rss"],
                                 "runs": result["runs"], "cpu": cpu}
    return out


def job_backup(base: Path, runs: Path, timer: Timer) -> None:
    from branchbook.sync.backup import backup_ledger
    from branchbook.workbook.books import open_ledger
    from branchbook.workbook.home import Home

    for _ in timer.runs():
        root = _fresh(base, runs)
        home = Home.open(root)
        with open_ledger(home) as ledger:
            timer.measure(backup_ledger, home, ledger)
        shutil.rmtree(root)


def job_build(scale: str, work: Path) -> dict:
    sys.path.insert(0, str(BENCH))
    from scale import build_home

    start = time.perf_counter()
    home, counts = build_home(scale, work / "base", settle=partial(settle, work / "settle"))
    built = time.perf_counter() - start
    start = time.perf_counter()
    returns = make_batch(home, work / "returns", BATCH)
    made = time.perf_counter() - start
    return {"seconds": built, "returns_seconds": made, "rows": counts, "returns": [str(p) for p in returns],
            "master_bytes": home.master.stat().st_size,
            "ledger_bytes": (home.root / "ledger.sqlite").stat().st_size}


def settle(folder: Path, home) -> None:
    """One return merged before the first export (the last branch's week 14), as a HOME in use has them: its
    journal then ends with a batch entry, not with the snapshot of the base tables (the mirror parses the
    last journal line at every open)."""
    from branchbook.demo.fill import Secretary, fill_return
    from branchbook.sync.pipeline import Incoming, process
    from branchbook.workbook.books import open_ledger
    from branchbook.workbook.office import make_returns

    folder.mkdir(parents=True, exist_ok=True)
    with open_ledger(home) as ledger:
        tables = ledger.tables(("phases", "branches", "members", "returns"))
    last = tables["branches"][-1]["branch_id"]
    template = make_returns(home, 14, [last], tables)[last]
    target = home.folder("inbox") / template.name
    shutil.move(template, target)
    fill_return(target, Secretary(), seed=999)
    _check(process(home, [Incoming(target)], export=False), 1, False)


def make_batch(home, folder: Path, count: int) -> list[Path]:
    """Filled returns, made from the ledger's rosters and filled as demo_fill's secretaries would: week 15 of
    the first branches, then (when there are fewer branches than `count`) week 14, 13, ... resubmitted."""
    from branchbook.demo.fill import Secretary, fill_return
    from branchbook.workbook.books import open_ledger
    from branchbook.workbook.office import make_returns

    folder.mkdir(parents=True, exist_ok=True)
    with open_ledger(home) as ledger:
        tables = ledger.tables(("phases", "branches", "members", "returns"))
    branch_ids = [b["branch_id"] for b in tables["branches"]]
    made: list[Path] = []
    week = 15
    while len(made) < count:
        wanted = branch_ids[: count - len(made)]
        for template in make_returns(home, week, wanted, tables).values():
            target = folder / f"{len(made):02d}-{template.name}"
            shutil.move(template, target)
            fill_return(target, Secretary(), seed=len(made))
            made.append(target)
        week -= 1
    return made


def child(args) -> None:
    work = Path(args.work)
    runs = work / "runs"
    runs.mkdir(exist_ok=True)
    out: dict = {}
    if args.child == "build":
        out = job_build(args.scale, work)
    else:
        base = work / "base"
        returns = json.loads((work / "build.json").read_text())["returns"]
        one, batch = [Path(returns[0])], [Path(p) for p in returns]  # one: week 15 of the first branch
        timer = Timer(args.profile, warm=not args.cold)
        job = args.child
        if job == "commit1":
            job_commit(base, runs, one, timer, export=False, then_export=False)
        elif job == "export1":
            job_commit(base, runs, one, timer, export=False, then_export=True)
        elif job == "commit_export1":
            job_commit(base, runs, one, timer, export=True, then_export=False)
        elif job == "serve_commit_export2":  # warmed by the second branch's week 15, then the same return as (c)
            job_serve(base, runs, [batch[1]], one, timer)
        elif job == "split1":
            job_split(base, runs, one, timer)
        elif job == "batch50":
            job_commit(base, runs, batch, timer, export=True, then_export=False)
        elif job == "validate":
            out.update(job_validate(base, timer))
        elif job == "naive":
            job_naive(base, runs, batch, timer)
        elif job == "limit":
            job_limit(base, runs, batch, timer)
        elif job == "backup":
            job_backup(base, runs, timer)
        else:
            raise SystemExit(f"unknown job {job}")
        out.update(timer.report())
    out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------------
# The parent side: build, run every job in its own process, print the table


def run_process(argv: list[str], stdout=None, stderr=None, env=None) -> tuple[float, int, int]:
    """Wall seconds, exit code and peak RSS (bytes) of a command, from wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, proc.returncode, usage.ru_maxrss * 1024


def run_child(job: str, scale: str, work: Path, profile: bool = False, warm: bool = True) -> dict:
    out = work / f"{job}{'-profile' if profile else ''}.json"
    argv = [PY, str(Path(__file__).resolve()), "--child", job, "--scale", scale, "--work", str(work), "--out", str(out)]
    if profile:
        argv += ["--profile"] + ([] if warm else ["--cold"])
    wall, code, peak = run_process(argv)
    if code != 0:
        raise RuntimeError(f"job {job} at {scale} failed (exit {code})")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["wall"] = wall
    result["peak_rss"] = max(result.get("peak_rss", 0), peak)
    return result


def command_job(work: Path, runs: int = 3) -> dict:
    """`branchbook merge HOME file` as a user runs it, on fresh copies; wall time and peak RSS."""
    script = Path(PY).with_name("branchbook")
    build = json.loads((work / "build.json").read_text())
    one = build["returns"][0]
    times, peaks = [], []
    for _ in range(runs):
        root = _fresh(work / "base", work / "runs")
        with open(work / "command.log", "wb") as log:
            wall, code, peak = run_process([str(script), "merge", str(root), one], stdout=log, stderr=log)
        if code != 0:
            raise RuntimeError(f"branchbook merge failed (exit {code}); see {work / 'command.log'}")
        shutil.rmtree(root)
        times.append(wall)
        peaks.append(peak)
        if wall > CHEAP:
            break
    return {"seconds": min(times), "runs": times, "peak_rss": max(peaks)}


def import_costs(work: Path) -> dict:
    """What `branchbook merge` spends starting: the interpreter alone, `--help`, and every import the merge
    pulls in (python -X importtime), the heaviest packages first with the module that pulled them in."""
    build = json.loads((work / "build.json").read_text())
    devnull = subprocess.DEVNULL

    def best_wall(argv) -> float:
        return min(run_process(argv, stdout=devnull, stderr=devnull)[0] for _ in range(3))

    bare = best_wall([PY, "-c", "pass"])
    help_wall = best_wall([PY, "-m", "branchbook", "--help"])
    root = _fresh(work / "base", work / "runs")
    log = work / "importtime.log"
    with open(log, "wb") as err:
        run_process([PY, "-X", "importtime", "-m", "branchbook", "merge", str(root), build["returns"][0]],
                    stdout=devnull, stderr=err)
    shutil.rmtree(root)
    with open(work / "importtime-bare.log", "wb") as err:
        run_process([PY, "-X", "importtime", "-c", "pass"], stdout=devnull, stderr=err)
    merge_entries = parse_importtime(log.read_text(encoding="utf-8", errors="replace"))
    bare_entries = parse_importtime((work / "importtime-bare.log").read_text(encoding="utf-8", errors="replace"))
    return {"python -c pass": bare, "branchbook --help": help_wall,
            "imports total": sum(e["cumulative"] for e in merge_entries if e["depth"] == 0) / 1e6,
            "interpreter imports": sum(e["cumulative"] for e in bare_entries if e["depth"] == 0) / 1e6,
            "modules": len(merge_entries),
            "heaviest": heaviest(merge_entries, 10, {e["name"] for e in bare_entries})}


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)\s*$")


def parse_importtime(text: str) -> list[dict]:
    """-X importtime's lines, each with its parent (the import that pulled it in); the output is in post-order."""
    entries: list[dict] = []
    pending: dict[int, list[dict]] = {}
    for line in text.splitlines():
        match = _IMPORT_LINE.match(line)
        if not match:
            continue
        depth = (len(match.group(3)) - 1) // 2
        entry = {"name": match.group(4), "self": int(match.group(1)), "cumulative": int(match.group(2)),
                 "depth": depth, "parent": None}
        for kid in pending.pop(depth + 1, []):
            kid["parent"] = entry
        pending.setdefault(depth, []).append(entry)
        entries.append(entry)
    return entries


def heaviest(entries: list[dict], count: int, startup: set[str] = frozenset()) -> list[dict]:
    """Packages by the time their imports took (inclusive of what they import), leaving out branchbook and
    what a bare interpreter imports anyway; each with the chain that pulled it in first and the branchbook
    modules that import it at their top level."""
    totals: dict[str, dict] = {}
    for entry in entries:
        package = entry["name"].split(".")[0]
        parent = entry["parent"]
        if package == "branchbook" or entry["name"] in startup or (parent and parent["name"].split(".")[0] == package):
            continue
        total = totals.setdefault(package, {"package": package, "ms": 0.0, "via": None})
        total["ms"] += entry["cumulative"] / 1000
        if total["via"] is None:
            chain, ancestor = [], parent
            while ancestor is not None:
                if ancestor["name"].startswith("branchbook") or not chain:
                    chain.append(ancestor["name"])
                if ancestor["name"].startswith("branchbook"):
                    break
                ancestor = ancestor["parent"]
            total["via"] = " ← ".join(chain) or "(startup)"
    found = sorted(totals.values(), key=lambda t: -t["ms"])[:count]
    for total in found:
        total["imported by"] = top_level_importers(total["package"])
    return found


_FOLDERS = {"branchbook": "branchbook", "workbook": "branchbook.workbook", "sync": "branchbook.sync",
            "addin": "branchbook.addin"}


def top_level_importers(package: str) -> list[str]:
    """branchbook modules that import `package` at module level (not inside a function)."""
    pattern = re.compile(rf"^(import|from) {re.escape(package)}(\.| |$)", re.M)
    found = []
    for folder, prefix in _FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if pattern.search(path.read_text(encoding="utf-8")):
                parts = path.relative_to(ROOT / folder).with_suffix("").parts
                found.append(".".join((prefix, *parts)).removesuffix(".__init__"))
    return found


# -- the table --------------------------------------------------------------------------------------------------------

JOBS = [
    # key, label, ours, naive (job, part), limit (job, part)
    ("a", "a. commit 1 return", "commit1", None, ("limit1", "read returns")),
    ("b", "b. master reflects it (export after a)", "export1", ("naive1", "write"), ("limit1", "write")),
    ("c", "c. commit + master, 1 return", "commit_export1", ("naive1", None), ("limit1", None)),
    ("c-serve", "c-serve: commit + master in the running service, second burst", "serve_commit_export2",
     ("naive1", None), ("limit1", None)),
    ("d", "d. 50 returns, with master", "batch50", ("naive50", None), ("limit50", None)),
    ("g", "g. validate master", "validate", ("naive1", "read master"), ("limit1", "read master")),
    ("h", "h. `branchbook merge HOME file` (command)", "command", None, None),
    ("r", "rolling ledger backup (every 10 min)", "backup", None, None),
]
TARGETS = {
    # (job, scale): (description, test on the figures)
    ("c", "college"): ("< 0.15 s", lambda r: r["c"] < 0.15),
    ("c", "college2400"): ("< 1 s", lambda r: r["c"] < 1.0),
    ("a", "university"): ("< 0.1 s", lambda r: r["a"] < 0.1),
    ("c", "university"): ("master reflects it < 15 s", lambda r: r["c"] < 15.0),
    ("d", "university"): (">= 10x faster than naive", lambda r: r["d_naive"] / r["d"] >= 10),
    ("g", "university"): ("< 5 s", lambda r: r["g"] < 5.0),
}


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def megabytes(value: float | None) -> str:
    return "—" if value is None else f"{value / 2**20:,.0f} MB"


def part_of(result: dict | None, part: str | None) -> float | None:
    if result is None:
        return None
    return result["seconds"] if part is None else result["parts"].get(part)


def scale_rows(scale: str, results: dict) -> tuple[list[list[str]], list[tuple[str, str, str, bool]]]:
    rows, verdicts = [], []
    figures = {}
    for key, label, ours_job, naive, limit in JOBS:
        ours = results.get(ours_job)
        if ours is None:
            continue
        figures[key] = ours["seconds"]
        naive_s = part_of(results.get(naive[0]), naive[1]) if naive else None
        limit_s = part_of(results.get(limit[0]), limit[1]) if limit else None
        if key == "h":
            limit_s = results["imports"]["python -c pass"] + part_of(results.get("limit1"), None)
        if key == "d":
            figures["d_naive"] = naive_s
        memory_ok = ours["peak_rss"] < MEMORY_TARGET
        peaks = [megabytes(ours["peak_rss"])]
        if naive and naive[1] is None:
            peaks.append(f"naive {megabytes(results[naive[0]]['peak_rss'])}")
        if limit and limit[1] is None:
            peaks.append(f"limit {megabytes(results[limit[0]]['peak_rss'])}")
        target = TARGETS.get((key, scale))
        verdict = ""
        if target:
            passed = target[1](figures)
            verdict = f"{target[0]}: {'PASS' if passed else 'MISS'}"
            verdicts.append((key, scale, target[0], passed))
        verdicts.append((key, scale, "peak memory < 1 GB", memory_ok))
        runs = len(ours.get("runs", [])) or 1
        limit_cpu = results[limit[0]].get("cpu") if limit and limit[1] is None and limit[0] in results else None
        cpu_ratio = f"{ours['cpu'] / limit_cpu:.2f}" if limit_cpu and ours.get("cpu") else "—"
        rows.append([label, scale, f"{seconds(ours['seconds'])} (n={runs})", seconds(naive_s), seconds(limit_s),
                     f"{ours['seconds'] / naive_s:.2f}" if naive_s else "—",
                     f"{ours['seconds'] / limit_s:.2f}" if limit_s else "—", cpu_ratio,
                     " / ".join(peaks) + ("" if memory_ok else " MISS"), verdict])
    return rows, verdicts


HEADER = ["job", "scale", "BranchBook", "naive pandas", "practical limit", "ratio to naive", "ratio to limit",
          "processor time ÷ limit's", "peak memory (BranchBook / naive / limit)", "target"]


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def describe_scale(scale: str, build: dict) -> str:
    rows = build["rows"]
    shown = ", ".join(f"{k} {v:,}" for k, v in rows.items() if v)
    return (f"- **{scale}**: {sum(rows.values()):,} rows ({shown}); master {build['master_bytes'] / 2**20:.1f} MB, "
            f"ledger {build['ledger_bytes'] / 2**20:.1f} MB; HOME built in {build['seconds']:.1f} s "
            f"(50 returns filled in {build['returns_seconds']:.1f} s)")


def parts_text(scale: str, results: dict) -> list[str]:
    out = []
    for job in ("naive1", "naive50", "limit1", "limit50"):
        if job in results and results[job]["parts"]:
            parts = ", ".join(f"{k} {seconds(v)}" for k, v in results[job]["parts"].items())
            out.append(f"- {scale} {job}: {parts}")
    return out


def split_text(scale: str, results: dict) -> list[str]:
    """Job c by part (job split1: each part the best of its runs), each as a share of that job's best run."""
    split = results.get("split1")
    if not split or not split["parts"]:
        return []
    total = split["seconds"]
    parts = ", ".join(f"{name} {seconds(value)} ({value / total:.0%})" for name, value in split["parts"].items())
    return [f"- {scale}: {seconds(total)} in all (best run); {parts}"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="college,college2400,university")
    parser.add_argument("--profile", action="store_true", help="profile every missed job (cProfile, top functions)")
    parser.add_argument("--work", help="keep the HOMEs here (default: a temporary folder, removed after)")
    parser.add_argument("--reuse", action="store_true", help="reuse HOMEs already built in --work")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scale", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    sys.path.insert(0, str(BENCH))
    from scale import SCALES

    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    for scale in scales:
        if scale not in SCALES:
            parser.error(f"unknown scale {scale!r}; one of {', '.join(SCALES)}")
    work_root = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-merge-"))
    started = time.perf_counter()
    load_at_start = os.getloadavg()  # others' work on the same cores slows every job, the baselines' too
    all_rows, all_verdicts, notes, splits, imports = [], [], [], [], None
    raw: dict = {}
    try:
        for scale in scales:
            work = work_root / scale
            work.mkdir(parents=True, exist_ok=True)
            results: dict = {}
            if args.reuse and (work / "build.json").exists():
                build = json.loads((work / "build.json").read_text())
                print(f"[{scale}] reusing the HOME in {work}", flush=True)
            else:
                print(f"[{scale}] building the HOME…", flush=True)
                build = run_child("build", scale, work)
                (work / "build.json").write_text(json.dumps(build, ensure_ascii=False, indent=1))
            notes.append(describe_scale(scale, build))
            for job in ("commit1", "export1", "commit_export1", "serve_commit_export2", "split1", "batch50", "validate", "backup", "limit",
                        "naive"):
                print(f"[{scale}] {job}…", end=" ", flush=True)
                results[job] = run_child(job, scale, work)
                print(f"{seconds(results[job]['seconds'])}, peak {megabytes(results[job]['peak_rss'])}", flush=True)
                if job in ("limit", "naive"):
                    results.update(split_counts(results.pop(job), job))
            print(f"[{scale}] command…", end=" ", flush=True)
            results["command"] = command_job(work)
            print(seconds(results["command"]["seconds"]), flush=True)
            if imports is None:
                imports = import_costs(work)
            results["imports"] = imports
            rows, verdicts = scale_rows(scale, results)
            all_rows += rows
            all_verdicts += verdicts
            notes += parts_text(scale, results)
            splits += split_text(scale, results)
            raw[scale] = {"build": build, **results}
            RAW.mkdir(exist_ok=True)
            (RAW / f"merge-{scale}.json").write_text(json.dumps(raw[scale], ensure_ascii=False, indent=1, default=str))
            print(markdown(rows), flush=True)
        profiles = []
        if args.profile:
            by_key = {key: job for key, _, job, _, _ in JOBS}
            for key, scale, target, passed in all_verdicts:
                job = by_key[key]
                if passed or job in ("command", "backup") or any(p[0] == (job, scale) for p in profiles):
                    continue
                print(f"[{scale}] profiling {job} (missed {target})…", flush=True)
                result = run_child(job, scale, work_root / scale, profile=True,
                                   warm=raw[scale][job]["seconds"] < CHEAP)
                profiles.append(((job, scale), target, result))
        report = render(scales, all_rows, all_verdicts, notes, imports, profiles, time.perf_counter() - started,
                        (load_at_start, os.getloadavg()), splits)
        print("\n" + report)
        RESULTS.write_text(report + "\n", encoding="utf-8")
        print(f"\nwritten to {RESULTS}")
    finally:
        if not args.work:
            shutil.rmtree(work_root, ignore_errors=True)


def render(scales, rows, verdicts, notes, imports, profiles, elapsed: float, loads=None, splits=()) -> str:
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    load = "" if loads is None else (" Load average (1, 5, 15 min) at the start: " + ", ".join(f"{x:.2f}" for x in loads[0])
                                     + "; at the end: " + ", ".join(f"{x:.2f}" for x in loads[1]) + ".")
    out = [f"# Merge benchmark (bench/bench_merge.py --scales {','.join(scales)})", "",
           f"Measured in one run on {machine}; total run {elapsed / 60:.1f} min.{load} Times are in-process "
           "(perf_counter), best of n; each job ran in its own process, whose peak RSS is shown. "
           "Ratios: BranchBook's time divided by the other's (below 1: BranchBook is faster). Processor time "
           "(user + system, the reading child's too), best run, is shown against the limit's for the whole jobs: on a "
           "loaded machine it moves far less than wall time.", "",
           markdown(rows), "", "## Targets", ""]
    for key, scale, target, passed in verdicts:
        if target != "peak memory < 1 GB" or not passed:
            out.append(f"- {'PASS' if passed else 'MISS'} — {scale}, job {key}: {target}")
    memory_misses = [v for v in verdicts if v[2] == "peak memory < 1 GB" and not v[3]]
    if not memory_misses:
        out.append("- PASS — every BranchBook job: peak memory < 1 GB")
    out += ["", "## Scales", "", *[n for n in notes if n.startswith("- **")], "",
            "## Naive and limit, by part", "", *[n for n in notes if not n.startswith("- **")]]
    if splits:
        out += ["", "## Job c (one return committed, master written) by part", "",
                "The reading child is its own cost (start, sending, stopping), less the same reading done in "
                "process; that reading (open, check, judge the return) is the next part.", "", *splits]
    if imports:
        out += ["", "## Start-up cost of `branchbook merge`", "",
                f"- `python -c pass`: {seconds(imports['python -c pass'])} "
                f"(its own imports {seconds(imports['interpreter imports'])})",
                f"- `python -m branchbook --help`: {seconds(imports['branchbook --help'])}",
                f"- imports during `branchbook merge` (-X importtime, all {imports['modules']} modules): "
                f"{seconds(imports['imports total'])}", "",
                "| package | import ms (inclusive) | first pulled in by | imported at top level by |", "|---|---|---|---|"]
        out += [f"| {h['package']} | {h['ms']:.0f} | {h['via']} | {', '.join(h['imported by']) or '—'} |"
                for h in imports["heaviest"]]
    for (job, scale), target, result in profiles:
        out += ["", f"## Profile: {job} at {scale} (missed {target}; {seconds(result['seconds'])} under cProfile)", "",
                "```", result.get("profile", "(none)"), "```"]
    return "\n".join(out)


if __name__ == "__main__":
    main()
