"""The master's writer reuses the XML of rows unchanged since its last write (workbook/body_cache.py):
a master written so must equal one written whole from the same ledger, part by part and cell by cell,
after new rows, a resubmission (rows deleted in the middle), an office edit and a ledger from elsewhere."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from master_compare import assert_same_master
from openpyxl import load_workbook
from sync_helpers import filled_returns, pinned_home

from branchbook.sync import export as export_module
from branchbook.sync.export import export_master
from branchbook.sync.pipeline import Incoming, process
from branchbook.workbook import body_cache, master
from branchbook.workbook.books import open_ledger
from branchbook.workbook.home import Home
from branchbook.workbook.master import write_master
from branchbook.workbook.xlsx_zip import FastDeflateZip


@pytest.fixture
def small_thresholds(monkeypatch):
    """The demo college is small: cache its sheets from 50 rows, with a checkpoint every 100 rows or so, and
    put text in shared strings from 200 rows (as a university's big sheets do), so that both kinds of body
    are reused."""
    monkeypatch.setattr(body_cache, "CACHE_ROWS", 50)
    monkeypatch.setattr(master, "_PARTS_PER_WRITE", 500)
    monkeypatch.setattr(export_module, "CACHE_ROWS", 50)
    monkeypatch.setattr(master, "SHARED_TEXT_ROWS", 200)


@pytest.fixture
def spy(monkeypatch):
    """The BodyCache of each export, to see what it reused."""
    made: list[body_cache.BodyCache] = []
    original = export_module.body_cache

    def recording(*args):
        cache = original(*args)
        made.append(cache)
        return cache

    monkeypatch.setattr(export_module, "body_cache", recording)
    return made


def _merge(home: Home, paths: list[Path]) -> None:
    items = []
    for path in paths:
        target = home.folder("inbox") / path.name
        shutil.copyfile(path, target)
        items.append(Incoming(target))
    result = process(home, items)
    assert result.written and all(o.result in ("merged", "replaced") for o in result.outcomes), result.outcomes


def test_a_master_from_cached_rows_equals_one_written_whole(fresh_demo, tmp_path, small_thresholds, spy):
    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        assert export_master(home, ledger).written  # the first write keeps the bodies
    assert spy[-1].reused == {}
    week3 = filled_returns(home, tmp_path / "w3", weeks=(3,))
    _merge(home, week3[:4])  # new rows at the end of attendance
    reused = spy[-1].reused
    assert reused.get("attendance", 0) >= 50 and reused.get("members") == 300, reused
    with open_ledger(home) as ledger:
        attendance = ledger.count("attendance")
    assert reused["attendance"] < attendance  # the new rows were written, not taken from the cache
    assert_same_master(home, tmp_path / "after-new-rows")

    # The same returns again, changed: their earlier rows are deleted from the middle of the sheets.
    again = filled_returns(home, tmp_path / "w3-again", weeks=(3,))
    _merge(home, again[:2])
    assert_same_master(home, tmp_path / "after-resubmission")


def test_rows_changed_in_the_middle_are_not_taken_from_the_cache(fresh_demo, tmp_path, small_thresholds, spy):
    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        export_master(home, ledger)
        rows = ledger.rows("attendance", with_row=True)
        middle = rows[len(rows) // 2]
        with ledger.transaction():  # as an office edit is applied: an update of one stored row
            ledger.update("attendance", middle["_row"], {**middle, "hours": 7.5})
        assert ledger.changed_from() == {"attendance": middle["_row"]}
        assert export_master(home, ledger).written
        assert ledger.changed_from() == {}  # counted again from the master just written
    assert 0 < spy[-1].reused["attendance"] < len(rows) // 2 + 1  # only rows below the edit came from the cache
    assert_same_master(home, tmp_path / "after-edit")
    sheet = load_workbook(home.master)["出勤"]
    column = [c.value for c in sheet[1]].index("计入学时")
    assert [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)].count(7.5) >= 1


def test_a_ledger_from_elsewhere_reuses_nothing(fresh_demo, tmp_path, small_thresholds, spy):
    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        export_master(home, ledger)
        saved = ledger.get_meta(body_cache.TOKEN)
        with ledger.transaction():  # as a restored backup or a rebuilt ledger: another token
            ledger.set_meta(body_cache.TOKEN, "another")
        export_master(home, ledger)
    assert saved and spy[-1].reused == {}
    assert_same_master(home, tmp_path / "elsewhere")


def test_the_master_is_deflated_by_isal_and_reads_back(tmp_path):
    before = FastDeflateZip.used
    write_master(tmp_path / "m.xlsx", {"members": [{"member_id": "M1", "name": "甲"}]})
    assert FastDeflateZip.used > before
    with zipfile.ZipFile(tmp_path / "m.xlsx") as archive:
        assert archive.testzip() is None
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
    assert load_workbook(tmp_path / "m.xlsx")["党员"]["A2"].value == "M1"


def test_a_cache_that_cannot_be_kept_costs_nothing_but_time(fresh_demo, tmp_path, small_thresholds, spy):
    home = pinned_home(fresh_demo)
    folder = home.root / ".branchbook" / body_cache.FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_text("in the way")  # the cache's folder cannot be made
    with open_ledger(home) as ledger:
        assert export_master(home, ledger).written
        assert export_master(home, ledger).written
    assert spy[-1].reused == {} and folder.read_text() == "in the way"  # nothing kept, nothing reused
    assert_same_master(home, tmp_path / "no-cache")
