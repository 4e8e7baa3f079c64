"""Merging one return, and a batch of 50, into a master at college and university scale,
beside the naive way a user would script it (pandas read_excel + concat + drop_duplicates +
to_excel) in the same run. Both produce a complete master file; only ours validates.

Run: .venv/bin/python bench/bench_merge.py [college|university ...]
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from branchbook.sync.pipeline import Incoming, process
from branchbook.workbook.demo_fill import Secretary, fill_return
from branchbook.workbook.master import read_master
from branchbook.workbook.office import make_returns
from scale import home_at

BATCH = 50


def make_batch(home, folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    branch_ids = [b["branch_id"] for b in read_master(home.master)["branches"]]
    made: list[Path] = []
    week = 3
    while len(made) < count:
        wanted = branch_ids[: count - len(made)]
        for template in make_returns(home, week, wanted).values():
            target = folder / f"{week}-{template.name}"
            shutil.copyfile(template, target)
            fill_return(target, Secretary(), seed=len(made))
            made.append(target)
        week += 1
    return made


def ours(home, returns: list[Path]) -> float:
    inbox = [home.folder("inbox") / p.name for p in returns]
    for source, target in zip(returns, inbox):
        shutil.copyfile(source, target)
    start = time.perf_counter()
    result = process(home, [Incoming(p) for p in inbox])
    elapsed = time.perf_counter() - start
    assert result.written and all(o.result == "merged" for o in result.outcomes), [o.problems for o in result.outcomes]
    return elapsed


def naive(master: Path, returns: list[Path], out: Path) -> float:
    start = time.perf_counter()
    sheets = pd.read_excel(master, sheet_name=None, engine="openpyxl")  # pandas' default engine for xlsx
    for path in returns:
        ret = pd.read_excel(path, sheet_name=None, engine="openpyxl")
        grid = ret["出勤"].melt(id_vars=["党员编号", "姓名"], var_name="活动序号", value_name="状态").dropna()
        grid = grid.rename(columns={"活动序号": "活动编号"})[["活动编号", "党员编号", "状态"]]
        sheets["出勤"] = pd.concat([sheets["出勤"], grid]).drop_duplicates(subset=["活动编号", "党员编号"], keep="last")
        for name in ("自学", "笔记检查", "征求意见"):
            sheets[name] = pd.concat([sheets[name], ret[name]]).drop_duplicates()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return time.perf_counter() - start


def main(scales: list[str]) -> None:
    print(f"{'scale':<11}{'returns':>8}{'branchbook merge':>19}{'naive pandas':>15}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for scale in scales:
            batch = make_batch(home_at(scale, scratch), scratch / f"returns-{scale}", BATCH)
            for count in (1, BATCH):
                home = home_at(scale, scratch)
                ours_seconds = ours(home, batch[:count])
                naive_seconds = naive(home_at(scale, scratch).master, batch[:count], scratch / "naive.xlsx")
                print(f"{scale:<11}{count:>8}{ours_seconds:>17.2f} s{naive_seconds:>13.2f} s"
                      f"{ours_seconds / naive_seconds:>8.2f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["college", "university"])
