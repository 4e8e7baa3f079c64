"""The ledger behind the master: one writer at a time, office edits in master.xlsx taken in (or
refused), a master of the previous version migrated, backups restored."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from returns_factory import filled_return, set_saved_time
from sync_helpers import filled_returns, inbox_names, master_current, pinned_home, wait_until
from test_crash_and_rebuild import comparable, ledger_tables

from branchbook.cli import main
from branchbook.sync.pipeline import Incoming, process
from branchbook.workbook.books import ledger_path, open_ledger
from branchbook.workbook.home import CONFIG_NAME, Home
from branchbook.workbook.master import read_master
from branchbook.workbook.schema import load_schemas

DATA = Path(__file__).parent / "data"


def _receipts(tables):
    return [r for r in tables["returns"] if r.get("sha256")]


# -- one writer at a time ------------------------------------------------------------------------


def test_two_merges_and_a_running_service_on_one_home_lose_nothing(fresh_demo, tmp_path):
    home = pinned_home(fresh_demo)
    made = filled_returns(home, tmp_path / "made", weeks=(3, 4, 5), limit=27)
    by_service, by_first, by_second = made[:9], made[9:18], made[18:]
    for folder, paths in (("a", by_first), ("b", by_second)):
        (tmp_path / folder).mkdir()
        for path in paths:  # each merge names files of its own, with names the others do not use
            shutil.copyfile(path, tmp_path / folder / f"{folder}-{path.name}")
    log = (tmp_path / "serve.log").open("w")
    service = subprocess.Popen([sys.executable, "-m", "branchbook", "serve", str(home.root)], stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        for path in by_service:
            shutil.copyfile(path, home.folder("inbox") / path.name)
        # The first merge holds the lock for a while after its commit, so that the others must wait.
        slow = {**os.environ, "BRANCHBOOK_PAUSE_AT": "after-commit:3"}
        first = subprocess.Popen([sys.executable, "-m", "branchbook", "merge", str(home.root),
                                  *map(str, sorted((tmp_path / "a").iterdir()))], env=slow,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: (home.root / ".branchbook" / "writer.holder.json").exists(), 30, "a writer")
        second = subprocess.run([sys.executable, "-m", "branchbook", "merge", str(home.root),
                                 *map(str, sorted((tmp_path / "b").iterdir()))],
                                capture_output=True, text=True, timeout=300)
        out, err = first.communicate(timeout=300)
        assert first.returncode == 0, err
        assert second.returncode == 0, second.stderr
        assert "正在写入台账" in second.stderr + err  # the loser said it was waiting
        wait_until(lambda: not inbox_names(home) and master_current(home), 120, "the service to catch up")
    finally:
        service.terminate()
        service.wait(30)
        log.close()
    tables = ledger_tables(home)
    receipts = _receipts(tables)
    assert sorted(r["result"] for r in receipts) == ["merged"] * 27  # 27 returns of 27 different weeks/branches
    assert len({r["return_id"] for r in receipts}) == 27
    keys = [(r["session_id"], r["member_id"]) for r in tables["attendance"]]
    assert len(keys) == len(set(keys))  # nothing twice
    assert all(any(str(r["source_return"]).startswith(f"{rid}@") for r in tables["attendance"])
               for rid in {r["return_id"] for r in receipts})
    assert comparable(read_master(home.master)) == comparable(tables)


def test_a_merge_while_another_writer_holds_the_lock_waits_and_says_so(fresh_demo, tmp_path, capsys):
    from branchbook.sync.writer import writing

    home = pinned_home(fresh_demo)
    path = filled_return(home, tmp_path / "r.xlsx")
    messages = []
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from branchbook.sync.writer import writing; from branchbook.workbook.home import Home\n"
        f"with writing(Home.open({str(home.root)!r}), 'test holder'):\n"
        "    print('held', flush=True); time.sleep(2)\n")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    result = process(home, [Incoming(shutil.copy(path, home.folder("inbox") / "院机关支部_第3周.xlsx"))],
                     on_wait=messages.append)
    holder.wait(10)
    holder.stdout.close()
    assert result.outcomes[0].result == "merged"
    assert len(messages) == 1 and "test holder" in messages[0] and "等它完成后继续" in messages[0]
    with writing(home, "again"):  # re-entrant in one thread: an export inside a merge takes it once
        with writing(home, "inner"):
            pass


# -- the office edits the master in Excel --------------------------------------------------------


def _edit_master(home: Home, change) -> None:
    """The office opens master.xlsx, changes it, and saves it (openpyxl standing in for Excel)."""
    wb = load_workbook(home.master)
    change(wb)
    wb.save(home.master)


def _rows(ws):
    header = [c.value for c in ws[1]]
    return header, list(ws.iter_rows(min_row=2))


def _column(ws, label):
    return [c.value for c in ws[1]].index(label) + 1


def _find_row(ws, **wanted):
    header, rows = _rows(ws)
    for row in rows:
        if all(row[header.index(k)].value == v for k, v in wanted.items()):
            return row[0].row
    raise AssertionError(f"no row {wanted} in {ws.title}")


def test_a_waiter_that_came_as_the_lock_changed_hands_names_the_holder_once_it_is_known(fresh_demo):
    """The holder writes who it is just after taking the lock; a waiter arriving in between read nothing.
    It must not say "?" for the whole wait (CI saw this as the service started)."""
    import threading

    from filelock import FileLock

    from branchbook.sync.writer import HOLDER_NAME, LOCK_NAME, writing
    from branchbook.workbook.books import state_folder

    folder = state_folder(fresh_demo)
    lock = FileLock(str(folder / LOCK_NAME))
    lock.acquire()  # taken, and its holder not yet written
    said: list[str] = []

    def wait_then_write():
        with writing(fresh_demo, "serve", said.append):
            pass

    waiter = threading.Thread(target=wait_then_write)
    try:
        waiter.start()
        wait_until(lambda: said, 5, "the waiter to say it waits")
        assert "?" in said[0]
        (folder / HOLDER_NAME).write_text('{"what": "merge", "pid": 4321, "since": "2026-12-07 08:00:00"}',
                                          encoding="utf-8")
        wait_until(lambda: len(said) > 1, 3, "the waiter to name the holder")
        assert "merge" in said[-1] and "4321" in said[-1] and "?" not in said[-1]
    finally:
        (folder / HOLDER_NAME).unlink(missing_ok=True)
        lock.release()
        waiter.join(5)
    assert not waiter.is_alive()


def test_office_edits_are_taken_in_and_survive_a_merge_and_a_rebuild(fresh_demo, tmp_path, capsys):
    home = pinned_home(fresh_demo)
    first = set_saved_time(filled_return(home, tmp_path / "院机关支部_第3周.xlsx"), datetime(2005, 3, 27, 9))
    assert main(["merge", str(home.root), str(first)]) == 0
    before = ledger_tables(home)
    moved = next(m for m in before["members"] if m["branch_id"] == "B01")
    history = [r for r in before["attendance"] if r["member_id"] == moved["member_id"]]
    selfstudy = next(r for r in before["selfstudy"] if str(r["source_return"]).startswith("B08-W03@"))
    session = next(s for s in before["sessions"] if s["session_id"] == "B05-W01-S1")

    def office(wb):
        members = wb["党员"]
        members.append(["M9001", "新同志", "B08", None, "机关", "正式", "否", None, "13800000000"])
        members.cell(_find_row(members, 党员编号=moved["member_id"]), _column(members, "支部编号")).value = "B02"
        study = wb["自学"]
        row = _find_row(study, 党员编号=selfstudy["member_id"], 来源周报表=selfstudy["source_return"])
        study.cell(row, _column(study, "学时")).value = 11.5
        sessions = wb["学习活动"]
        sessions.delete_rows(_find_row(sessions, 活动编号="B05-W01-S1"))
        attendance = wb["出勤"]  # a session entered by mistake goes with its attendance (one block of rows)
        attendance.delete_rows(_find_row(attendance, 活动编号="B05-W01-S1"), len(session_attendance))
    session_attendance = [r for r in before["attendance"] if r["session_id"] == "B05-W01-S1"]
    _edit_master(home, office)
    assert main(["export", str(home.root)]) == 0
    assert f"已导入台账中的手工修改 {4 + len(session_attendance)} 处" in capsys.readouterr().out
    after = ledger_tables(home)
    assert any(m["member_id"] == "M9001" and m["name"] == "新同志" for m in after["members"])
    assert next(m for m in after["members"] if m["member_id"] == moved["member_id"])["branch_id"] == "B02"
    assert [r for r in after["attendance"] if r["member_id"] == moved["member_id"]] == history  # her records stay
    edited = next(r for r in after["selfstudy"] if r["source_return"] == selfstudy["source_return"]
                  and r["member_id"] == selfstudy["member_id"] and r["date"] == selfstudy["date"])
    assert edited["hours"] == 11.5
    assert session not in after["sessions"] and len(after["sessions"]) == len(before["sessions"]) - 1
    assert not [r for r in after["attendance"] if r["session_id"] == "B05-W01-S1"]
    with open_ledger(home) as ledger:
        [entry] = [e for e in ledger.journal_entries() if e["kind"] == "office"]
    assert len(entry["body"]["edits"]) == 4 + len(session_attendance) and entry["who"]  # recorded as an office edit, with who saved it
    # A corrected return for the same week: the office's 11.5 is kept over it, and reported.
    second = set_saved_time(filled_return(home, tmp_path / "更正_院机关支部_第3周.xlsx", seed=7),
                            datetime(2005, 3, 28, 9))
    result = process(home, [Incoming(shutil.copy(second, home.folder("inbox") / second.name))])
    assert result.outcomes[0].result == "merged" and len(result.outcomes[0].conflicts) == 1
    kept = ledger_tables(home)
    assert [r["hours"] for r in kept["selfstudy"] if r["member_id"] == selfstudy["member_id"]
            and r["date"] == selfstudy["date"]] == [11.5]
    assert comparable(read_master(home.master)) == comparable(kept)
    ledger_path(home).unlink()
    assert main(["rebuild", str(home.root)]) == 0
    assert comparable(ledger_tables(home)) == comparable(kept)


def test_an_office_edit_that_breaks_the_schema_is_refused_and_the_master_left_alone(fresh_demo, capsys):
    home = pinned_home(fresh_demo)

    def bad(wb):
        wb["党员"].append(["M9002", "好的新行", "B08", None, "机关", "正式", "否", None, None])  # fine on its own
        study = wb["自学"]
        study.cell(2, _column(study, "学时")).value = "很多"
    _edit_master(home, bad)
    edited = home.master.read_bytes()
    assert main(["export", str(home.root)]) == 1
    said = "".join(capsys.readouterr())
    assert "自学" in said and "第2行" in said and "很多" in said
    assert home.master.read_bytes() == edited  # not overwritten: the office's work is still there
    assert not any(m["member_id"] == "M9002" for m in ledger_tables(home)["members"])  # nothing taken
    _edit_master(home, lambda wb: wb["自学"].cell(2, _column(wb["自学"], "学时")).__setattr__("value", 4))
    assert main(["export", str(home.root)]) == 0
    assert any(m["member_id"] == "M9002" for m in ledger_tables(home)["members"])


# -- a HOME made by the previous version ---------------------------------------------------------


def test_a_master_of_the_previous_version_migrates_without_loss(tmp_path):
    """tests/data/master-v0.1-demo-week3.xlsx was written by BranchBook 0.1 (the demo, week 3 merged)."""
    import yaml

    root = tmp_path / "old"
    for folder in ("inbox", "archive", "rejected", "outbox", "backups"):
        (root / folder).mkdir(parents=True)
    shutil.copyfile(DATA / "master-v0.1-demo-week3.xlsx", root / "master.xlsx")
    (root / CONFIG_NAME).write_text(yaml.safe_dump({"lang": "zh", "master": "master.xlsx", "as_of": "2005-03-30"}),
                                    encoding="utf-8")
    old = read_master(root / "master.xlsx")
    # Version 0.1 had no membership period: those columns come across blank (schemas/master.yaml).
    old["members"] = [{"join_reason": None, "from_branch": None, "left": None, "leave_reason": None,
                       "away_from": None, "away_until": None, **row} for row in old["members"]]
    old.setdefault("reports", [])  # nor reports received from members away (汇报收到)
    # Nor a session's 党小组, 补学活动 and what a 记录本 records of it, nor a self-study's 补学活动 (issue 14).
    added = [f.key for f in load_schemas().sheet("sessions").fields if f.added_later]
    old["sessions"] = [{**dict.fromkeys(added), **row} for row in old["sessions"]]
    old["selfstudy"] = [{"makes_up": None, **row} for row in old["selfstudy"]]
    # Nor flags with a level, a state and the day first raised (issue 12): blank in its flags, until recomputed.
    old["flags"] = [{"level": None, "state": None, "first_seen": None, **row} for row in old["flags"]]
    # Its 职务 held administrative posts too: those become 行政职务, with 委员 as 党内职务 (docs/domain.md, "Words").
    posts = {"dean": "院长", "deputy_dean": "副院长", "dean_assistant": "院长助理"}
    old["committee"] = [{**row, "role": "member" if row["role"] in posts else row["role"], "post": posts.get(row["role"])}
                        for row in old["committee"]]
    home = Home.open(root)
    assert main(["flags", str(root), "--json"]) == 0  # any command opens the ledger, which takes the master in
    tables = ledger_tables(home)
    assert comparable(tables) == comparable(old)
    assert sum(len(rows) for rows in tables.values()) == sum(len(rows) for rows in old.values()) > 2000
    with open_ledger(home) as ledger:
        assert [e["kind"] for e in ledger.journal_entries()] == ["snapshot", "office"]  # the posts moved


# -- backups -------------------------------------------------------------------------------------


def test_a_backup_is_restored_by_name(fresh_demo, tmp_path, capsys):
    from branchbook.sync.backup import backup_ledger, backups

    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        saved = backup_ledger(home, ledger, "test")
    before = ledger_tables(home)
    path = filled_return(home, tmp_path / "院机关支部_第3周.xlsx")
    assert main(["merge", str(home.root), str(path)]) == 0
    assert len(_receipts(ledger_tables(home))) == 1
    assert main(["restore", str(home.root)]) == 0
    assert saved.name in capsys.readouterr().out
    assert main(["restore", str(home.root), saved.name]) == 0
    restored = ledger_tables(home)
    assert {k: v for k, v in comparable(restored).items() if k != "flags"} == \
        {k: v for k, v in comparable(before).items() if k != "flags"}  # flags are recomputed on export
    assert comparable(read_master(home.master)) == comparable(restored)
    assert any("before-restore" in p.name for p in backups(home))  # what was replaced is kept too
    assert main(["restore", str(home.root), "no-such-backup"]) == 2
    assert "找不到备份" in capsys.readouterr().err


def test_a_ledger_commit_is_all_or_nothing(fresh_demo):
    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        count = ledger.count("members")
        with pytest.raises(RuntimeError), ledger.transaction():
            ledger.insert("members", [{"member_id": "M9003", "name": "半途", "branch_id": "B01"}])
            raise RuntimeError("power cut")
        assert ledger.count("members") == count
        assert ledger.rows("members")[0]["member_id"] and isinstance(ledger.rows("phases")[0]["start"], date)


def _as_selected(ledger, key: str, columns: list[str], with_row: bool) -> list[dict]:
    """A sheet's rows as a plain SELECT gives them, each zipped with its column names, dates parsed."""
    dates = {f.key for f in ledger.schemas.sheet(key).fields if f.type == "date"}

    def value(name, raw):
        if name in dates and isinstance(raw, str) and len(raw) == 10:
            try:
                return date.fromisoformat(raw)
            except ValueError:
                return raw
        return raw

    names = ["_row", *columns]
    cursor = ledger.db.execute(f'SELECT {", ".join(names)} FROM "{key}" ORDER BY _row')
    return [{n: value(n, v) for n, v in zip(names, row) if with_row or n != "_row"} for row in cursor]


def test_records_are_the_rows_as_selected(fresh_demo):
    """Records are built by code compiled for each sheet's columns (ledger._records_builder): they must be the
    rows as selected, dates parsed (a date that never parsed kept as typed, a blank one None), with and without
    `_row`, for every sheet and for a few columns, with each sheet's `_row`s in the same order."""
    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        with ledger.transaction():
            ledger.insert("selfstudy", [{"member_id": "M0001", "date": "2005-13-45", "hours": 1.5},
                                        {"member_id": "M0002", "date": None, "hours": 2}])
        ids: dict[str, list[int]] = {}
        tables = ledger.tables(ids=ids)
        for sheet in ledger.schemas.master:
            columns = [f.key for f in sheet.fields]
            plain = _as_selected(ledger, sheet.key, columns, with_row=False)
            assert tables[sheet.key] == plain and [list(r) for r in tables[sheet.key]] == [list(r) for r in plain]
            assert ids[sheet.key] == [r["_row"] for r in _as_selected(ledger, sheet.key, columns, with_row=True)]
            assert ledger.rows(sheet.key, with_row=True) == _as_selected(ledger, sheet.key, columns, with_row=True)
            assert ledger.rows(sheet.key, columns=columns[-2:]) == _as_selected(ledger, sheet.key, columns[-2:], False)
        study = tables["selfstudy"]
        assert [r["date"] for r in study[-2:]] == ["2005-13-45", None] and isinstance(study[0]["date"], date)
        assert len(study) > 100 and len(tables["attendance"]) > 1000  # many rows, in batches


def test_rebuild_keeps_rejected_receipts_the_newer_of_two_versions_and_a_moved_members_week(fresh_demo, tmp_path):
    home = pinned_home(fresh_demo)
    older = set_saved_time(filled_return(home, tmp_path / "旧_院机关支部_第3周.xlsx", seed=3), datetime(2005, 3, 26, 9))
    newer = set_saved_time(filled_return(home, tmp_path / "新_院机关支部_第3周.xlsx", seed=4), datetime(2005, 3, 27, 9))
    broken = tmp_path / "坏_院机关支部_第3周.xlsx"  # before the newer in the batch, by name and by place
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    assert main(["merge", str(home.root), str(broken), str(newer)]) == 1
    assert main(["merge", str(home.root), str(older)]) == 0  # late and older: superseded
    member = next(m for m in ledger_tables(home)["members"] if m["branch_id"] == "B08")

    def move(wb):
        members = wb["党员"]
        members.cell(_find_row(members, 党员编号=member["member_id"]), _column(members, "支部编号")).value = "B02"
    _edit_master(home, move)
    assert main(["export", str(home.root)]) == 0
    before = ledger_tables(home)
    assert sorted(r["result"] for r in _receipts(before)) == ["merged", "rejected", "superseded"]
    week = [r for r in before["attendance"] if str(r["source_return"]).startswith("B08-W03@")]
    assert any(r["member_id"] == member["member_id"] for r in week)
    ledger_path(home).unlink()
    assert main(["rebuild", str(home.root)]) == 0
    after = ledger_tables(home)
    assert comparable(after) == comparable(before)  # the moved member's week was replayed before her move
    assert [r["sha256"] for r in after["returns"]] == [r["sha256"] for r in before["returns"]]  # 周报 in its order
    assert comparable(read_master(home.master)) == comparable(after)


def test_merging_a_file_never_overwrites_a_return_waiting_in_the_inbox(fresh_demo, tmp_path):
    home = pinned_home(fresh_demo)
    waiting = filled_return(home, home.folder("inbox") / "院机关支部_第3周.xlsx", seed=3)
    before = waiting.read_bytes()
    other = filled_return(home, tmp_path / "院机关支部_第3周.xlsx", seed=4)  # the same name, another version
    assert main(["merge", str(home.root), str(other)]) == 0
    assert waiting.read_bytes() == before  # still there, untouched, for the next pass
    assert main(["merge", str(home.root)]) == 0
    receipts = _receipts(ledger_tables(home))
    assert len(receipts) == 2 and {r["file_name"] for r in receipts} == {"院机关支部_第3周.xlsx"}


def test_a_missing_file_stops_the_merge_before_anything_is_copied(fresh_demo, tmp_path, capsys):
    home = pinned_home(fresh_demo)
    good = filled_return(home, tmp_path / "good.xlsx")
    assert main(["merge", str(home.root), str(good), str(tmp_path / "nosuch.xlsx")]) == 2
    out, err = capsys.readouterr()
    assert "找不到文件" in err and "Traceback" not in out + err
    assert not list(home.folder("inbox").iterdir())


def test_a_lost_ledger_is_rebuilt_not_quietly_started_again(fresh_demo, tmp_path, capsys):
    home = pinned_home(fresh_demo)
    assert main(["merge", str(home.root), str(filled_return(home, tmp_path / "院机关支部_第3周.xlsx"))]) == 0
    merged = ledger_tables(home)
    ledger_path(home).unlink()
    assert main(["merge", str(home.root), str(filled_return(home, tmp_path / "x.xlsx", seed=9))]) == 2
    assert "branchbook rebuild" in capsys.readouterr().err  # said, not a second history begun from the master
    assert main(["rebuild", str(home.root)]) == 0
    assert comparable(ledger_tables(home)) == comparable(merged)


def test_checking_a_backup_leaves_nothing_beside_it(fresh_demo):
    from branchbook.sync.backup import backup_ledger, backups

    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        saved = backup_ledger(home, ledger, "test")
    assert main(["restore", str(home.root), saved.name]) == 0
    assert sorted(p.suffix for p in home.folder("backups").iterdir() if "ledger" in p.name) == \
        [".sqlite"] * len(backups(home))


def test_a_ledger_made_before_the_membership_columns_gets_them_blank(tmp_path):
    """An existing HOME's ledger lacks the members' period columns; opening it adds them, blank, keeping every row."""
    import sqlite3

    from branchbook.workbook.ledger import Ledger
    from branchbook.workbook.schema import load_schemas

    path = tmp_path / "ledger.sqlite"
    new_columns = ("join_reason", "from_branch", "left", "leave_reason")
    with Ledger(path, load_schemas()) as ledger, ledger.transaction():
        ledger.insert("members", [{"member_id": "M1", "name": "老同志", "branch_id": "B01", "category": "staff",
                                   "standing": "full", "contact": "123"}])
    db = sqlite3.connect(path)  # as the previous version left it: no period columns
    for column in new_columns:
        db.execute(f'ALTER TABLE members DROP COLUMN "{column}"')
    db.commit()
    db.close()
    with Ledger(path, load_schemas()) as ledger:
        (member,) = ledger.rows("members")
        assert member["name"] == "老同志" and member["contact"] == "123"
        assert all(member[column] is None for column in new_columns)
        with ledger.transaction():
            ledger.update("members", 1, {**member, "left": date(2005, 6, 30), "leave_reason": "graduated"})
        assert ledger.rows("members")[0]["left"] == date(2005, 6, 30)
        assert ledger.rows("members")[0]["leave_reason"] == "graduated"


def test_tables_read_ahead_and_brought_up_to_date_are_the_tables_read_now(fresh_demo):
    """The export reads the ledger while the children read the returns, then only what changed since (rows added,
    and from the lowest row updated or deleted on: Ledger.tables_since). After every kind of change it must read
    what a whole read reads then; a copy of what was read ahead would fail each of these."""
    home = pinned_home(fresh_demo)

    def brought_up_to_date(change) -> None:
        with open_ledger(home) as ledger:
            ahead = ledger.read_ahead()
            with ledger.transaction():
                change(ledger)
            ids: dict[str, list[int]] = {}
            now: dict[str, list[int]] = {}
            assert ledger.tables_since(ahead, ids) == ledger.tables(ids=now)
            assert ids == now

    def forget(ledger):
        ledger.forget_changes()  # as after the master is written: nothing changed since

    def merged_rows(ledger):  # a return adds rows at the end of its sheets
        ledger.insert("selfstudy", [{"member_id": "M0001", "date": date(2005, 3, 28), "hours": 2.5}])
        ledger.insert("sessions", [{"session_id": "S-new", "branch_id": "B01", "date": date(2005, 3, 28)}])

    def office_edit(ledger):  # an hours value corrected by hand in a merged row, below the rows added
        first = ledger.rows("selfstudy", with_row=True)[3]
        ledger.update("selfstudy", first["_row"], {**first, "hours": 11.5})
        ledger.insert("selfstudy", [{"member_id": "M0002", "date": date(2005, 3, 29), "hours": 1}])

    def member_moved(ledger):
        member = ledger.rows("members", with_row=True)[0]
        ledger.update("members", member["_row"], {**member, "branch_id": "B02"})

    def last_rows_replaced(ledger):  # a week resubmitted: its rows deleted, new ones take the freed `_row`s
        rows = ledger.rows("attendance", with_row=True)
        ledger.delete("attendance", [r["_row"] for r in rows[-3:]])
        ledger.insert("attendance", [{**r, "status": "absent"} for r in rows[-3:]])

    def session_deleted(ledger):
        ledger.delete("sessions", [ledger.rows("sessions", with_row=True)[0]["_row"]])

    for change in (forget, merged_rows, office_edit, member_moved, last_rows_replaced, session_deleted):
        brought_up_to_date(change)
    # Rows changed before the read ahead (the master not written since): what changed after it, above or below
    # them, shows all the same.
    with open_ledger(home) as ledger:
        rows = ledger.rows("selfstudy", with_row=True)
        with ledger.transaction():
            ledger.forget_changes()
            ledger.update("selfstudy", rows[50]["_row"], {**rows[50], "hours": 7})
    brought_up_to_date(lambda ledger: ledger.update("selfstudy", rows[80]["_row"], {**rows[80], "hours": 9}))
    brought_up_to_date(lambda ledger: ledger.update("selfstudy", rows[20]["_row"], {**rows[20], "hours": 8}))
    with open_ledger(home) as ledger:
        assert [ledger.rows("selfstudy")[n]["hours"] for n in (20, 50, 80)] == [8, 7, 9]


def test_the_journal_file_holds_each_entry_as_its_json(fresh_demo, tmp_path):
    """journal.mirror writes each entry's body as the ledger keeps its text, not decoded and encoded again: every
    line must be what json.dumps writes of the entry decoded (a snapshot, batches, office edits, weeks of flags)."""
    import json

    from branchbook.workbook import journal

    home = pinned_home(fresh_demo)
    [path] = filled_returns(home, tmp_path / "made", weeks=(4,), limit=1)
    shutil.copyfile(path, home.folder("inbox") / path.name)
    assert process(home, [Incoming(home.folder("inbox") / path.name)]).committed
    with open_ledger(home) as ledger:
        entries = ledger.journal_entries()
        assert {e["kind"] for e in entries} >= {"snapshot", "batch", "flags"}
        journal.rewrite(ledger, tmp_path / "journal.jsonl")
    lines = (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == [json.dumps(entry, ensure_ascii=False) for entry in entries]
    assert journal.read(tmp_path / "journal.jsonl") == entries
    # The last entry's number is known from the writing, and read again once the file changed (a line cut short).
    assert journal.last_seq(tmp_path / "journal.jsonl") == entries[-1]["seq"]
    with (tmp_path / "journal.jsonl").open("ab") as handle:
        handle.write(lines[-1].replace(f'"seq": {entries[-1]["seq"]}', f'"seq": {entries[-1]["seq"] + 1}')[:-5]
                     .encode("utf-8"))
    assert journal.last_seq(tmp_path / "journal.jsonl") == entries[-1]["seq"]
    (tmp_path / "journal.jsonl").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    assert journal.last_seq(tmp_path / "journal.jsonl") == entries[-2]["seq"]


def test_a_weeks_flags_are_stored_and_journaled_only_when_they_changed(fresh_demo):
    """flag_history compares a week's flags with those kept by their JSON text (a pair that differs in text only,
    as an earlier version may have written it, decoded): unchanged flags add no journal entry, a changed one does."""
    import json

    from branchbook.workbook import flag_history

    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        tables = ledger.tables()
        flags = flag_history.compute_flags(tables, home.as_of, ledger.schemas)
        flag_history.keep(ledger, tables, flags, home.as_of, ledger.schemas)
        week = max(flag_history.stored_weeks(ledger))
        entries = len(ledger.journal_of("flags"))
        flag_history.keep(ledger, tables, flags, home.as_of, ledger.schemas)
        assert len(ledger.journal_of("flags")) == entries
        with ledger.transaction():  # the same flags, written as an earlier version might have
            ledger.db.executemany(f'UPDATE "{flag_history.TABLE}" SET flag = ? WHERE rowid = ?',
                                  [(json.dumps(json.loads(text), ensure_ascii=True, indent=1), rowid) for rowid, text in
                                   ledger.db.execute(f'SELECT rowid, flag FROM "{flag_history.TABLE}" WHERE week = ?',
                                                     (week,)).fetchall()])
        flag_history.keep(ledger, tables, flags, home.as_of, ledger.schemas)
        assert len(ledger.journal_of("flags")) == entries
        before = {tuple(row[:3]): row[3] for row in ledger.db.execute(
            f'SELECT subject_kind, subject_id, rule, flag FROM "{flag_history.TABLE}" WHERE week = ?', (week,))}
        flag_history.keep(ledger, tables, flags[1:], home.as_of, ledger.schemas)  # one flag no longer raised
        journaled = ledger.journal_of("flags")
        assert len(journaled) == entries + 1
        [(body,)] = ledger.db.execute("SELECT body FROM journal WHERE seq = ?", (journaled[-1]["seq"],)).fetchall()
        assert body == json.dumps(journaled[-1]["body"], ensure_ascii=False)  # as journal() writes a body
        # Only what changed is journaled: the flag that went (or is now cleared), not the week's hundreds.
        change = journaled[-1]["body"]
        assert change["week"] == week and "flags" not in change
        assert len(change["changed"]) + len(change["gone"]) == 1
        gone_or_cleared = (flags[0].subject_kind, flags[0].subject_id, flags[0].rule)
        assert [tuple(k) for k in change["gone"]] == [gone_or_cleared] or \
            [(r["subject_kind"], r["subject_id"], r["rule"], r["state"]) for r in change["changed"]] == \
            [(*gone_or_cleared, "cleared")]
        # The change applied to the week as it was kept gives the week as it is kept now (what rebuild replays).
        replayed = {key: text for key, text in before.items() if key not in map(tuple, change["gone"])}
        replayed.update({(r["subject_kind"], r["subject_id"], r["rule"]): r for r in change["changed"]})
        now = {tuple(row[:3]): json.loads(row[3]) for row in ledger.db.execute(
            f'SELECT subject_kind, subject_id, rule, flag FROM "{flag_history.TABLE}" WHERE week = ?', (week,))}
        assert {key: value if isinstance(value, dict) else json.loads(value) for key, value in replayed.items()} == now


def test_the_base_tables_are_read_again_after_an_office_edit_not_after_a_write_of_the_flags(fresh_demo):
    """A long-running service reads the tables a return is checked against once per change (pipeline.base_tables):
    a week's flags or a bulletin's issue journaled at a write of the master is no change of them; an office edit is."""
    from branchbook.sync.pipeline import base_tables
    from branchbook.workbook import flag_history
    from branchbook.workbook.reports import issues

    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        first = base_tables(ledger)
        assert base_tables(ledger) is first
        with ledger.transaction():
            ledger.journal(flag_history.JOURNAL_KIND, {"week": 99, "as_of": "2005-06-08", "changed": [], "gone": []})
            ledger.journal(issues.KIND, {"number": 99})
        assert base_tables(ledger) is first
        with ledger.transaction():
            ledger.journal("office", {"edits": [], "problems": []}, who="office")
        assert base_tables(ledger) is not first
