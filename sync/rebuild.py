"""`branchbook rebuild`: the master again from its base data and the archived returns.

Base data (phases, committee, branches, members, and rows the office typed itself) is taken from
the newest readable copy of the master, the master first, then the backups; every merged row is
replayed from archive/, so a lost or damaged master loses nothing that came in by return.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from ..workbook.flags import compute_flags, flag_rows
from ..workbook.home import Home
from ..workbook.intake import load_submission
from ..workbook.master import read_master
from ..workbook.merge import MERGED_SHEETS, merge
from .master_store import MasterStore
from .pipeline import painters


def _base_tables(home: Home) -> dict[str, list[dict]]:
    candidates = [home.master, *sorted(home.folder("backups").glob("*.xlsx"), reverse=True)]
    for path in candidates:
        try:
            tables = read_master(path)
        except Exception:  # noqa: BLE001 - a damaged copy: try the next one
            continue
        if tables.get("members"):
            for key in MERGED_SHEETS:
                tables[key] = [r for r in tables.get(key, []) if "@" not in str(r.get("source_return") or "")]
            tables["returns"] = [r for r in tables.get("returns", []) if not r.get("sha256")]
            tables["flags"] = []
            return tables
    raise FileNotFoundError("台账及其备份都无法读取，无法重建。")


def archived(home: Home) -> list[tuple[Path, dict]]:
    items = []
    for path in sorted(home.folder("archive").glob("*")):
        if path.suffix == ".json" or not path.is_file():
            continue
        sidecar = path.with_name(path.name + ".json")
        meta = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}
        items.append((path, meta))
    return items


def rebuild(home: Home) -> dict[str, list[dict]]:
    tables = _base_tables(home)
    submissions = []
    for path, meta in archived(home):
        received = meta.get("received_at")
        submissions.append(load_submission(
            path, tables, file_name=meta.get("file_name") or path.name.split("__", 1)[-1], sender=meta.get("sender"),
            received_at=datetime.fromisoformat(received) if received else None, lang=home.lang))
    merged, _ = merge(tables, submissions)
    flags = compute_flags(merged, home.as_of)
    merged["flags"] = flag_rows(flags)
    MasterStore(home).write(merged, painters=painters(home, flags))
    return merged
