"""Every command, given bad arguments or a missing HOME, answers with a sentence and an exit code,
never a traceback; output cut short by the reader (`| head`) ends quietly."""
from __future__ import annotations

import subprocess
import sys

import pytest

from branchbook.cli import Exit, build_parser, main

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001 - the parser's own list


def test_the_command_list_is_what_this_test_knows():
    assert {"init", "returns", "validate", "merge", "flags", "serve", "status", "rebuild", "export", "restore",
            "approve", "bulletin", "remind", "addin", "demo", "import", "bundle", "rollup", "campaign"} == set(COMMANDS)


MISSING_HOME = {
    "returns": [], "merge": [], "flags": [], "serve": [], "status": [], "rebuild": [], "export": [],
    "restore": [], "approve": ["1a2b3c4d5e6f"], "bulletin": [], "remind": [], "import": ["名单.xlsx"],
}


@pytest.mark.parametrize("command", sorted(MISSING_HOME))
def test_a_missing_home_is_named_without_a_traceback(command, tmp_path, capsys):
    missing = tmp_path / "没有这个文件夹"
    assert main([command, str(missing), *MISSING_HOME[command]]) == Exit.UNUSABLE
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "不是 BranchBook 工作文件夹" in err and str(missing) in err


@pytest.mark.parametrize("command", COMMANDS)
def test_bad_arguments_give_usage_and_exit_2(command, capsys):
    assert main([command, "--no-such-option"]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "用法：" in err and "错误" in err  # argparse speaks the cli catalog


def test_validate_a_missing_file_and_a_file_that_is_no_workbook(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "无.xlsx")]) == Exit.UNUSABLE
    assert "找不到文件" in capsys.readouterr().err
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook at all")
    assert main(["validate", str(junk)]) == Exit.UNUSABLE
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err.strip()


def test_an_unexpected_failure_is_logged_and_named(fresh_demo, monkeypatch, capsys):
    from branchbook.sync import rebuild

    def broken(home):
        raise RuntimeError("a bug we do not know of yet")

    monkeypatch.setattr(rebuild, "rebuild", broken)
    assert main(["rebuild", str(fresh_demo.root)]) == Exit.INTERNAL
    err = capsys.readouterr().err
    log = fresh_demo.root / "logs" / "branchbook-errors.log"
    assert "Traceback" not in err and str(log) in err
    assert "a bug we do not know of yet" in log.read_text(encoding="utf-8")  # the details are kept for whoever fixes it


def test_version_and_json_everywhere(fresh_demo, capsys):
    import json

    from branchbook import __version__

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    for command in ("flags", "status", "restore", "returns"):
        assert main([command, str(fresh_demo.root), "--json"]) == (1 if command == "status" else 0)  # never started
        json.loads(capsys.readouterr().out)


def test_output_piped_into_head_ends_quietly(fresh_demo):
    shell = subprocess.run(f'"{sys.executable}" -m branchbook flags "{fresh_demo.root}" --as-of 2005-03-30 | head -1',
                           shell=True, capture_output=True, text=True, timeout=120)
    assert shell.stdout.startswith("进度提醒共")
    assert "Traceback" not in shell.stderr and "BrokenPipe" not in shell.stderr


def test_returns_branch_by_its_name_or_id_and_an_unknown_one_lists_the_branches(fresh_demo, capsys):
    """--branch takes the branch's exact name as well as its ID; an unknown one is refused with the branches to choose
    from (ID and name), not a bare 「台账中没有支部」."""
    home, outbox = str(fresh_demo.root), fresh_demo.root / "outbox"
    for made_before in outbox.iterdir():
        made_before.unlink()
    assert main(["returns", home, "--week", "3", "--branch", "院机关支部"]) == 0
    made = sorted(path.name for path in outbox.iterdir())
    assert made == ["院机关支部_第3周.xlsx"], made
    capsys.readouterr()
    assert main(["returns", home, "--week", "3", "--branch", "院机关"]) == Exit.UNUSABLE
    err = capsys.readouterr().err
    assert "台账中没有支部“院机关”" in err and "B08 院机关支部" in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["returns"], ["flags"], ["export"]])
def test_an_office_edit_with_errors_is_listed_by_every_command_that_takes_edits_in(fresh_demo, capsys, command):
    """A college-wide session typed into master.xlsx without its 活动编号: every command that takes the office's edits
    in names the sheet, row and column (sync/export.py refused_lines), and none makes returns without it."""
    from openpyxl import load_workbook

    book = load_workbook(fresh_demo.master)
    sessions = book["学习活动"]
    header = [c.value for c in sessions[1]]
    row = [None] * len(header)
    row[header.index("日期")], row[header.index("形式")] = "2005-03-30", "集中学习"
    row[header.index("主题")], row[header.index("学时")] = "全校报告会", 2
    sessions.append(row)
    book.save(fresh_demo.master)
    outbox = sorted(fresh_demo.folder("outbox").glob("*")) if fresh_demo.folder("outbox").exists() else []
    assert main([command[0], str(fresh_demo.root)]) != 0
    said = "".join(capsys.readouterr())
    assert "学习活动" in said and f"第{sessions.max_row}行" in said and "活动编号" in said, said
    assert "手工修改有错误" in said
    assert sorted(fresh_demo.folder("outbox").glob("*")) == outbox  # no return made without the office's session


def test_returns_without_a_week_makes_the_homes_week_not_the_computers(fresh_demo):
    """A HOME that lives on a day of its own (branchbook.yaml `as_of`, as the demo's does) makes that day's week: the
    computer's clock, years after the campaign, made the week after the last one received instead."""
    import re

    from branchbook.workbook.settings import CONFIG_NAME

    config = fresh_demo.root / CONFIG_NAME
    text = re.sub(r"(?m)^as_of:.*\n", "", config.read_text(encoding="utf-8"))
    config.write_text(text + "as_of: '2005-04-13'\n", encoding="utf-8")  # week 6; returns are in up to week 3
    outbox = fresh_demo.root / "outbox"
    for made_before in outbox.iterdir():
        made_before.unlink()
    assert main(["returns", str(fresh_demo.root), "--branch", "B08"]) == 0
    assert [path.name for path in outbox.iterdir()] == ["院机关支部_第6周.xlsx"]
