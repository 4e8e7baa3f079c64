"""A service killed mid-merge loses nothing and merges nothing twice; rebuild reproduces the master."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml
from branchbook.workbook.home import CONFIG_NAME, Home
from branchbook.workbook.master import read_master
from branchbook.workbook.validation import validate_path
from sync_helpers import FAST_SYNC, archived_names, filled_returns, inbox_names, wait_until

from branchbook.cli import main

VOLATILE = {"merged_at"}  # when a pass ran is the only thing allowed to differ


def _comparable(tables):
    out = {}
    for key, rows in tables.items():
        out[key] = sorted((tuple(sorted((k, str(v)) for k, v in row.items() if k not in VOLATILE)) for row in rows))
    return out


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
    return read_master(home.master)


@pytest.mark.parametrize("point", ["before-replace", "after-replace"])
def test_sigkill_in_the_middle_of_a_merge(demo_home, six_returns, uninterrupted, tmp_path, point):
    home = _home_copy(demo_home, tmp_path / "home", six_returns)
    original = home.master.read_bytes()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        first = _serve(home, log, pause=point)
        try:
            wait_until(lambda: f"paused at {point}" in log_path.read_text(), 90, f"the service to reach {point}")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        assert validate_path(home.master).valid
        if point == "before-replace":
            assert home.master.read_bytes() == original
        assert len(inbox_names(home)) == 6  # nothing was filed away before the kill
        second = _serve(home, log)
        try:
            wait_until(lambda: not inbox_names(home), 90, "the restarted service to empty the inbox")
            time.sleep(0.5)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    tables = read_master(home.master)
    assert validate_path(home.master).valid
    assert _comparable(tables) == _comparable(uninterrupted)
    assert len(archived_names(home)) == 6
    assert sum(1 for r in tables["returns"] if r.get("sha256") and r["result"] == "merged") == 6


def test_rebuild_reproduces_the_master_from_the_archive(demo_home, six_returns, uninterrupted, tmp_path):
    home = _home_copy(demo_home, tmp_path / "home", six_returns)
    assert main(["merge", str(home.root)]) == 0
    merged = read_master(home.master)
    home.master.write_bytes(b"lost")  # the master is damaged beyond reading
    assert main(["rebuild", str(home.root)]) == 0
    assert _comparable(read_master(home.master)) == _comparable(merged)
