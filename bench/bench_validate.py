"""Validation speed at college and university scale, beside a naive baseline in the same run.

Baseline: what a user would script by hand, pandas.read_excel of every sheet (no checks at all).
Run: .venv/bin/python bench/bench_validate.py [college|university ...]
"""
from __future__ import annotations

import sys
import time

import pandas as pd
from scale import master_at

from branchbook.workbook.validation import validate_path


def timed(func) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def main(scales: list[str]) -> None:
    print(f"{'scale':<11}{'rows':>10}{'branchbook validate':>22}{'pandas read_excel':>20}{'ratio':>8}")
    for scale in scales:
        path = master_at(scale)
        ours, report = timed(lambda path=path: validate_path(path))
        naive, _ = timed(lambda path=path: pd.read_excel(path, sheet_name=None, engine="openpyxl"))
        rows = sum(report.stats.values())
        for finding in report.findings[:5]:
            print("   finding:", finding.message())
        print(f"{scale:<11}{rows:>10,}{ours:>20.2f} s{naive:>18.2f} s{ours / naive:>8.2f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["college", "university"])
