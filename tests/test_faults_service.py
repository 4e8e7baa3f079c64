"""The service under faults, on real folders with the real observer and the rescan out of reach (600 s):
a full disk, a read-only folder, a vanished inbox, a stalled copy, a stale owner file, a SIGKILL. Each
ends with the valid returns beside the fault merged, the bad one handled, nothing left in .work/, and
the service still answering with a fresh heartbeat (docs/hazards.md 1, 8, 30-32).

A full disk and a read-only folder are real where the test can mount a tmpfs (we run as root in CI);
elsewhere the same errors are raised at the writes, and the test's name says which ran."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from returns_factory import filled_return
from sync_helpers import archived_names, inbox_names, master_current, pinned_home, wait_until
from unreadable import make_unreadable

from branchbook.cli import main
from branchbook.sync.service import SyncService
from branchbook.workbook.home import Home
from branchbook.workbook.names import stored_name

NO_RESCAN = {"rescan_seconds": 600.0}  # only the observer's events (and the service's own recovery) bring files in
GOOD = "院机关支部_第3周.xlsx"
OTHER = "博士生党支部_第3周.xlsx"


def _home(home: Home, **sync) -> Home:
    settings = {"poll_seconds": 0.2, "stable_polls": 2, "debounce_seconds": 0.5, "stall_seconds": 3.0,
                "backups_kept": 5, **NO_RESCAN, **sync}
    return Home(home.root, {**home.config, "sync": settings, "as_of": "2005-03-30"})


def _moved(home: Home, target: Path) -> Home:
    shutil.copytree(home.root, target, dirs_exist_ok=True)
    return Home(target, home.config)


def _status(home: Home) -> dict:
    return json.loads((home.root / "status.json").read_text(encoding="utf-8"))


def _heartbeat_age(home: Home) -> float:
    return (datetime.now() - datetime.fromisoformat(_status(home)["heartbeat"])).total_seconds()


def _still_beating(home: Home, within: float = 5) -> None:
    """The heartbeat moves on and is then fresh. Watched rather than sampled once: it is written to the second,
    so a single sample's age is up to a second more than the time since the beat, plus the machine's load."""
    first = _status(home)["heartbeat"]
    wait_until(lambda: _status(home)["heartbeat"] != first, within, "the next heartbeat")
    assert _heartbeat_age(home) < 3


def _drop(home: Home, source: Path, name: str) -> None:
    (home.folder("inbox") / name).write_bytes(source.read_bytes())  # not shutil's copy: a test may break that


def _ends_well(home: Home, service: SyncService, merged: list[str], refused: list[str] = ()) -> None:
    """The valid returns merged, the bad ones in rejected/ with their reports, .work/ empty, the master
    caught up, and the service alive with a heartbeat that is fresh and still beating. Names as sent: each is
    looked for under the name BranchBook stores it by."""
    wait_until(lambda: archived_names(home) == sorted(stored_name(name) for name in merged), 60, f"{merged} merged")
    for name in map(stored_name, refused):
        wait_until(lambda name=name: (home.folder("rejected") / name).exists(), 30, f"{name} rejected")
        assert (home.folder("rejected") / f"{name}.错误报告.txt").exists()
    wait_until(lambda: not inbox_names(home) and master_current(home), 60, "the inbox empty and the master written")
    work = home.root / ".work"
    assert not work.exists() or not list(work.iterdir()), list(work.iterdir())
    assert service.healthy()
    _still_beating(home)


@contextlib.contextmanager
def _running(home: Home, polling: bool = False):
    service = SyncService(home, polling=polling)
    service.start()
    try:
        yield service
    finally:
        service.stop()


# -- real mounts where we may, injected errors where we may not ------------------------------------------------

def _can_mount() -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(f"/tmp/branchbook-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True)
        if done.returncode:
            return False
        subprocess.run(["umount", str(probe)], check=True)
        return True
    finally:
        probe.rmdir()


MOUNTS = _can_mount() and not os.environ.get("BRANCHBOOK_TEST_NO_MOUNT")  # set it to try the injected variants
HOW = "tmpfs" if MOUNTS else "injected"


@contextlib.contextmanager
def _tmpfs(folder: Path, size: str):
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system holding `folder` to within `leave` bytes of full."""
    filler = folder / f"filler-{time.monotonic_ns()}.bin"
    free = shutil.disk_usage(folder).free - leave
    with filler.open("wb") as handle:
        chunk = b"\0" * 65536
        try:
            while free > 0:
                handle.write(chunk[:free])
                handle.flush()
                free -= len(chunk)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


@contextlib.contextmanager
def _injected(monkeypatch, number: int, places):
    """Raise OSError(number) at the writes named in `places` (module, attribute) while the block runs."""
    def failing(*args, **kwargs):
        raise OSError(number, os.strerror(number))
    with monkeypatch.context() as patch:
        for module, name in places:
            patch.setattr(module, name, failing)
        yield


# -- a full disk -------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not MOUNTS, reason="needs a tmpfs: the injected variant below runs instead")
def test_a_full_disk_is_said_survived_and_recovered_from_by_itself__tmpfs(fresh_demo, tmp_path):
    """HOME on an 8 MB tmpfs. Full to the last byte (even status.json cannot be written), then nearly full
    (the copies fit, the ledger or the master does not), then freed: the worker lives through it, says
    it in status.json as soon as it can, and merges everything by itself."""
    good = filled_return(fresh_demo, tmp_path / "good.xlsx")
    other = filled_return(fresh_demo, tmp_path / "other.xlsx", name=OTHER, seed=9)
    bad, _ = make_unreadable("not-a-workbook", fresh_demo, tmp_path)
    with _tmpfs(tmp_path / "disk", "16m") as disk:
        home = _home(_moved(fresh_demo, disk / "home"))
        shutil.rmtree(home.root / "backups", ignore_errors=True)  # room on the small disk
        from branchbook.sync.logs import close_logging, configure_logging

        configure_logging(home)
        with contextlib.ExitStack() as stack:
            stack.callback(close_logging)
            service = stack.enter_context(_running(home))
            wait_until(lambda: (home.root / "status.json").exists(), 10, "the first status")
            drops = ((good, GOOD), (other, OTHER), (bad, bad.name))
            room = _fill(disk, leave=sum(source.stat().st_size for source, _ in drops) + 65536)
            for source, name in drops:
                _drop(home, source, name)
            filler = _fill(disk)  # and now not a byte more: the copies into .work/ fail, status.json too
            wait_until(lambda: service.failures >= 2, 20, "passes failing on the full disk")
            assert service.status.fields["last_error"]["kind"] == "disk-full"
            assert service.status.unwritten  # its own status write failed too, and it lives on
            time.sleep(1.5)
            assert service.healthy() and inbox_names(home) == sorted(name for _, name in drops)
            room.unlink()
            filler.unlink()
            filler = _fill(disk, leave=200_000)  # room for the copies, not for the master
            time.sleep(3)
            assert service.healthy()
            filler.unlink()
            _ends_well(home, service, [GOOD, OTHER], [bad.name])
            status = _status(home)
            assert status["last_error"]["kind"] == "disk-full" and "磁盘已满" in status["last_error"]["message"]
            assert status["state"] == "idle"
        log = (home.root / "logs" / "sync.log").read_text(encoding="utf-8")
        assert "同步已恢复正常" in log and "Traceback" not in log
        for leftover in (disk / "home").glob(".master.writing-*"):
            pytest.fail(f"a temporary master was left behind: {leftover}")


def test_a_full_disk_is_said_survived_and_recovered_from_by_itself__injected(fresh_demo, tmp_path, monkeypatch):
    """ENOSPC raised at the copy into .work/ and at status.json's own write, for a few passes: the worker
    lives, keeps the news in memory, and once the writes work again merges everything and says what
    happened."""
    import branchbook.sync.pipeline as pipeline
    import branchbook.sync.status as status_module

    home = _home(fresh_demo)
    good = filled_return(home, tmp_path / "good.xlsx")
    bad, _ = make_unreadable("not-a-workbook", home, tmp_path)
    with _running(home) as service:
        wait_until(lambda: (home.root / "status.json").exists(), 10, "the first status")
        with _injected(monkeypatch, errno.ENOSPC, [(pipeline.shutil, "copyfile"), (status_module.os, "replace")]):
            _drop(home, good, GOOD)
            _drop(home, bad, bad.name)
            wait_until(lambda: service.failures >= 3, 30, "three failed passes")
            assert service.status.unwritten and service.healthy()
            assert service.status.fields["last_error"]["kind"] == "disk-full"
        _ends_well(home, service, [GOOD], [bad.name])
        assert "磁盘已满" in _status(home)["last_error"]["message"]
    log = (home.root / "logs" / "sync.log").read_text(encoding="utf-8") if (home.root / "logs").exists() else ""
    assert "Traceback" not in log


# -- a read-only folder ------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _read_only(folder: Path, monkeypatch):
    """`folder` read-only: a tmpfs remounted ro where we may mount, else EROFS raised at the move into it."""
    if MOUNTS:
        kept = folder.with_name(folder.name + ".kept")
        shutil.move(str(folder), kept)
        with _tmpfs(folder, "8m"):
            for path in kept.iterdir():
                shutil.move(str(path), folder / path.name)
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
            try:
                yield
            finally:
                subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)
                for path in folder.iterdir():
                    shutil.move(str(path), kept / path.name)
        folder.rmdir()
        kept.rename(folder)
    else:
        import branchbook.sync.pipeline as pipeline

        with _injected(monkeypatch, errno.EROFS, [(pipeline.shutil, "move")]):
            yield


def test_a_read_only_archive_is_said_once_and_the_returns_filed_when_it_is_writable(fresh_demo, tmp_path, monkeypatch):
    home = _home(fresh_demo)
    (home.folder("archive")).mkdir(exist_ok=True)
    good = filled_return(home, tmp_path / "good.xlsx")
    bad, _ = make_unreadable("corrupt-zip", home, tmp_path)
    from branchbook.sync.logs import close_logging, configure_logging

    configure_logging(home)
    try:
        with _running(home) as service:
            with _read_only(home.folder("archive"), monkeypatch):
                _drop(home, good, GOOD)
                _drop(home, bad, bad.name)
                wait_until(lambda: service.failures >= 3, 30, "three failed passes")
                status = _status(home)
                assert status["state"] == "error" and "无法写入" in status["message"]
                assert status["last_error"]["kind"] == "read-only" and service.healthy()
                assert main(["status", str(home.root)]) == 0
            _ends_well(home, service, [GOOD], [bad.name])
    finally:
        close_logging()
    log = (home.root / "logs" / "sync.log").read_text(encoding="utf-8")
    assert len([line for line in log.splitlines() if "无法写入" in line]) == 1  # said once, not on every retry
    assert "Traceback" not in log and "Traceback" in (home.root / "logs" / "branchbook-errors.log").read_text("utf-8")
    assert "已合并" in log  # the committed batch was filed by the next pass, not merged twice
    from branchbook.workbook.master import read_master

    merged = [r for r in read_master(home.master)["returns"] if r["result"] == "merged" and r.get("sha256")]
    assert len([r for r in merged if r["file_name"] == GOOD]) == 1


# -- a vanished inbox --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("polling", [False, True])
def test_a_vanished_inbox_is_said_and_watched_again_when_it_is_back(fresh_demo, tmp_path, polling):
    home = _home(fresh_demo)
    good = filled_return(home, tmp_path / "good.xlsx")
    bad, _ = make_unreadable("not-a-workbook", home, tmp_path)
    with _running(home, polling) as service:
        time.sleep(1.0)
        shutil.rmtree(home.folder("inbox"))
        wait_until(lambda: _status(home)["state"] == "error", 10, "the missing inbox said")
        status = _status(home)
        assert "收件文件夹" in status["message"] and "不见了" in status["message"]
        assert status["last_error"]["kind"] == "inbox-gone" and service.healthy()
        time.sleep(1.0)
        _still_beating(home)  # while it waits for the inbox
        home.folder("inbox").mkdir()
        wait_until(lambda: _status(home)["state"] != "error", 15, "the inbox back")
        time.sleep(0.5)  # past the look that follows the return: only the new watch's events bring these in
        _drop(home, good, GOOD)
        _drop(home, bad, bad.name)
        _ends_well(home, service, [GOOD], [bad.name])


# -- a copy that stalls --------------------------------------------------------------------------------------------

def test_a_copy_stalled_for_over_30_seconds_is_merged_and_holds_nobody_up(fresh_demo, tmp_path):
    """With the default stall_seconds (120 s): half a return, 35 s of nothing, then the rest. It is merged, not
    rejected as damaged; a return dropped meanwhile is merged meanwhile, and a bad one beside it sent back. (The longest test here: the
    issue's case is a copy that stalls for over 30 s, and nothing shorter shows it.)"""
    home = _home(fresh_demo, stall_seconds=120.0)
    data = filled_return(home, tmp_path / "slow.xlsx").read_bytes()
    other = filled_return(home, tmp_path / "other.xlsx", name=OTHER, seed=9)
    bad, _ = make_unreadable("not-a-workbook", home, tmp_path)
    with _running(home) as service:
        slow = home.folder("inbox") / GOOD
        with slow.open("wb") as handle:
            handle.write(data[: len(data) // 2])
        time.sleep(3)
        _drop(home, other, OTHER)
        _drop(home, bad, bad.name)
        wait_until(lambda: archived_names(home) == [OTHER], 20, "the other return merged while the copy stalls")
        time.sleep(32)
        assert [p.name for p in home.folder("rejected").glob("*.xlsx")] == [bad.name] and slow.exists()
        with slow.open("ab") as handle:
            handle.write(data[len(data) // 2:])
        _ends_well(home, service, [GOOD, OTHER], [bad.name])
    assert [p.name for p in home.folder("rejected").glob("*.xlsx")] == [bad.name]


def test_a_copy_stalled_past_the_setting_is_read_again_when_it_finishes(fresh_demo, tmp_path):
    """stall_seconds 3: a copy that stalls past it is taken as damaged and sent back; when the copy then
    finishes, the file in rejected/ changes, goes back to the inbox, and is merged; its stale report is gone."""
    home = _home(fresh_demo, stall_seconds=3.0)
    data = filled_return(home, tmp_path / "slow.xlsx").read_bytes()
    with _running(home) as service, (home.folder("inbox") / GOOD).open("wb") as copy:
        copy.write(data[: len(data) // 2])
        copy.flush()
        wait_until(lambda: (home.folder("rejected") / GOOD).exists(), 20, "the half copy sent back")
        assert "已损坏" in (home.folder("rejected") / f"{GOOD}.错误报告.txt").read_text(encoding="utf-8")
        copy.write(data[len(data) // 2:])  # the copy goes on: into the file now in rejected/ (the same inode)
        copy.close()
        _ends_well(home, service, [GOOD])
    assert not list(home.folder("rejected").iterdir())


# -- a stale owner file ------------------------------------------------------------------------------------------

def test_a_stale_owner_file_is_named_with_its_age_and_how_to_remove_it(fresh_demo, tmp_path, capsys):
    home = _home(fresh_demo)
    owner = home.root / "~$master.xlsx"
    owner.write_bytes(b"\0" * 165)
    three_hours_ago = time.time() - 3 * 3600 - 60
    os.utime(owner, (three_hours_ago, three_hours_ago))
    good = filled_return(home, tmp_path / "good.xlsx")
    bad, _ = make_unreadable("encrypted", home, tmp_path)
    master_before = home.master.read_bytes()
    from branchbook.sync.logs import close_logging, configure_logging

    configure_logging(home)
    try:
        with _running(home) as service:
            _drop(home, good, GOOD)
            _drop(home, bad, bad.name)
            wait_until(lambda: archived_names(home) == [GOOD], 30, "the return in the ledger")
            wait_until(lambda: "~$master.xlsx" in _status(home)["message"], 20, "the owner file named")
            message = _status(home)["message"]
            assert "已存在 3 小时" in message and f"删除 {owner}" in message
            capsys.readouterr()
            assert main(["status", str(home.root)]) == 0
            printed = capsys.readouterr().out
            assert "已存在 3 小时" in printed and str(owner) in printed
            assert home.master.read_bytes() == master_before
            time.sleep(1.5)  # several more looks: the reason is logged once
            owner.unlink()
            _ends_well(home, service, [GOOD], [bad.name])
    finally:
        close_logging()
    log = (home.root / "logs" / "sync.log").read_text(encoding="utf-8")
    assert len([line for line in log.splitlines() if "~$master.xlsx" in line]) == 1
    owner.write_bytes(b"\0" * 165)
    os.utime(owner, (three_hours_ago, three_hours_ago))
    assert main(["status", str(home.root)]) == 1  # the service is stopped (exit 1): status looks itself
    printed = capsys.readouterr().out
    assert "未运行，已于" in printed and "已存在 3 小时" in printed and f"删除 {owner}" in printed
    assert main(["export", str(home.root)]) == 2
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert "已存在 3 小时" in said and f"删除 {owner}" in said


def test_a_home_given_as_a_relative_path_names_the_owner_file_by_its_whole_path(fresh_demo, monkeypatch):
    """`branchbook serve H` run in one folder, `branchbook status` read in another: "删除 H/~$master.xlsx" would
    send the office nowhere."""
    from branchbook.sync.master_store import is_busy

    owner = fresh_demo.root / "~$master.xlsx"
    owner.write_bytes(b"\0" * 165)
    monkeypatch.chdir(fresh_demo.root.parent)
    home = Home.open(fresh_demo.root.name)
    assert f"删除 {owner}" in is_busy(home.master, home.lang)


# -- a SIGKILL leaves copies in .work/ -----------------------------------------------------------------------------

def test_copies_a_killed_service_left_in_work_are_removed_at_start(fresh_demo, tmp_path):
    home = pinned_home(fresh_demo)
    good = filled_return(home, tmp_path / "good.xlsx")
    bad, _ = make_unreadable("not-a-workbook", home, tmp_path)
    _drop(home, good, GOOD)
    _drop(home, bad, bad.name)
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "BRANCHBOOK_PAUSE_AT": "before-commit:60"}
    with log_path.open("w") as log:
        killed = subprocess.Popen([sys.executable, "-m", "branchbook", "serve", str(home.root)], stdout=log,
                                  stderr=subprocess.STDOUT, env=env)
        try:
            wait_until(lambda: "paused at before-commit" in log_path.read_text(), 60, "the service to pause")
            killed.send_signal(signal.SIGKILL)
            killed.wait(10)
        finally:
            if killed.poll() is None:
                killed.kill()
    work = home.root / ".work"
    assert len(list(work.iterdir())) == 2  # what the kill left
    home = _home(Home.open(home.root))
    with _running(home) as service:
        _ends_well(home, service, [GOOD], [bad.name])


# -- messages, never tracebacks ------------------------------------------------------------------------------------

def _damaged(template: Path, target: Path, how: str) -> Path:
    import zipfile

    if how in ("dtd", "late-dtd"):
        # late: after a comment longer than the first KiB of the part, where the DTD may still stand
        comment = b"<!--" + b"x" * 3000 + b"-->" if how == "late-dtd" else b""
        with zipfile.ZipFile(template) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == "xl/workbook.xml":
                    data = b'<?xml version="1.0"?>' + comment + b'<!DOCTYPE workbook [<!ENTITY a "x">]>' + data
                out.writestr(info, data)
        return target
    raw = bytearray(template.read_bytes())
    with zipfile.ZipFile(template) as source:
        info = source.getinfo("xl/workbook.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for at in range(start + 5, start + 40):
        raw[at] ^= 0x5A  # the deflate stream's first blocks, scrambled
    target.write_bytes(bytes(raw))
    return target


@pytest.mark.parametrize("how", ["dtd", "late-dtd", "deflate"])
def test_validate_on_a_damaged_file_says_so_in_a_sentence(demo_home, tmp_path, capsys, how):
    path = _damaged(demo_home.folder("outbox") / GOOD, tmp_path / f"{how}.xlsx", how)
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert "已损坏" in captured.err and "Traceback" not in captured.err + captured.out


@pytest.mark.skipif(not MOUNTS, reason="needs a tmpfs")
def test_merge_on_a_full_disk_says_so_and_leaves_nothing_half_done(fresh_demo, tmp_path, capsys):
    source = filled_return(fresh_demo, tmp_path / "good.xlsx")
    with _tmpfs(tmp_path / "disk", "16m") as disk:
        home = _moved(fresh_demo, disk / "home")
        shutil.rmtree(home.root / "backups", ignore_errors=True)
        for leave in (0, 60_000, 400_000):  # nothing fits; the copy fits; the copies and the ledger fit
            filler = _fill(disk, leave)
            code = main(["merge", str(home.root), str(source)])
            captured = capsys.readouterr()
            assert "Traceback" not in captured.err + captured.out
            if code:
                details = (home.root / "logs" / "branchbook-errors.log").read_text(encoding="utf-8")[-1500:]
                assert code == 2 and "磁盘已满" in captured.err, (leave, captured.err, details)
            filler.unlink()
            assert not list((home.root / ".work").glob("*")) if (home.root / ".work").exists() else True
            assert not list(home.root.glob(".master.writing-*"))
            assert not [p for p in home.folder("inbox").iterdir() if p.stat().st_size == 0]
        assert main(["merge", str(home.root)]) in (0, 1)
        assert not inbox_names(home)


def test_rebuild_with_nothing_readable_says_so(fresh_demo, capsys):
    (fresh_demo.root / "ledger.sqlite").write_bytes(b"junk")
    (fresh_demo.root / "ledger-journal.jsonl").unlink()
    fresh_demo.master.write_bytes(b"junk")
    assert main(["rebuild", str(fresh_demo.root)]) == 2
    captured = capsys.readouterr()
    assert "没有可用于重建的记录" in captured.err and "Traceback" not in captured.err + captured.out


def test_a_button_that_fails_says_a_sentence_with_the_log(fresh_demo, tmp_path, monkeypatch):
    from xlwings_remote import apply_actions, book_from_file

    import branchbook.sync.pipeline as pipeline
    from branchbook.addin import macros

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline, "process", broken)
    monkeypatch.setenv("BRANCHBOOK_HOME", str(fresh_demo.root))
    _drop(fresh_demo, filled_return(fresh_demo, tmp_path / "good.xlsx"), GOOD)
    book = book_from_file(fresh_demo.master)
    assert macros.merge_now(book) is None
    alerts = apply_actions(fresh_demo.master, book.json()["actions"], tmp_path / "after.xlsx")
    text = alerts[0][0]
    assert "磁盘已满" in text and "branchbook-errors.log" in text and "Traceback" not in text
    assert "OSError" in (fresh_demo.root / "logs" / "branchbook-errors.log").read_text(encoding="utf-8")


def test_a_read_only_master_keeps_its_mode_when_replaced(fresh_demo, tmp_path):
    import stat

    home = _home(fresh_demo)
    home.master.chmod(0o444)
    _drop(home, filled_return(home, tmp_path / "good.xlsx"), GOOD)
    before = home.master.stat().st_ino
    assert main(["merge", str(home.root)]) in (0, 1)
    assert home.master.stat().st_ino != before  # replaced, with the ledger's news
    assert stat.S_IMODE(home.master.stat().st_mode) == 0o444


# -- the heartbeat -------------------------------------------------------------------------------------------------

def test_the_heartbeat_goes_on_while_another_writer_holds_the_ledger(fresh_demo, tmp_path):
    from branchbook.sync.writer import writing

    home = _home(fresh_demo)
    good = filled_return(home, tmp_path / "good.xlsx")
    with _running(home) as service:
        with writing(home, "merge"):  # this test is the other writer
            _drop(home, good, GOOD)
            wait_until(lambda: _status(home)["state"] == "waiting", 15, "the service to wait for the lock")
            # it names the other writer (at once, or within a second if it came as the lock changed hands)
            wait_until(lambda: "merge" in _status(home)["message"], 2, "the waiting message to name the holder")
            time.sleep(3)
            _still_beating(home)  # beats twice a second while it waits: a stopped heart would be 3 s old by now
            assert _status(home)["state"] == "waiting" and not archived_names(home)
        _ends_well(home, service, [GOOD])


def test_status_believes_the_lock_not_a_status_file_that_says_idle(fresh_demo, capsys):
    """A status.json left by a service that died says idle; no process holds the lock: not running, at once
    (tests/test_service_status.py does it with a real process killed)."""
    status = {"state": "idle", "message": "同步服务已启动", "pid": 4321, "updated": "2026-01-05 08:00:00",
              "heartbeat": datetime.now().strftime("%Y-%m-%d %H:%M:%S"), "stale_after": 120,
              "last_error": {"at": "2026-01-05 07:59:00", "kind": "disk-full", "message": "磁盘已满（示例）"}}
    (fresh_demo.root / "status.json").write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    assert main(["status", str(fresh_demo.root)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("同步服务：未运行。它没有正常停止就结束了") and "空闲" not in printed[0]
    assert printed[1] == "最近一次错误（2026-01-05 07:59:00）：磁盘已满（示例）"
    assert main(["status", str(fresh_demo.root), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["service"] == "not-running" and data["stale"] is False and data["heartbeat_age"] < 5


def test_a_worker_ended_by_a_bug_is_started_again(fresh_demo, tmp_path, monkeypatch):
    home = _home(fresh_demo)
    good = filled_return(home, tmp_path / "good.xlsx")
    with _running(home) as service:
        def broken():
            raise RuntimeError("a bug outside the guarded pass")

        monkeypatch.setattr(service, "_beat", broken)
        wait_until(lambda: not service.worker.is_alive(), 10, "the worker to end")
        assert not service.healthy()
        monkeypatch.undo()
        assert service.revive() and not service.revive()
        _drop(home, good, GOOD)
        _ends_well(home, service, [GOOD])


def test_a_file_another_process_holds_open_waits_until_it_is_closed(fresh_demo, tmp_path):
    """Whole and unchanged, but still open in the program copying it (Linux: a write lease is refused): it
    waits, as Windows' exclusive open makes it wait there, and is merged once closed."""
    if sys.platform != "linux":
        pytest.skip("the lease check is Linux's; on Windows the open itself is exclusive")
    home = _home(fresh_demo, stall_seconds=120.0)
    data = filled_return(home, tmp_path / "good.xlsx").read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nf = open(sys.argv[1], 'wb')\n"
                               "f.write(sys.stdin.buffer.read()); f.flush(); print('written', flush=True)\n"
                               "time.sleep(4)\nf.close()", str(home.folder("inbox") / GOOD)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    with _running(home) as service:
        holder.stdin.write(data)
        holder.stdin.close()
        assert holder.stdout.readline().strip() == b"written"
        time.sleep(3)  # whole and still for far longer than a file needs to be stable (0.4 s here)
        assert archived_names(home) == [] and holder.poll() is None
        holder.wait(10)
        holder.stdout.close()
        _ends_well(home, service, [GOOD])
