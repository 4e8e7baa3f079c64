"""A service killed at any point of a merge loses nothing and merges nothing twice; rebuild
replays the journal and archive/ into the same ledger."""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sync_helpers import FAST_SYNC, archived_names, filled_returns, inbox_names, kill_at, master_current, wait_until

from branchbook.cli import main
from branchbook.sync.master_store import temp_path
from branchbook.sync.writer import writing
from branchbook.workbook.books import ledger_path, open_ledger
from branchbook.workbook.home import CONFIG_NAME, Home
from branchbook.workbook.master import read_master
from branchbook.workbook.validation import validate_path

VOLATILE = {"merged_at"}  # when a pass ran is the only thing allowed to differ


def comparable(tables):
    out = {}
    for key, rows in tables.items():
        out[key] = sorted((tuple(sorted((k, str(v)) for k, v in row.items() if k not in VOLATILE)) for row in rows))
    return out


def ledger_tables(home):
    with open_ledger(home) as ledger:
        return ledger.tables()


def _home_copy(source: Home, target, returns) -> Home:
    shutil.copytree(source.root, target)
    config = {**source.config, "sync": FAST_SYNC, "as_of": "2005-03-30"}
    (target / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    for path in returns:
        shutil.copy2(path, target / "inbox" / path.name)
    return Home.open(target)


def _serve(home: Home, log, pause: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "BRANCHBOOK_PAUSE_AT": f"{pause}:60" if pause else ""}
    return subprocess.Popen([sys.executable, "-m", "branchbook", "serve", str(home.root)], stdout=log,
                            stderr=subprocess.STDOUT, env=env)


@pytest.fixture(scope="module")
def six_returns(demo_home, tmp_path_factory):
    return filled_returns(demo_home, tmp_path_factory.mktemp("six"), weeks=(3,), limit=6)


@pytest.fixture(scope="module")
def uninterrupted(demo_home, six_returns, tmp_path_factory):
    home = _home_copy(demo_home, tmp_path_factory.mktemp("ref") / "home", six_returns)
    assert main(["merge", str(home.root)]) == 0
    return ledger_tables(home)


def _merged_receipts(tables):
    return sum(1 for r in tables["returns"] if r.get("sha256") and r["result"] == "merged")


def test_a_writer_removes_a_killed_writers_temp_master_never_a_live_ones(fresh_demo):
    """Only the temp file of a process that has ended goes: a live process's stays, whatever it is doing."""
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    killed.send_signal(signal.SIGKILL)
    killed.wait(30)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead_temp, live_temp = temp_path(fresh_demo.master, killed.pid), temp_path(fresh_demo.master, alive.pid)
        dead_temp.write_bytes(b"")
        live_temp.write_bytes(b"")
        with writing(fresh_demo, "test"):
            assert not dead_temp.exists() and live_temp.exists()
    finally:
        alive.kill()
        alive.wait(30)


@pytest.mark.parametrize("point", ["before-commit", "after-commit", "before-replace"])
def test_sigkill_at_any_point_of_a_merge(demo_home, six_returns, uninterrupted, tmp_path, point):
    home = _home_copy(demo_home, tmp_path / "home", six_returns)
    original = home.master.read_bytes()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        killed_service = _serve(home, log, pause=point)
        kill_at(killed_service, log_path, point)
        half_written = temp_path(home.master, killed_service.pid)
        assert half_written.exists() == (point == "before-replace")
        db = sqlite3.connect(ledger_path(home))
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        killed = ledger_tables(home)
        assert _merged_receipts(killed) == (0 if point == "before-commit" else 6)  # the batch is whole or absent
        assert home.master.read_bytes() == original  # the master was never half-written
        assert validate_path(home.master).valid
        assert len(inbox_names(home)) == (0 if point == "before-replace" else 6)
        second = _serve(home, log)
        try:
            wait_until(lambda: not inbox_names(home) and master_current(home), 90, "the restarted service to catch up")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    assert not half_written.exists()  # the killed writer's new master, removed by the next writer
    tables = ledger_tables(home)
    assert comparable(tables) == comparable(uninterrupted)
    assert _merged_receipts(tables) == 6 and len(archived_names(home)) == 6
    assert comparable(read_master(home.master)) == comparable(tables)  # the face shows the ledger
    assert validate_path(home.master).valid


def _flag_history(home) -> list[tuple]:
    with open_ledger(home) as ledger:
        return ledger.db.execute("SELECT week, subject_kind, subject_id, rule, flag FROM flag_history "
                                 "ORDER BY week, subject_kind, subject_id, rule").fetchall()


def test_rebuild_restores_the_flag_history_from_its_changes(demo_home, six_returns, tmp_path):
    """A week's flags are journaled whole the first time they are kept, then only what changed (docs/design.md,
    "Flags and their history"): three returns merged, three more of the same week, then the master written a week
    later; the ledger lost, the rebuilt flag history is the same, row for row (the earlier week's from its changes:
    only the last week is computed again)."""
    home = _home_copy(demo_home, tmp_path / "home", six_returns[:3])
    assert main(["merge", str(home.root)]) == 0
    for path in six_returns[3:]:
        shutil.copy2(path, home.folder("inbox") / path.name)
    assert main(["merge", str(home.root)]) == 0
    config = {**home.config, "as_of": "2005-04-06"}
    (home.root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert main(["export", str(home.root)]) == 0
    with open_ledger(home) as ledger:
        bodies = [entry["body"] for entry in ledger.journal_of("flags")]
    changes = [body for body in bodies if "changed" in body]
    assert changes, "the second merge's export journals only its changes"
    weeks = {body["week"] for body in bodies}
    assert len(weeks) >= 2 and all(body["week"] < max(weeks) for body in changes)
    kept = _flag_history(home)
    assert all(len(body["changed"]) + len(body["gone"]) < sum(row[0] == body["week"] for row in kept)
               for body in changes)
    ledger_path(home).unlink()
    assert main(["rebuild", str(home.root)]) == 0
    assert _flag_history(home) == kept


def test_rebuild_replays_the_journal_and_archive_into_the_same_ledger(demo_home, six_returns, tmp_path, capsys):
    home = _home_copy(demo_home, tmp_path / "home", six_returns)
    assert main(["merge", str(home.root)]) == 0
    merged = ledger_tables(home)
    ledger_path(home).unlink()  # the ledger is lost
    home.master.write_bytes(b"lost")  # and the master damaged beyond reading
    assert main(["rebuild", str(home.root)]) == 0
    assert comparable(ledger_tables(home)) == comparable(merged)
    assert comparable(read_master(home.master)) == comparable(merged)
    said = capsys.readouterr()
    assert "已按日志" in said.out and "台账数据库不见了" in said.out + said.err  # lost, not "cannot be read"


def _children(pid: int) -> list[int]:
    """The processes `pid` started (Linux: /proc), still running."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a reader adopted by an init that does not reap is a zombie once it has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _merge_process(home: Home, log, pause: str) -> subprocess.Popen:
    env = {**os.environ, "BRANCHBOOK_PAUSE_AT": f"{pause}:60"}
    return subprocess.Popen([sys.executable, "-m", "branchbook", "merge", str(home.root)], stdout=log,
                            stderr=subprocess.STDOUT, env=env)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the reading children through /proc (Linux)")
def test_a_merge_killed_while_it_reads_leaves_no_reader_behind(demo_home, six_returns, tmp_path):
    """`kill -9` of `branchbook merge` while its children read the returns: the children (forked, holding copies
    of their pipes' ends, so they see no end of file) notice they were left and end (isolation.PARENT_CHECK_SECONDS)."""
    home = _home_copy(demo_home, tmp_path / "home", six_returns)
    log_path = tmp_path / "merge.log"
    with log_path.open("w") as log:
        merge = _merge_process(home, log, "while-reading")
        wait_until(lambda: "paused at while-reading" in log_path.read_text(), 90, "the merge to read")
        readers = _children(merge.pid)
        assert readers, "the returns are read by child processes"
        merge.send_signal(signal.SIGKILL)
        merge.wait(10)
    wait_until(lambda: not any(_running(pid) for pid in readers), 10, "the orphaned readers to end")
    assert len(inbox_names(home)) == 6  # nothing was committed: the next merge takes them all
    assert main(["merge", str(home.root)]) == 0
    assert not inbox_names(home) and master_current(home)


@pytest.mark.skipif(sys.platform == "win32", reason="a forked reader; Windows spawns its children")
def test_a_reader_whose_parent_died_before_it_ran_ends_too():
    """The merge killed between the fork and the child's first step: the child already belongs to another process
    as it starts, so it is given its parent's PID rather than reading it itself (a stranger's kill -9 at 0.41 s
    left one waiting for ever)."""
    import multiprocessing

    from branchbook.workbook.isolation import PARENT_CHECK_SECONDS, _serve

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    context = multiprocessing.get_context("fork")

    def reader(parent: int):
        ours, theirs = context.Pipe()
        child = context.Process(target=_serve, args=(theirs, None, parent), daemon=True)  # as _start names it
        child.start()
        theirs.close()
        return child, ours

    orphan, _ = reader(gone.pid)
    kept, connection = reader(os.getpid())  # its parent is alive: it waits for work
    orphan.join(PARENT_CHECK_SECONDS * 5)
    kept.join(PARENT_CHECK_SECONDS * 2)
    try:
        assert orphan.exitcode == 0, "the reader waited for a parent that was gone (or failed)"
        assert kept.is_alive(), "a reader whose parent lives left"
    finally:
        for child in (orphan, kept):
            if child.is_alive():
                child.kill()
    connection.close()


def test_a_merge_killed_before_the_master_is_replaced_is_finished_by_the_next_merge(demo_home, six_returns, tmp_path,
                                                                                     capsys):
    """Killed after its commit and before the new master replaced the old one: the returns are in the ledger and
    filed, the master is the old one. The next `merge`, with nothing in the inbox, writes the master again."""
    home = _home_copy(demo_home, tmp_path / "home", six_returns)
    log_path = tmp_path / "merge.log"
    with log_path.open("w") as log:
        merge = _merge_process(home, log, "before-replace")
        kill_at(merge, log_path, "before-replace")
    assert not inbox_names(home) and not master_current(home)
    half_written = temp_path(home.master, merge.pid)
    assert half_written.exists()
    capsys.readouterr()
    assert main(["merge", str(home.root)]) == 0
    out = capsys.readouterr().out
    assert "inbox 中没有待合并的周报表" in out and "已按数据库重新写出" in out
    assert master_current(home) and not half_written.exists()
    merged = {r["branch_id"] for r in read_master(home.master)["returns"] if r.get("result") == "merged" and r["week"] == 3}
    assert len(merged) >= 6


def test_rebuild_keeps_the_order_of_the_receipts_of_the_whole_campaign(fresh_demo_run):
    """The demo's week 13 came in one batch with two returns sent back: their receipts stand among the others in the
    order the merge gave (filled time, then arrival), and a rebuild puts them back there, not after all the
    merged ones (the stranger's rebuilt 周报 had them moved)."""
    home = fresh_demo_run().home
    before = [(r["receipt_id"], r["result"]) for r in ledger_tables(home)["returns"]]
    assert "rejected" in {result for _, result in before}
    ledger_path(home).unlink()
    assert main(["rebuild", str(home.root)]) == 0
    assert [(r["receipt_id"], r["result"]) for r in ledger_tables(home)["returns"]] == before
    assert [r["receipt_id"] for r in read_master(home.master)["returns"]] == [receipt for receipt, _ in before]
