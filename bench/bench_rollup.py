"""Roll-up speed: `branchbook rollup` over many college masters, beside the naive pandas script.

The university of issue 14: 40 colleges totalling 20,000 members and 800,000 attendance rows (500 members per
college in 15 branches, 40 sessions each: bench/scale.college_tables). Each college's master is written once
(cached under bench/results/cache/) as the office's export writes it: its flags with their levels, its dashboard
as of the campaign's last day.

Jobs, each in a subprocess of its own (its peak RSS, or its largest child's, is the job's), timed with perf_counter:
  rollup   workbook.rollup.rollup(masters) + reports.university.write_university (what the command does)
  command  `branchbook rollup OUT SOURCE...` (wall time, imports included)
  naive    for each master pandas.read_excel(sheet_name=None), then per branch: members, returns per week,
           hours per member (attendance + self-study to the as-of day), attendance rate, open flags by level;
           the university's rows written with DataFrame.to_excel

Targets (issue 14): rollup at least 10 times faster than naive, and under 30 s at full scale.
The machine is shared: run the full scale only when it is quiet (load average under 2).

Run: .venv/bin/python bench/bench_rollup.py [--colleges 40] [--members 20000]
     (a small check: --colleges 4 --members 2000, which keeps 40 attendance rows per member)
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
AS_OF = date(2005, 6, 19)  # the campaign's last day (scale.AS_OF)
SESSIONS_EACH = 40  # attendance rows per member: 20,000 members -> 800,000 rows


def masters(colleges: int, members: int) -> list[Path]:
    """The colleges' masters for a scale, written once and cached."""
    from scale import CACHE, _schema_digest, college_tables

    from branchbook.workbook.flag_history import annotate, by_level
    from branchbook.workbook.flags import compute_flags, flag_rows
    from branchbook.workbook.master import write_master
    from branchbook.workbook.reports.dashboard import dashboard_painter
    from branchbook.workbook.schema import load_schemas

    folder = CACHE / f"rollup-{colleges}x{members // colleges}-{_schema_digest()}"
    folder.mkdir(parents=True, exist_ok=True)
    schemas = load_schemas()
    paths = []
    for number in range(colleges):
        path = folder / f"学院{number + 1:02d}.xlsx"
        paths.append(path)
        if path.exists():
            continue
        tables = college_tables(members // colleges, SESSIONS_EACH, seed=2005 + number)
        tables.setdefault("inspections", []), tables.setdefault("opinions", []), tables.setdefault("reports", [])
        opened, cleared = annotate(None, tables, compute_flags(tables, AS_OF, schemas), AS_OF, schemas)
        tables["flags"] = flag_rows(by_level([*opened, *cleared]))
        temp = path.with_suffix(".writing.xlsx")
        write_master(temp, tables, painters=(dashboard_painter(AS_OF, opened),))
        os.replace(temp, path)
    return paths


def job_rollup(paths: list[Path], out: Path) -> dict:
    from branchbook.workbook.reports.university import write_university
    from branchbook.workbook.rollup import rollup

    started = time.perf_counter()
    result = rollup(paths)
    write_university(out, result)
    seconds = time.perf_counter() - started
    assert not result.problems, [p.line() for p in result.problems]
    return {"seconds": seconds, "members": sum(b.members for c in result.colleges for b in c.progress.branches)}


def job_naive(paths: list[Path], out: Path) -> dict:
    import pandas as pd

    started = time.perf_counter()
    colleges, branches = [], []
    for path in paths:
        sheets = pd.read_excel(path, sheet_name=None)
        members, sessions = sheets["党员"], sheets["学习活动"]
        attendance, selfstudy = sheets["出勤"], sheets["自学"]
        returns, flags = sheets["周报"], sheets["进度提醒"]
        sessions = sessions[pd.to_datetime(sessions["日期"]).dt.date <= AS_OF]
        attendance = attendance.merge(sessions[["活动编号"]], on="活动编号").merge(members[["党员编号", "支部编号"]],
                                                                                   on="党员编号")
        selfstudy = selfstudy[pd.to_datetime(selfstudy["日期"]).dt.date <= AS_OF].merge(
            members[["党员编号", "支部编号"]], on="党员编号")
        hours = (attendance.groupby("党员编号")["计入学时"].sum().add(selfstudy.groupby("党员编号")["学时"].sum(),
                                                                      fill_value=0))
        per_member = members.set_index("党员编号")[["支部编号"]].join(hours.rename("学时")).fillna({"学时": 0})
        present = attendance.assign(出席=attendance["状态"] == "出席", 缺席=attendance["状态"] == "缺席")
        rates = present.groupby("支部编号")[["出席", "缺席"]].sum()
        received = returns[returns["处理结果"].isin(["已合并", "已替换"])].groupby(["支部编号", "周次"]).size()
        open_flags = flags[flags["本周变化"] != "已消除"]
        levels = open_flags.groupby(["所在支部", "级别"]).size().unstack(fill_value=0)
        table = pd.DataFrame({
            "党员数": per_member.groupby("支部编号").size(), "人均学时": per_member.groupby("支部编号")["学时"].mean(),
            "出勤率": rates["出席"] / (rates["出席"] + rates["缺席"]),
            "累计周报表": received.groupby("支部编号").size()}).reset_index()
        names = sheets["党支部"].set_index("支部编号")["支部名称"]
        table = table.join(levels, on=table["支部编号"].map(names)).assign(学院=path.stem)
        branches.append(table)
        colleges.append({"学院": path.stem, "党员数": len(members), "出勤率": rates["出席"].sum() / rates.sum().sum(),
                         "周报表": int(received.sum()), "进度提醒": len(open_flags)})
    with pd.ExcelWriter(out) as writer:
        pd.DataFrame(colleges).to_excel(writer, sheet_name="各学院", index=False)
        pd.concat(branches).to_excel(writer, sheet_name="各支部", index=False)
    return {"seconds": time.perf_counter() - started}


def job_command(paths: list[Path], out: Path) -> dict:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "branchbook", "rollup", str(out), *map(str, paths)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr + run.stdout
    return {"seconds": time.perf_counter() - started}


JOBS = {"rollup": job_rollup, "naive": job_naive, "command": job_command}


def _child(job: str, colleges: int, members: int, out: Path) -> dict:
    """A job in a process of its own: its time and its peak RSS."""
    run = subprocess.run([sys.executable, __file__, "--job", job, "--colleges", str(colleges), "--members",
                          str(members), "--out", str(out)], capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"{job} failed:\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--colleges", type=int, default=40)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--job", choices=list(JOBS))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "rollup")
    args = parser.parse_args()
    if args.job:
        args.out.mkdir(parents=True, exist_ok=True)
        figures = JOBS[args.job](masters(args.colleges, args.members), args.out / f"{args.job}.xlsx")
        # The largest process of the job: itself, or a child (rollup reads each master in a child process).
        figures["peak_mb"] = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF,
                                                                                 resource.RUSAGE_CHILDREN)) / 1024
        print(json.dumps(figures))
        return
    load = os.getloadavg()
    started = time.perf_counter()
    paths = masters(args.colleges, args.members)
    print(f"{len(paths)} masters ready in {time.perf_counter() - started:.1f} s "
          f"({sum(p.stat().st_size for p in paths) / 2**20:.1f} MB)")
    from openpyxl import load_workbook

    rows = 0
    for path in paths[:1]:
        book = load_workbook(path, read_only=True)
        rows = book["出勤"].max_row - 1
        book.close()
    print(f"attendance rows: about {rows * len(paths):,} ({rows:,} in the first master)")
    results = {job: _child(job, args.colleges, args.members, args.out) for job in JOBS}
    ratio = results["naive"]["seconds"] / results["rollup"]["seconds"]
    print(f"load average at the start: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}; at the end: "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    print("| job | colleges | members | time | peak memory |")
    print("|---|---|---|---|---|")
    for job, figures in results.items():
        print(f"| {job} | {args.colleges} | {args.members:,} | {figures['seconds']:.2f} s | {figures['peak_mb']:.0f} MB |")
    print(f"naive / rollup: {ratio:.1f}x (target >= 10x); rollup {results['rollup']['seconds']:.2f} s "
          f"(target < 30 s at 40 colleges, 20,000 members)")


if __name__ == "__main__":
    main()
