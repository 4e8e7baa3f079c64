"""`branchbook addin install` / `remove` into a fake APPDATA and home: exactly what they say, and back.
(A real Windows PC is the check of Excel opening the add-in: docs/addin.md.)"""
from __future__ import annotations

from pathlib import Path

import pytest

from branchbook.addin.install import Places, install, remove, shipped_addin
from branchbook.cli import main

PYTHON = r"C:\BranchBook\.venv\Scripts\python.exe"


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under root."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def _places(tmp_path: Path) -> Places:
    (tmp_path / "AppData" / "Roaming").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    return Places(tmp_path / "AppData" / "Roaming", tmp_path / "home", encoding="gbk")


def test_install_on_a_fresh_pc_puts_the_addin_and_the_interpreter_then_remove_leaves_nothing(tmp_path):
    places = _places(tmp_path)
    before = _tree(tmp_path)
    done = install(places, PYTHON)
    assert [d.code for d in done] == ["copied", "interpreter-set", "restart"]
    after = _tree(tmp_path)
    added = {name: data for name, data in after.items() if name not in before}
    assert sorted(added) == ["AppData/Roaming/Microsoft", "AppData/Roaming/Microsoft/Excel",
                             "AppData/Roaming/Microsoft/Excel/XLSTART",
                             "AppData/Roaming/Microsoft/Excel/XLSTART/BranchBook.xlam",
                             "home/.xlwings", "home/.xlwings/branchbook-addin.json", "home/.xlwings/xlwings.conf"]
    assert added["AppData/Roaming/Microsoft/Excel/XLSTART/BranchBook.xlam"] == shipped_addin().read_bytes()
    assert added["home/.xlwings/xlwings.conf"] == b'"INTERPRETER_WIN","C:\\BranchBook\\.venv\\Scripts\\python.exe"\n'
    assert [d.code for d in remove(places)] == ["addin-removed", "interpreter-removed"]
    assert _tree(tmp_path) == before


def test_remove_puts_back_the_settings_that_were_there_byte_for_byte(tmp_path):
    places = _places(tmp_path)
    xlstart = places.appdata / "Microsoft" / "Excel" / "XLSTART"
    xlstart.mkdir(parents=True)
    (xlstart / "个人宏.xlsb").write_bytes(b"someone else's")
    conf = places.home / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    original = ('"LICENSE_KEY","abc"\r\n"INTERPRETER_WIN","C:\\Users\\张三\\Python311\\python.exe"\r\n'
                '"SHOW CONSOLE","False"').encode("gbk")  # no final newline, and Windows' ANSI code page
    conf.write_bytes(original)
    before = _tree(tmp_path)
    install(places, PYTHON)
    assert conf.read_bytes() == ('"LICENSE_KEY","abc"\r\n"INTERPRETER_WIN","C:\\BranchBook\\.venv\\Scripts\\python.exe"\r\n'
                                 '"SHOW CONSOLE","False"').encode("gbk")  # the line replaced where it was, ending as the file's
    again = install(places, PYTHON)  # a second install (an update) keeps what the first found
    assert [d.code for d in again] == ["replaced", "interpreter-kept", "restart"]
    done = remove(places)
    assert done[1].code == "interpreter-restored"
    assert done[1].values["line"] == '"INTERPRETER_WIN","C:\\Users\\张三\\Python311\\python.exe"'
    assert _tree(tmp_path) == before


LINE = b'"INTERPRETER_WIN","C:\\BranchBook\\.venv\\Scripts\\python.exe"'


@pytest.mark.parametrize("before, installed, removed", [
    # no final newline: install adds one, which stays after remove
    (b'"SHOW CONSOLE","True"', b'"SHOW CONSOLE","True"\n' + LINE + b"\n", b'"SHOW CONSOLE","True"\n'),
    # a file Windows' Notepad saved: the new line ends in CRLF too, no mixed endings
    (b'"LICENSE_KEY","abc"\r\n"SHOW CONSOLE","True"\r\n',
     b'"LICENSE_KEY","abc"\r\n"SHOW CONSOLE","True"\r\n' + LINE + b"\r\n",
     b'"LICENSE_KEY","abc"\r\n"SHOW CONSOLE","True"\r\n'),
], ids=["no-final-newline", "crlf"])
def test_an_interpreter_is_added_after_other_settings_ending_as_the_file_does(tmp_path, before, installed, removed):
    places = _places(tmp_path)
    conf = places.home / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    conf.write_bytes(before)
    install(places, PYTHON)
    assert conf.read_bytes() == installed
    assert [d.code for d in install(places, PYTHON)] == ["replaced", "interpreter-kept", "restart"]
    remove(places)
    assert conf.read_bytes() == removed


def test_remove_without_install_changes_nothing(tmp_path):
    places = _places(tmp_path)
    before = _tree(tmp_path)
    assert [d.code for d in remove(places)] == ["nothing-installed"]
    assert _tree(tmp_path) == before


def test_the_cli_says_in_chinese_what_it_did_and_undid(tmp_path, monkeypatch, capsys):
    places = _places(tmp_path)
    monkeypatch.setenv("APPDATA", str(places.appdata))
    monkeypatch.delenv("USERPROFILE", raising=False)
    monkeypatch.setenv("HOME", str(places.home))
    assert main(["addin", "install", "--python", PYTHON]) == 0
    xlam = places.appdata / "Microsoft" / "Excel" / "XLSTART" / "BranchBook.xlam"
    conf = places.home / ".xlwings" / "xlwings.conf"
    assert capsys.readouterr().out.splitlines() == [
        f"已把加载项放进 Excel 的启动文件夹：{xlam}",
        f"已把按钮使用的 Python（INTERPRETER_WIN）设为 {PYTHON}，写在 {conf}",
        "请关闭所有 Excel 窗口，再重新打开 Excel：功能区会出现“台账”选项卡。",
        f"这台电脑不是 Windows：INTERPRETER_WIN 现在指向这台电脑上的 Python（{PYTHON}），只能用于测试。",
    ]
    assert main(["addin", "remove"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"已从 Excel 的启动文件夹删除加载项：{xlam}",
        f"已从 {conf} 删除 Python 设置（INTERPRETER_WIN）",
    ]
    assert not xlam.exists() and not conf.exists()


def test_the_cli_off_windows_says_where_to_run_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("APPDATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["addin", "install"]) == 2
    assert capsys.readouterr().err.strip() == "找不到 Excel 的启动文件夹：没有设置环境变量 APPDATA。请在办公室的 Windows 电脑上运行这条命令。"
    assert list(tmp_path.iterdir()) == []


def test_the_cli_writes_the_xlwings_settings_under_userprofile_as_windows_does(tmp_path, monkeypatch, capsys):
    places = _places(tmp_path)
    profile = tmp_path / "Users" / "张三"
    profile.mkdir(parents=True)
    monkeypatch.setenv("APPDATA", str(places.appdata))
    monkeypatch.setenv("USERPROFILE", str(profile))
    monkeypatch.setenv("HOME", str(places.home))
    assert main(["addin", "install", "--python", PYTHON]) == 0
    conf = profile / ".xlwings" / "xlwings.conf"
    assert conf.read_bytes() == b'"INTERPRETER_WIN","C:\\BranchBook\\.venv\\Scripts\\python.exe"\n'
    assert f"写在 {conf}" in capsys.readouterr().out
    assert list(places.home.iterdir()) == []
    assert main(["addin", "remove"]) == 0
    assert list(profile.iterdir()) == []


def test_a_wrong_addin_action_is_named_as_the_user_knows_it(capsys):
    assert main(["addin", "frob"]) == 2
    err = capsys.readouterr().err
    assert "参数 操作：无效的选择：'frob'" in err and "'install', 'remove', 'lite'" in err
    assert "target" not in err
