"""The running service keeps the records it last wrote the master from, and its next export brings them up to
date (Ledger.tables_since) instead of reading the ledger whole (sync/export.py KeptRecords; docs/design.md,
"Writing the master"). The real service, with the real watchdog observer and the rescan off: each master it
writes so must equal, part by part, one written whole from the ledger; a master written meanwhile by another
process (`branchbook merge`, with an office edit it took in) must make it read whole."""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from master_compare import assert_same_master
from openpyxl import load_workbook
from returns_factory import set_saved_time
from sync_helpers import filled_returns, inbox_names, master_current, pinned_home, wait_until

from branchbook.demo.fill import Secretary, fill_return
from branchbook.sync import service as service_module
from branchbook.sync.export import KeptRecords, export_master
from branchbook.sync.service import SyncService
from branchbook.workbook import body_cache
from branchbook.workbook.books import open_ledger
from branchbook.workbook.home import Home
from branchbook.workbook.ledger import Ledger
from branchbook.workbook.master import read_master
from branchbook.workbook.office import make_returns


@pytest.fixture(scope="module")
def returns(demo_home, tmp_path_factory):
    """Week 3 of three branches (the first burst), week 4 of the same (the second), week 3 of a fourth (merged
    by `branchbook merge` in between), and B02's week 3 again, saved later and filled otherwise (a resubmission:
    its earlier rows are deleted from the middle of the sheets)."""
    folder = tmp_path_factory.mktemp("kept-returns")
    first = [set_saved_time(path, datetime(2005, 3, 27, 9)) for path in
             filled_returns(demo_home, folder / "w3", weeks=(3,), branch_ids=["B01", "B02", "B03"])]
    second = filled_returns(demo_home, folder / "w4", weeks=(4,), branch_ids=["B01", "B02", "B03"])
    other = filled_returns(demo_home, folder / "other", weeks=(3,), branch_ids=["B04"])
    again = folder / "again" / first[1].name
    again.parent.mkdir()
    shutil.copyfile(make_returns(demo_home, 3, ["B02"])["B02"], again)
    fill_return(again, Secretary(), seed=4242)
    set_saved_time(again, datetime(2005, 3, 28, 9))
    return first, second, other, again


class Exports:
    """What each of the service's exports read from the ledger: every Ledger.rows call made inside it (sheet,
    WHERE, columns asked, records returned)."""

    def __init__(self):
        self.reads: list[list[tuple]] = []
        self._current: list[tuple] | None = None

    def records_read(self, first: int, tracked: set[str], last: int | None = None) -> dict[str, int]:
        """How many whole records of each tracked sheet the exports from `first` on (to `last`, not included) read,
        together (a sheet they read none of is left out). A burst may come in more than one batch, each with its
        export, when the machine is slow."""
        out: dict[str, int] = {}
        for reads in self.reads[first:last]:
            for key, _, columns, count in reads:
                if key in tracked and columns is None and count:
                    out[key] = out.get(key, 0) + count
        return out

    def exporting(self) -> bool:
        return self._current is not None


@pytest.fixture
def exports(monkeypatch):
    seen = Exports()
    rows, export = Ledger.rows, service_module.export_master

    def counted_rows(self, key, where="", params=(), with_row=False, columns=None, ids=None):
        found = rows(self, key, where, params, with_row, columns, ids)
        if seen._current is not None:
            seen._current.append((key, where, None if columns is None else tuple(columns), len(found)))
        return found

    def counted_export(*args, **kwargs):
        seen._current = []
        try:
            return export(*args, **kwargs)
        finally:
            seen.reads.append(seen._current)
            seen._current = None

    monkeypatch.setattr(Ledger, "rows", counted_rows)
    monkeypatch.setattr(service_module, "export_master", counted_export)
    return seen


def _served(fresh_demo, **sync) -> Home:
    """HOME with fast settings on disk (a command run on it agrees) and, for the service, the rescan out of reach
    (events alone bring files in) and the master looked at only when an export is due."""
    home = pinned_home(fresh_demo)
    settings = {**home.config["sync"], "rescan_seconds": 600, "master_check_seconds": 600, **sync}
    return Home(home.root, {**home.config, "sync": settings})


def _drop(home: Home, paths: list[Path]) -> None:
    for path in paths:
        shutil.copyfile(path, home.folder("inbox") / path.name)


def _settled(home: Home, exports: Exports, before: int) -> int:
    """Wait until the inbox is empty and the master written after the `before` exports so far: how many then."""
    wait_until(lambda: not inbox_names(home), 90, "the inbox to empty")
    wait_until(lambda: len(exports.reads) > before and not exports.exporting() and master_current(home), 90,
               "the master to be written")
    return len(exports.reads)


def _counts(home: Home) -> dict[str, int]:
    with open_ledger(home) as ledger:
        return {key: ledger.count(key) for key in ledger.tracked}


def _tracked(home: Home) -> set[str]:
    with open_ledger(home) as ledger:
        return set(ledger.tracked)


def _middle_selfstudy(home: Home) -> dict:
    with open_ledger(home) as ledger:
        rows = ledger.rows("selfstudy")
    return rows[len(rows) // 2]


def _edit_hours(home: Home, row: dict, hours) -> dict:
    """The office changes the hours of a self-study row in 自学 and saves the master (openpyxl standing in for
    Excel)."""
    book = load_workbook(home.master)
    sheet = book["自学"]
    header = [c.value for c in sheet[1]]
    for cells in sheet.iter_rows(min_row=2):
        if cells[header.index("党员编号")].value == row["member_id"] and \
                cells[header.index("来源周报表")].value == row["source_return"]:
            cells[header.index("学时")].value = hours
            break
    else:
        raise AssertionError(f"no row {row} in 自学")
    book.save(home.master)
    return row


@contextmanager
def _first_burst_served(fresh_demo, first: list[Path], exports: Exports,
                        **sync) -> Iterator[tuple[Home, SyncService, int]]:
    """The service running on HOME (_served), its first burst merged and the master written from it; with how
    many exports that took."""
    home = _served(fresh_demo, **sync)
    service = SyncService(home)
    service.start()
    try:
        _drop(home, first)
        yield home, service, _settled(home, exports, 0)
    finally:
        service.stop()


def _hours_in_master(home: Home, row: dict) -> list:
    return [r["hours"] for r in read_master(home.master)["selfstudy"]
            if r["member_id"] == row["member_id"] and r["source_return"] == row["source_return"]]


def test_the_second_burst_reads_only_the_rows_it_added(fresh_demo, tmp_path, returns, exports):
    first, second, _, _ = returns
    start = _counts(fresh_demo)["attendance"]
    with _first_burst_served(fresh_demo, first, exports) as (home, service, burst):
        tracked = _tracked(home)
        before = _counts(home)
        assert exports.records_read(0, tracked, 1)["attendance"] >= start  # nothing kept yet: every row there was
        assert service.kept.records is not None
        _drop(home, second)
        _settled(home, exports, burst)
        after = _counts(home)
    added = {key: after[key] - before[key] for key in tracked if after[key] != before[key]}
    assert added.get("attendance", 0) > 0 and exports.records_read(burst, tracked) == added  # what it added, no more
    assert_same_master(home, tmp_path / "whole")


def test_a_master_written_by_a_merge_in_between_makes_the_service_read_whole(fresh_demo, tmp_path, returns, exports):
    """`branchbook merge` (another process) takes in an office edit and writes the master between two bursts:
    the records the service kept are no longer the master's, and changed_from no longer counts from them."""
    first, second, other, _ = returns
    with _first_burst_served(fresh_demo, first, exports) as (home, service, burst):
        tracked = _tracked(home)
        edited = _edit_hours(home, _middle_selfstudy(home), 11.5)
        merging = Path(shutil.copyfile(other[0], tmp_path / other[0].name))  # the merge files it away
        merge = subprocess.run([sys.executable, "-m", "branchbook", "merge", str(home.root), str(merging)],
                               capture_output=True, text=True, timeout=300)
        assert merge.returncode == 0, merge.stdout + merge.stderr
        assert _hours_in_master(home, edited) == [11.5]  # the merge took the edit in and wrote the master
        merged = _counts(home)["attendance"]
        _drop(home, second)
        _settled(home, exports, burst)
    assert exports.records_read(burst, tracked, burst + 1)["attendance"] > merged  # read whole: nothing reused
    assert _hours_in_master(home, edited) == [11.5]
    merged = read_master(home.master)["attendance"]
    assert any(str(r["source_return"]).startswith("B04-W03@") for r in merged)  # the merge's rows
    assert any(str(r["source_return"]).startswith("B01-W04@") for r in merged)  # the second burst's
    assert_same_master(home, tmp_path / "whole")


def test_an_office_edit_between_bursts_shows_in_the_next_master(fresh_demo, tmp_path, returns, exports):
    """The service itself takes the edit in: its kept records are brought up to date from the edited row on."""
    first, second, _, _ = returns
    with _first_burst_served(fresh_demo, first, exports) as (home, service, burst):
        tracked = _tracked(home)
        before = _counts(home)
        edited = _edit_hours(home, _middle_selfstudy(home), 11.5)
        _drop(home, second)
        _settled(home, exports, burst)
    after = _counts(home)
    added = {key: after[key] - before[key] for key in tracked if after[key] != before[key]}
    read = exports.records_read(burst, tracked)
    # The kept records were brought up to date: self-study from the edited row on, elsewhere what was added.
    assert added["selfstudy"] < read.pop("selfstudy") < after["selfstudy"]
    assert read == {key: count for key, count in added.items() if key != "selfstudy"}
    assert _hours_in_master(home, edited) == [11.5]
    assert_same_master(home, tmp_path / "whole")


def test_after_a_refused_export_the_kept_records_are_still_right(fresh_demo, tmp_path, returns, exports):
    """An office edit that breaks the schema stops the master (its edits refused, the file left alone) while the
    ledger takes a burst that deletes rows in the middle (a week resubmitted): changed_from goes on counting
    from the last write, which is the one the kept records are of, so once the office fixes its edit the next
    master is brought up to date from them, and is right."""
    first, second, _, again = returns
    with _first_burst_served(fresh_demo, first, exports, master_check_seconds=0.5) as (home, service, burst):
        tracked = _tracked(home)
        kept = service.kept.token
        edited = _edit_hours(home, _middle_selfstudy(home), "很多")
        _drop(home, [again, *second])
        wait_until(lambda: not inbox_names(home), 90, "the inbox to empty")
        wait_until(lambda: len(exports.reads) > burst, 60, "the refused export")
        assert service.kept.token == kept and not master_current(home)
        _edit_hours(home, edited, 4.5)
        _settled(home, exports, len(exports.reads))
    attendance = _counts(home)["attendance"]
    assert all(exports.records_read(n, tracked, n + 1).get("attendance", 0) < attendance / 2  # reused each time
               for n in range(burst, len(exports.reads)))
    assert _hours_in_master(home, edited) == [4.5]
    results = [r["result"] for r in read_master(home.master)["returns"] if r.get("file_name") == again.name]
    assert sorted(results) == ["merged", "replaced"]  # the resubmission's rows took the place of the first's
    assert_same_master(home, tmp_path / "whole")


def test_a_write_whose_body_cache_was_not_kept_keeps_no_records(fresh_demo, monkeypatch):
    """Without a token (the body cache could not be kept), a master written by another writer that also failed
    would leave the same None: nothing is kept, and the next export reads whole."""
    home = pinned_home(fresh_demo)
    kept = KeptRecords()
    with open_ledger(home) as ledger:
        assert export_master(home, ledger, kept=kept).written and kept.records is not None
        monkeypatch.setattr(body_cache.BodyCache, "commit", lambda self: None)
        assert export_master(home, ledger, kept=kept).written
        assert ledger.get_meta(body_cache.TOKEN) is None and kept.records is None


def test_above_the_budget_nothing_is_kept(fresh_demo):
    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        rows = sum(ledger.count(key) for key in ledger.tracked)
        small, enough = KeptRecords(budget=rows - 1), KeptRecords(budget=rows)
        export_master(home, ledger, kept=small)
        export_master(home, ledger, kept=enough)
        assert small.records is None and enough.records is not None
