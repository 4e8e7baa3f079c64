"""Masters at college and university scale for the benchmarks (deterministic)."""
from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import yaml
from branchbook.workbook.demo_college import COMMITTEE, PHASES, demo_tables
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
