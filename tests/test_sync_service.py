"""The service with the real watchdog observer on real folders."""
from __future__ import annotations

import json
import re
import shutil
from datetime import datetime

import pytest
from returns_factory import edit, filled_return, set_saved_time
from sync_helpers import archived_names, fast_home, filled_returns, inbox_names, settled, wait_until, write_soon
from unreadable import make_unreadable

from branchbook.sync.service import AlreadyRunning, SyncService
from branchbook.workbook.calendar import Campaign
from branchbook.workbook.home import Home
from branchbook.workbook.master import read_master
from branchbook.workbook.validation import validate_path


@pytest.fixture
def running(fresh_demo):
    home = fast_home(fresh_demo)
    service = SyncService(home)
    service.start()
    yield home, service
    service.stop()


def _receipts(home):
    return read_master(home.master)["returns"]


def _settled(home):
    settled(home)


def test_fifty_returns_dropped_at_once_are_all_merged_once(fresh_demo, tmp_path):
    home = fast_home(fresh_demo)
    made = filled_returns(home, tmp_path / "made", weeks=range(3, 9), limit=50)
    assert len(made) == 50
    service = SyncService(home)
    service.start()
    try:
        for path in made:
            shutil.copyfile(path, home.folder("inbox") / path.name)
        _settled(home)
        wait_until(lambda: service.batches >= 1, 30, "a batch")
    finally:
        service.stop()
    assert len(archived_names(home)) == 50 and not list(home.folder("rejected").iterdir())
    tables = read_master(home.master)
    merged = [r for r in tables["returns"] if r["result"] == "merged" and r.get("sha256")]
    assert len(merged) == 50
    keys = [(r["session_id"], r["member_id"]) for r in tables["attendance"]]
    assert len(keys) == len(set(keys))
    from_returns = [r for r in tables["attendance"] if "@" in str(r["source_return"])]
    campaign = Campaign.from_records(tables["phases"])

    def on_roster(member: dict, week: int) -> bool:  # the demo's late joiners are on no roster before they join
        first, last = campaign.week_range(week)
        joined, left = (value.date() if isinstance(value, datetime) else value
                        for value in (member.get("joined"), member.get("left")))
        return (joined is None or joined <= last) and (left is None or left > first)

    expected = sum(2 * sum(m["branch_id"] == r["branch_id"] and on_roster(m, int(r["week"])) for m in tables["members"])
                   for r in merged)  # two sessions a week each
    assert len(from_returns) == expected
    assert validate_path(home.master).valid


def test_the_same_file_dropped_twice(running, tmp_path):
    home, service = running
    path = filled_return(home, tmp_path / "院机关支部_第3周.xlsx")
    shutil.copyfile(path, home.folder("inbox") / path.name)
    _settled(home)
    before = read_master(home.master)["attendance"]
    shutil.copyfile(path, home.folder("inbox") / "院机关支部_第3周（再发一次）.xlsx")
    _settled(home)
    assert read_master(home.master)["attendance"] == before
    assert sorted(r["result"] for r in _receipts(home) if r.get("sha256")) == ["merged"]
    assert len(archived_names(home)) == 2


def test_a_resubmission_and_then_an_older_copy(running, tmp_path):
    home, service = running
    from datetime import datetime

    first = set_saved_time(filled_return(home, tmp_path / "first.xlsx"), datetime(2005, 3, 27, 9))
    shutil.copyfile(first, home.folder("inbox") / "第一次.xlsx")
    _settled(home)
    fixed = edit(filled_return(home, tmp_path / "fixed.xlsx"), lambda wb: wb["出勤"].__setitem__("C2", "请假"))
    set_saved_time(fixed, datetime(2005, 3, 28, 9))
    shutil.copyfile(fixed, home.folder("inbox") / "更正.xlsx")
    _settled(home)
    older = set_saved_time(filled_return(home, tmp_path / "older.xlsx", seed=99), datetime(2005, 3, 26, 9))
    shutil.copyfile(older, home.folder("inbox") / "旧版.xlsx")
    _settled(home)
    receipts = {r["file_name"]: r for r in _receipts(home) if r.get("sha256")}
    assert {name: r["result"] for name, r in receipts.items()} == {
        "第一次.xlsx": "replaced", "更正.xlsx": "merged", "旧版.xlsx": "superseded"}
    rows = [r for r in read_master(home.master)["attendance"] if str(r["source_return"]).startswith("B08-W03@")]
    assert len(rows) == 32
    assert {r["source_return"] for r in rows} == {f"B08-W03@{receipts['更正.xlsx']['receipt_id']}"}


def test_a_file_written_slowly_is_taken_only_when_complete(running, tmp_path):
    home, service = running
    data = filled_return(home, tmp_path / "slow.xlsx").read_bytes()
    writer = write_soon(home.folder("inbox") / "院机关支部_第3周.xlsx", data, chunks=6, pause=0.4)
    writer.join()
    _settled(home)
    assert archived_names(home) == ["院机关支部_第3周.xlsx"] and not list(home.folder("rejected").iterdir())


def test_the_status_names_a_file_still_being_copied_in(fresh_demo, tmp_path):
    """A copy stopped half-way (a slow share, a USB stick): the status says the service waits for it, and
    which file, not that it is idle; once the copy ends, the file is merged and the status says so."""
    fast = fast_home(fresh_demo)
    home = Home(fast.root, {**fast.config, "sync": {**fast.config["sync"], "stall_seconds": 60.0}})
    service = SyncService(home)
    service.start()
    try:
        _half_copy_then_the_rest(home, tmp_path)
    finally:
        service.stop()


def _half_copy_then_the_rest(home, tmp_path):
    data = filled_return(home, tmp_path / "half.xlsx").read_bytes()
    target = home.folder("inbox") / "院机关支部_第3周.xlsx"
    target.write_bytes(data[: len(data) // 2])

    def status():
        return json.loads((home.root / "status.json").read_text(encoding="utf-8"))

    waiting = wait_until(lambda: status()["state"] == "waiting" and status(), 10, "the status to wait for the copy")
    assert "院机关支部_第3周.xlsx" in waiting["message"] and "还没有传完" in waiting["message"], waiting
    with target.open("ab") as handle:
        handle.write(data[len(data) // 2:])
    _settled(home)
    assert archived_names(home) == ["院机关支部_第3周.xlsx"]
    wait_until(lambda: status()["state"] == "idle", 10, "the status to be idle again")


@pytest.mark.parametrize("kind,expected", [("not-a-workbook", "不是 Excel 工作簿"), ("corrupt-zip", "已损坏"),
                                           ("encrypted", "设置了打开密码")])
def test_unreadable_files_are_rejected_with_a_report(running, tmp_path, kind, expected):
    home, service = running
    path, _ = make_unreadable(kind, home, tmp_path)
    before = read_master(home.master)
    shutil.copyfile(path, home.folder("inbox") / path.name)
    _settled(home)
    report = home.folder("rejected") / (path.name + ".错误报告.txt")
    assert (home.folder("rejected") / path.name).read_bytes() == path.read_bytes()
    assert expected in report.read_text(encoding="utf-8")
    assert "标注" not in report.read_text(encoding="utf-8")  # no marked copy of an unreadable file is promised
    after = read_master(home.master)
    assert after["attendance"] == before["attendance"] and validate_path(home.master).valid


def test_a_non_excel_file_and_another_branchs_members(running, tmp_path):
    home, service = running
    (home.folder("inbox") / "会议纪要.docx").write_bytes(b"PK\x03\x04 not really")
    bad = edit(filled_return(home, tmp_path / "院机关支部_第3周.xlsx"), lambda wb: wb["征求意见"].__setitem__("A2", "M0001"))
    shutil.copyfile(bad, home.folder("inbox") / bad.name)
    _settled(home)
    reports = {p.name: p.read_text(encoding="utf-8") for p in home.folder("rejected").glob("*.txt")}
    assert "会议纪要.docx.错误报告.txt" in reports
    assert "属于「博士生党支部」" in reports["院机关支部_第3周.xlsx.错误报告.txt"]
    assert (home.folder("rejected") / "院机关支部_第3周.标注.xlsx").exists()
    assert validate_path(home.master).valid


def test_temp_files_are_left_alone(running, tmp_path):
    home, service = running
    for name in ("~$院机关支部_第3周.xlsx", "A1B2C3D4", "下载中.tmp"):
        (home.folder("inbox") / name).write_bytes(b"temporary")
    real = filled_return(home, tmp_path / "r.xlsx")
    shutil.copyfile(real, home.folder("inbox") / "院机关支部_第3周.xlsx")
    wait_until(lambda: archived_names(home), 60, "the real return")
    assert inbox_names(home) == ["A1B2C3D4", "~$院机关支部_第3周.xlsx", "下载中.tmp"]


def test_what_arrived_while_down_is_processed_at_start(fresh_demo, tmp_path):
    home = fast_home(fresh_demo)
    real = filled_return(home, tmp_path / "r.xlsx")
    shutil.copyfile(real, home.folder("inbox") / "院机关支部_第3周.xlsx")
    service = SyncService(home)
    service.start()
    try:
        _settled(home)
    finally:
        service.stop()
    assert archived_names(home) == ["院机关支部_第3周.xlsx"]


def test_only_one_service_per_home(running):
    home, service = running
    with pytest.raises(AlreadyRunning):
        SyncService(home).start()


def test_a_master_open_in_excel_is_left_alone_while_the_ledger_takes_the_return(running, tmp_path):
    import json

    from branchbook.workbook.books import open_ledger

    home, service = running
    owner = home.master.with_name("~$" + home.master.name)
    owner.write_bytes(b"\x00" * 165)  # what Excel leaves while it has the master open
    before = home.master.read_bytes()
    real = filled_return(home, tmp_path / "r.xlsx")
    shutil.copyfile(real, home.folder("inbox") / "院机关支部_第3周.xlsx")
    status = home.root / "status.json"
    wait_until(lambda: not inbox_names(home), 60, "the return to be taken")
    wait_until(lambda: json.loads(status.read_text(encoding="utf-8"))["state"] == "waiting", 30, "waiting status")
    assert "Excel" in json.loads(status.read_text(encoding="utf-8"))["message"]
    with open_ledger(home) as ledger:  # the return is safe in the ledger; only the master's face waits
        assert sum(r["result"] == "merged" and bool(r["sha256"]) for r in ledger.rows("returns")) == 1
    assert archived_names(home) == ["院机关支部_第3周.xlsx"] and home.master.read_bytes() == before
    owner.unlink()  # Excel closes the master
    _settled(home)
    assert sum(str(r["source_return"]).startswith("B08-W03@") for r in read_master(home.master)["attendance"]) == 32
    # The status is written after the master (a loaded machine showed it between the two, still "waiting").
    wait_until(lambda: json.loads(status.read_text(encoding="utf-8"))["state"] == "idle", 30, "idle status")


class WindowsReplaceStandIn:
    """Stands in for Windows, where os.replace fails (WinError 5) while antivirus or Excel holds the
    target: fails `times` times, then does the real replace. Linux itself never refuses."""

    def __init__(self, times):
        import os

        self.times, self.calls, self.real = times, 0, os.replace

    def __call__(self, source, target):
        self.calls += 1
        if self.calls <= self.times:
            raise PermissionError(5, "Access is denied")
        return self.real(source, target)


def test_a_briefly_held_master_is_retried_and_a_held_one_defers(fresh_demo, tmp_path, monkeypatch):
    from branchbook.sync import master_store
    from branchbook.sync.master_store import MasterBusy, MasterStore

    home = fast_home(fresh_demo)
    store = MasterStore(home)
    tables = read_master(home.master)
    brief = WindowsReplaceStandIn(times=2)
    monkeypatch.setattr(master_store.os, "replace", brief)
    store.write(tables)
    assert brief.calls == 3 and validate_path(home.master).valid
    before = home.master.read_bytes()
    held = WindowsReplaceStandIn(times=99)
    monkeypatch.setattr(master_store.os, "replace", held)
    monkeypatch.setattr(master_store.time, "sleep", lambda seconds: None)
    with pytest.raises(MasterBusy):
        store.write(tables)
    assert home.master.read_bytes() == before
    assert not list(home.root.glob(".master.writing*"))  # no half-written file left behind


def test_a_file_that_trips_a_bug_is_rejected_and_does_not_block_the_others(fresh_demo, tmp_path, monkeypatch):
    """A fault injected into the intake for one file (standing in for a bug we do not know of yet)."""
    import faulty_readers

    from branchbook.sync import reading
    from branchbook.sync.pipeline import Incoming, process

    # The reading runs in a child process: the fault is a function it can import (tests/faulty_readers.py).
    monkeypatch.setattr(reading, "read_received", faulty_readers.tripping_read)
    home = fast_home(fresh_demo)
    shutil.copyfile(filled_return(home, tmp_path / "r.xlsx"), home.folder("inbox") / "院机关支部_第3周.xlsx")
    shutil.copyfile(filled_return(home, tmp_path / "odd.xlsx", seed=5), home.folder("inbox") / "怪文件.xlsx")
    result = process(home, [Incoming.at(p) for p in sorted(home.folder("inbox").glob("*.xlsx"))])
    assert sorted(o.result for o in result.outcomes) == ["merged", "rejected"]
    report = (home.folder("rejected") / "怪文件.xlsx.错误报告.txt").read_text(encoding="utf-8")
    assert "读取程序无法识别其内容" in report and "RuntimeError" not in report


# -- the service's words: once each, in the HOME's language ----------------------------------------------------

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z']+(?:[ ,;:]+[A-Za-z][a-z']+){2,}\b")  # three English words in a row


def _serve_and_log(home, drops):
    """Run the service with its log on (configured twice over, as a CLI and an embedding host might), drop
    the files, and return what the log, status.json (each state it was given) and the rejection reports say."""
    from branchbook.sync.service import close_logging, configure_logging

    configure_logging(home)
    configure_logging(home)  # again: replaces its handlers, never adds a second copy of each line
    service = SyncService(home)
    statuses = []
    write_status = service._status

    def recorded(state, message, **extra):
        write_status(state, message, **extra)
        statuses.append(json.loads((home.root / "status.json").read_text(encoding="utf-8")))

    service._status = recorded
    service.start()
    try:
        for path in drops:
            shutil.copyfile(path, home.folder("inbox") / path.name)
        _settled(home)
        wait_until(lambda: sum(len(s.get("last", [])) for s in statuses) == len(drops), 30, "the batches reported")
    finally:
        service.stop()
        close_logging()
    log = (home.root / "logs" / "sync.log").read_text(encoding="utf-8")
    reports = [p.read_text(encoding="utf-8") for p in home.folder("rejected").glob("*.txt")]
    return log, statuses, reports


def _lines_naming(log, name):
    return [line for line in log.splitlines() if name in line]


def test_serve_logs_each_outcome_once_in_chinese(fresh_demo, tmp_path):
    home = fast_home(fresh_demo)
    # merged with a note (a date without its year): a dropped file gets no reply, so the log line says it
    good = edit(filled_return(home, tmp_path / "院机关支部_第3周.xlsx"), lambda wb: wb["自学"].__setitem__("B2", "3月22日"))
    bad = edit(filled_return(home, tmp_path / "生医教工党支部_第3周.xlsx", name="生医教工党支部_第3周.xlsx", seed=3),
               lambda wb: wb["自学"].__setitem__("C2", 30))
    log, statuses, reports = _serve_and_log(home, [good, bad])
    assert len(_lines_naming(log, good.name)) == 1 and len(_lines_naming(log, bad.name)) == 1
    assert len(_lines_naming(log, "同步服务已启动")) == 1
    assert "退回 生医教工党支部_第3周.xlsx：" in log and len(reports) == 1 and "超出允许范围" in reports[0]
    [merged] = _lines_naming(log, good.name)
    assert "请留意：自学 第2行 「日期」：“3月22日”没有写年份，已按本周所在的年份读作 2005-03-22" in merged
    assert [s["message"] for s in statuses][0] == "同步服务已启动" and statuses[-1]["message"] == "同步服务已停止"
    said = [log, *(s["message"] for s in statuses), *(line for s in statuses for line in s.get("last", [])), *reports]
    for text in said:
        without_names = text.replace(str(home.root), "")
        assert not ENGLISH_RUN.search(without_names), ENGLISH_RUN.search(without_names)


def test_an_english_home_is_served_in_english(tmp_path):
    from branchbook.demo import demo_home
    from branchbook.demo.fill import Secretary, fill_return
    from branchbook.workbook.office import make_returns

    home = fast_home(demo_home(tmp_path / "home", "en"))
    made = make_returns(home, 3)
    drops = []
    for branch, secretary in (("B08", Secretary(diligence=1.0)), ("B09", Secretary(mistakes=("bad-status",)))):
        target = tmp_path / made[branch].name
        shutil.copyfile(made[branch], target)
        fill_return(target, secretary, seed=7, lang="en")
        drops.append(target)
    log, statuses, reports = _serve_and_log(home, drops)
    assert "College office branch_week3.xlsx: merged" in log and len(_lines_naming(log, drops[0].name)) == 1
    assert "sent back Teaching staff branch_week3.xlsx:" in log and len(_lines_naming(log, drops[1].name)) == 1
    assert "the sync service has started" in log and any(s["message"].startswith("Files processed: ") for s in statuses)
    lasts = [line for s in statuses for line in s.get("last", [])]
    assert len(reports) == 1 and len(lasts) == 2 and any(": sent back" in line for line in lasts)
    for text in (log, *(json.dumps(s, ensure_ascii=False) for s in statuses), *reports):
        assert not CJK.search(text), CJK.search(text)


@pytest.mark.parametrize("polling", [False, True])
def test_the_watcher_itself_takes_a_dropped_file_with_the_rescan_off(fresh_demo, tmp_path, polling):
    """The rescan is a safety net only: with it out of reach (600 s) the observer's events alone bring the
    file in: the observer notices it within seconds, and it is merged."""
    import time

    home = fast_home(fresh_demo)
    home = type(home)(home.root, {**home.config, "sync": {**home.config["sync"], "rescan_seconds": 600}})
    service = SyncService(home, polling=polling)
    service.start()
    try:
        wait_until(lambda: service.batches == 0 and service.healthy(), 10, "the service to start")
        time.sleep(1.0)  # past the start-up scan: only an event can bring the next file in
        started = time.monotonic()
        shutil.copyfile(filled_return(home, tmp_path / "r.xlsx"), home.folder("inbox") / "院机关支部_第3周.xlsx")
        # Timed to the observer's event, not to the merge: the merge's time is the machine's load (the suite
        # runs on every core), which says nothing about the watcher.
        wait_until(lambda: service.handler.last_arrival > started, 10, "the observer's event for the file")
        wait_until(lambda: archived_names(home) == ["院机关支部_第3周.xlsx"], 60, "the file merged")
    finally:
        service.stop()
