"""`branchbook status` on a real `serve` process: running, hung (stopped by SIGSTOP), killed (SIGKILL),
stopped, never started. Whether the service runs is told by its lock, which the OS lets go of when the
process ends however it ends, not by what status.json last said (docs/design.md, "The service never
dies quietly")."""
from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time

import pytest
import yaml
from sync_helpers import wait_until

from branchbook.cli import main
from branchbook.workbook.home import CONFIG_NAME, Home

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="SIGSTOP and SIGKILL are POSIX")
STALE_AFTER = 3.0  # seconds without a heartbeat before a held lock means a hung service


def _status(home: Home, capsys) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["status", str(home.root)])
    return code, capsys.readouterr().out.splitlines()


@contextlib.contextmanager
def _serving(home: Home, log_path, capsys):
    """A real `branchbook serve` process, running (status says so) when this yields; ended however the test ends."""
    with log_path.open("w") as log:
        service = subprocess.Popen([sys.executable, "-m", "branchbook", "serve", str(home.root)], stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: _status(home, capsys)[0] == 0, 60, "the service to run")
            yield service
        finally:
            if service.poll() is None:
                service.send_signal(signal.SIGCONT)
                service.kill()
                service.wait(10)


def _home(fresh_demo) -> Home:
    config = {**fresh_demo.config, "sync": {"poll_seconds": 0.2, "rescan_seconds": 600.0,
                                            "stale_after_seconds": STALE_AFTER}}
    (fresh_demo.root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return Home.open(fresh_demo.root)


def test_a_new_home_says_never_started_without_empty_brackets(fresh_demo, capsys):
    code, printed = _status(fresh_demo, capsys)
    assert code == 1
    assert printed == [f"同步服务：从未启动。启动它：branchbook serve {fresh_demo.root}。"]


def test_status_tells_running_hung_and_killed_at_once(fresh_demo, tmp_path, capsys):
    home = _home(fresh_demo)
    with _serving(home, tmp_path / "serve.log", capsys) as service:
        code, printed = _status(home, capsys)
        assert code == 0 and printed[0].startswith(f"同步服务：运行中（进程 {service.pid}）；")
        assert printed[1].startswith("心跳：") and printed[1].endswith("秒前。")

        service.send_signal(signal.SIGSTOP)  # the process is there, holding its lock, and does nothing
        time.sleep(STALE_AFTER + 1.5)
        code, printed = _status(home, capsys)
        assert code == 4
        assert printed[0].startswith(f"同步服务：没有响应。它的进程 {service.pid} 仍在，但已有 ")
        assert "卡住了" in printed[0] and "运行中" not in "".join(printed)
        capsys.readouterr()
        assert main(["status", str(home.root), "--json"]) == 4
        assert json.loads(capsys.readouterr().out)["service"] == "hung"
        service.send_signal(signal.SIGCONT)
        wait_until(lambda: _status(home, capsys)[0] == 0, 20, "the service to answer again")

        service.send_signal(signal.SIGKILL)  # status.json still says idle, with a heartbeat a moment old
        service.wait(10)
        assert json.loads((home.root / "status.json").read_text(encoding="utf-8"))["state"] == "idle"
        code, printed = _status(home, capsys)
        assert code == 1
        assert printed[0].startswith("同步服务：未运行。它没有正常停止就结束了（被强行结束、程序崩溃或电脑重启）；")
        said = "\n".join(printed)
        assert "空闲" not in said and "运行中" not in said and "正在运行" not in said
        assert str(home.root / "logs" / "sync.log") in printed[0]


def test_a_stopped_service_says_so_and_exits_1(fresh_demo, tmp_path, capsys):
    home = _home(fresh_demo)
    with _serving(home, tmp_path / "serve.log", capsys) as service:
        service.send_signal(signal.SIGTERM)  # the way Ctrl+C stops it: status.json says stopped
        assert service.wait(30) == 0
    stopped_at = json.loads((home.root / "status.json").read_text(encoding="utf-8"))["updated"]
    code, printed = _status(home, capsys)
    assert code == 1
    assert printed == [f"同步服务：未运行，已于 {stopped_at} 停止。启动它：branchbook serve {home.root}。"]


def test_serve_starting_while_status_looks_waits_for_the_lock(fresh_demo):
    """status takes the lock for an instant to see whether it is held; a serve starting in that instant waits
    for it instead of calling itself a second copy."""
    import threading

    from filelock import FileLock

    from branchbook.sync.service import SyncService
    from branchbook.sync.status import LOCK_NAME

    home = _home(fresh_demo)
    held = threading.Event()

    def look_for_a_second():  # what `branchbook status` does, only slower
        with FileLock(str(home.root / LOCK_NAME)):
            held.set()
            time.sleep(1.0)

    looking = threading.Thread(target=look_for_a_second)
    looking.start()
    held.wait(10)
    service = SyncService(home)
    service.start()  # would raise AlreadyRunning had it not waited
    looking.join()
    try:
        assert json.loads((home.root / "status.json").read_text(encoding="utf-8"))["state"] == "idle"
    finally:
        service.stop()
