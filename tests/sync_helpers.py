"""Helpers for tests of the real service on real folders."""
from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from branchbook.demo.fill import Secretary, fill_return
from branchbook.workbook.home import Home
from branchbook.workbook.office import make_returns

FAST_SYNC = {"poll_seconds": 0.2, "stable_polls": 2, "rescan_seconds": 30.0, "debounce_seconds": 0.5, "stall_seconds": 3.0,
             "backups_kept": 5}


def fast_home(home: Home) -> Home:
    return Home(home.root, {**home.config, "sync": FAST_SYNC, "as_of": "2005-03-30"})


def pinned_home(home: Home) -> Home:
    """fast_home's settings written into HOME's config, so that commands run on it agree."""
    import yaml

    from branchbook.workbook.home import CONFIG_NAME

    config = {**home.config, "sync": FAST_SYNC, "as_of": "2005-03-30"}
    (home.root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return Home.open(home.root)


def wait_until(predicate, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def kill_at(process: subprocess.Popen, log: Path, point: str, timeout: float = 90) -> None:
    """SIGKILL `process` once it says it waits at `point` (BRANCHBOOK_PAUSE_AT, sync/pause.py), as a power cut would."""
    try:
        wait_until(lambda: f"paused at {point}" in log.read_text(), timeout, f"the process to reach {point}")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()


def write_soon(path: Path, data: bytes, chunks: int = 1, pause: float = 0.0) -> threading.Thread:
    """Write `data` to `path` from another thread, in chunks with pauses, as a slow copy would."""
    def run():
        size = -(-len(data) // chunks)
        with path.open("wb") as handle:
            for start in range(0, len(data), size):
                handle.write(data[start:start + size])
                handle.flush()
                time.sleep(pause)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def filled_returns(home: Home, folder: Path, weeks, branch_ids=None, limit: int | None = None) -> list[Path]:
    """Filled returns for the given weeks, made in `folder` (not the inbox)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for week in weeks:
        for branch_id, template in make_returns(home, week, branch_ids).items():
            target = folder / template.name
            shutil.copyfile(template, target)
            fill_return(target, Secretary(), seed=week * 31 + int(branch_id[1:]))
            made.append(target)
            if limit and len(made) >= limit:
                return made
    return made


def inbox_names(home: Home) -> list[str]:
    return sorted(p.name for p in home.folder("inbox").iterdir() if p.is_file())


def archived_names(home: Home) -> list[str]:
    return sorted(p.name.split("__", 1)[1] for p in home.folder("archive").glob("*.xlsx"))


def master_current(home: Home) -> bool:
    """The master shows everything the ledger holds (its export has caught up)."""
    from branchbook.sync.export import needs_export
    from branchbook.workbook.books import open_ledger

    with open_ledger(home) as ledger:
        return not needs_export(home, ledger)


def settled(home: Home, timeout: float = 90) -> None:
    """The inbox is empty and the master written from the ledger."""
    wait_until(lambda: not inbox_names(home), timeout, "the inbox to empty")
    wait_until(lambda: master_current(home), timeout, "the master to be written")
