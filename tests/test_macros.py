"""The add-in's macros on a real xlwings.Book (the remote engine), their actions applied to the file by a
stand-in that refuses what Excel refuses (tests/xlwings_remote.py). The whole module also runs with
xlwings' server-side decorators on (XLWINGS_ON_SERVER=true, as in xlwings Lite and Server): see
test_the_macro_tests_pass_with_the_server_side_decorators_on."""
from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xlwings as xw
from openpyxl import load_workbook
from openpyxl.comments import Comment
from returns_factory import edit, filled_return
from xlwings_remote import (
    ExcelRefused,
    apply_actions,
    book_from_file,
    fill_of,
    note_of,
    payload_from_file,
    run_script,
    server_side,
)

from branchbook.addin import macros
from branchbook.addin.lite import browser_requirements, write_lite_files
from branchbook.addin.marks import ERROR_COLOR

PROTECTED_SAYS = "受保护的工作表（出勤）在这里不能标色：校验结果 工作表列出了其中的问题，每条都链接到对应单元格。"
C4_MESSAGE = "出勤 第4行 「S1」：“出息”不是可选值（出席/缺席/请假/请假(在外)），请从下拉列表中选择。"


def _run(macro, path, target, name=None):
    book = book_from_file(path, name)
    result = run_script(macro, book)
    assert result is None  # what every xlwings path can marshal
    alerts = apply_actions(path, book.json()["actions"], target)
    return alerts, load_workbook(target)


def _bad_return(home, tmp_path):
    def mistakes(wb):
        wb["出勤"]["C4"] = "出息"
        wb["自学"]["C3"] = 30
    return edit(filled_return(home, tmp_path / "bad.xlsx"), mistakes)


def _results(wb) -> list[list]:
    return [[c.value for c in row] for row in wb["校验结果"].iter_rows(min_row=2)]


def test_the_decorators_are_what_this_run_says():
    # In the server-side run every script is xlwings' async wrapper, called as Lite calls it; else a plain function.
    assert inspect.iscoroutinefunction(macros.validate) == server_side() == (os.environ.get("XLWINGS_ON_SERVER") == "true")


def test_validate_marks_the_cells_lists_the_findings_and_says_so(demo_home, tmp_path):
    alerts, wb = _run(macros.validate, _bad_return(demo_home, tmp_path), tmp_path / "after.xlsx")
    assert fill_of(wb["自学"], "C3") == ERROR_COLOR and fill_of(wb["自学"], "C2") is None
    assert note_of(wb["自学"], "C3").startswith("自学 第3行") and note_of(wb["自学"], "C2") is None
    # 出勤 is protected and xlwings' remote engine cannot unprotect it: left as it was, listed with a link
    assert fill_of(wb["出勤"], "C4") is None and note_of(wb["出勤"], "C4") is None and wb["出勤"].protection.sheet
    results = _results(wb)
    assert wb.sheetnames[0] == "校验结果"
    assert [c.value for c in wb["校验结果"][1]] == ["级别", "工作表", "单元格", "问题", "填写的内容", "已加批注"]
    assert [row[1:3] for row in results] == [["出勤", "C4"], ["自学", "C3"]]  # in the workbook's order
    assert results[0][3] == C4_MESSAGE and [row[5] for row in results] == [None, "是"]
    assert wb["校验结果"]["C2"].hyperlink is not None
    assert alerts == [["发现 2 处错误、0 处提示。\n" + PROTECTED_SAYS, "BranchBook", "ok", "", ""]]


def test_a_second_run_after_a_fix_clears_that_mark_and_its_note(demo_home, tmp_path):
    _run(macros.validate, _bad_return(demo_home, tmp_path), tmp_path / "first.xlsx")
    fixed = edit(tmp_path / "first.xlsx", lambda wb: wb["自学"].__setitem__("C3", 2))
    alerts, wb = _run(macros.validate, fixed, tmp_path / "second.xlsx")
    assert fill_of(wb["自学"], "C3") is None and note_of(wb["自学"], "C3") is None  # no old message stays
    assert [row[1:3] for row in _results(wb)] == [["出勤", "C4"]]
    assert wb.sheetnames.count("校验结果") == 1
    assert alerts[0][0] == "发现 1 处错误、0 处提示。\n" + PROTECTED_SAYS


def test_the_offices_own_note_on_a_marked_cell_stays(demo_home, tmp_path):
    path = edit(_bad_return(demo_home, tmp_path), lambda wb: setattr(wb["自学"]["C3"], "comment", Comment("待核实", "王老师")))
    _, wb = _run(macros.validate, path, tmp_path / "first.xlsx")
    assert fill_of(wb["自学"], "C3") == ERROR_COLOR and note_of(wb["自学"], "C3") == "待核实"
    assert _results(wb)[1][5] is None  # no note of ours there
    fixed = edit(tmp_path / "first.xlsx", lambda wb: wb["自学"].__setitem__("C3", 2))
    _, wb = _run(macros.validate, fixed, tmp_path / "second.xlsx")
    assert fill_of(wb["自学"], "C3") is None and note_of(wb["自学"], "C3") == "待核实"


def test_the_stand_in_refuses_what_excel_refuses_on_a_protected_sheet(demo_home, tmp_path):
    path = filled_return(demo_home, tmp_path / "r.xlsx")
    for change in (lambda b: setattr(b.sheets["出勤"]["C4"], "color", ERROR_COLOR),  # unlocked, but no formatting
                   lambda b: setattr(b.sheets["出勤"]["A2"], "value", "X"),  # a locked member id
                   lambda b: b.sheets["党员名单"]["B2"].add_note("x")):  # a locked cell
        book = book_from_file(path)
        change(book)
        with pytest.raises(ExcelRefused):
            apply_actions(path, book.json()["actions"], tmp_path / "out.xlsx")
    book = book_from_file(path)
    book.sheets["出勤"]["C4"].value = "缺席"  # what a secretary may do: type in an unlocked cell
    book.sheets["自学"]["C3"].color = ERROR_COLOR  # an unprotected sheet
    apply_actions(path, book.json()["actions"], tmp_path / "out.xlsx")
    wb = load_workbook(tmp_path / "out.xlsx")
    assert wb["出勤"]["C4"].value == "缺席" and fill_of(wb["自学"], "C3") == ERROR_COLOR


def test_the_macros_know_the_sheets_the_template_protects_and_its_one_password(demo_home, tmp_path):
    from openpyxl.utils.protection import hash_password

    from branchbook.workbook.schema import load_schemas

    wb = load_workbook(filled_return(demo_home, tmp_path / "r.xlsx"))
    protected = {ws.title for ws in wb.worksheets if ws.protection.sheet}
    assert protected == {"填表说明", "党员名单", "出勤", "_元数据"}
    assert protected == load_schemas().returns.protected_sheet_names() & set(wb.sheetnames)
    for title in protected:
        assert wb[title].protection.password == hash_password(load_schemas().returns.password)


class ComSheet:
    """A desktop sheet's COM object as far as marks.unprotected uses it: it records the calls."""

    def __init__(self):
        self.ProtectContents, self.ProtectDrawingObjects, self.ProtectScenarios = True, False, True
        self.Protection = type("Protection", (), {name: name == "AllowFormattingRows" for name in (
            "AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns",
            "AllowInsertingRows", "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows",
            "AllowSorting", "AllowFiltering", "AllowUsingPivotTables")})()
        self.calls = []

    def Unprotect(self, password):  # noqa: N802 - COM's name
        self.calls.append(("Unprotect", password))

    def Protect(self, *options):  # noqa: N802 - COM's name; Excel's order of arguments
        names = ("Password", "DrawingObjects", "Contents", "Scenarios", "UserInterfaceOnly", "AllowFormattingCells",
                 "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns", "AllowInsertingRows",
                 "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows", "AllowSorting",
                 "AllowFiltering", "AllowUsingPivotTables")
        assert len(options) == len(names)
        self.calls.append(("Protect", dict(zip(names, options))))


def test_desktop_excel_unprotects_with_the_schemas_password_and_protects_again_as_it_was():
    from branchbook.addin.marks import unprotected

    api = ComSheet()
    with pytest.raises(RuntimeError), unprotected(type("Sheet", (), {"api": api})()):
        assert api.calls == [("Unprotect", "branchbook")]  # schemas/returns.yaml's password, typed here by hand
        raise RuntimeError("a mark failed")
    assert api.calls[1][0] == "Protect"
    options = api.calls[1][1]
    assert options["Password"] == "branchbook" and options["Contents"] is True
    assert options["DrawingObjects"] is False and options["Scenarios"] is True and options["UserInterfaceOnly"] is False
    assert options["AllowFormattingRows"] is True and options["AllowFormattingCells"] is False


def test_a_button_that_fails_says_so_in_a_sentence_and_logs_the_details(fresh_demo, tmp_path, monkeypatch):
    from branchbook.sync.logs import ERRORS_LOG

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    monkeypatch.setattr(macros, "validate_sheets", broken)
    alerts, _ = _run(macros.validate, fresh_demo.master, tmp_path / "m.xlsx")
    log = fresh_demo.root / "logs" / ERRORS_LOG
    assert alerts == [[f"BranchBook 出现意外错误，未能完成。详细信息已记入 {log}，请把该文件发给维护人员。",
                       "BranchBook", "ok", "", ""]]
    assert "RuntimeError: boom" in log.read_text(encoding="utf-8") and "Traceback" not in alerts[0][0]


def test_a_clean_return_gets_no_result_sheet(demo_home, tmp_path):
    alerts, wb = _run(macros.validate, filled_return(demo_home, tmp_path / "ok.xlsx"), tmp_path / "o.xlsx")
    assert "校验结果" not in wb.sheetnames
    assert alerts[0][0] == "校验通过，没有发现问题。"


def test_validate_works_on_the_master_too(demo_home, tmp_path):
    alerts, wb = _run(macros.validate, demo_home.master, tmp_path / "m.xlsx")
    assert alerts[0][0] == "校验通过，没有发现问题。" and "校验结果" not in wb.sheetnames


class DesktopExcelStandIn:
    """Stands in for desktop Excel, which cannot run here: an add-in whose Book.caller() is the
    .xlam while the secretary looks at another workbook. Holds real remote Books."""

    def __init__(self, addin: xw.Book, active: xw.Book):
        self.addin, self.books = addin, type("Books", (), {"active": active})()


def test_a_button_in_the_addin_acts_on_the_active_workbook(demo_home, tmp_path):
    path = filled_return(demo_home, tmp_path / "r.xlsx")
    active = book_from_file(path)
    addin = book_from_file(path, name="branchbook.xlam")
    excel = DesktopExcelStandIn(addin, active)
    addin_caller = type("Caller", (), {"name": "branchbook.xlam", "app": excel})()
    assert macros.target_book(addin_caller) is active
    assert macros.target_book(active) is active  # a button in the workbook itself means that workbook


def test_make_returns_button_writes_the_outbox(fresh_demo, tmp_path, monkeypatch):
    for old in fresh_demo.folder("outbox").iterdir():
        old.unlink()
    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    alerts, _ = _run(macros.make_returns, fresh_demo.master, tmp_path / "m.xlsx")
    assert len(list(fresh_demo.folder("outbox").glob("*.xlsx"))) == 9
    assert alerts[0][0] == "已生成 9 份周报表，在 outbox 文件夹中。"


def _lite_main(tmp_path):
    main, requirements = write_lite_files(tmp_path / "lite", wheel="https://office.example/branchbook.whl")
    spec = importlib.util.spec_from_file_location("lite_main", main)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, requirements


def test_lite_main_py_runs_the_same_macro_not_a_second_decoration(demo_home, tmp_path):
    from xlwings.pro.udfs_officejs import custom_scripts_meta

    module, requirements = _lite_main(tmp_path)
    assert module.validate is macros.validate  # decorated once, in macros.py
    if server_side():
        assert [m["function_name"] for m in custom_scripts_meta(module)] == ["validate"]  # what Lite's menu lists
    path = _bad_return(demo_home, tmp_path)
    book = book_from_file(path)
    run_script(module.validate, book, module)
    apply_actions(path, book.json()["actions"], tmp_path / "after.xlsx")
    wb = load_workbook(tmp_path / "after.xlsx")
    assert fill_of(wb["自学"], "C3") == ERROR_COLOR and wb.sheetnames[0] == "校验结果"
    assert requirements.read_text().splitlines()[-1] == "https://office.example/branchbook.whl"


WHEEL_URL = "https://office.example/branchbook-0.1-py3-none-any.whl"


def test_lite_requirements_list_what_a_browser_installs_then_the_wheels_web_address(tmp_path):
    from branchbook.cli import main

    assert main(["addin", "lite", str(tmp_path / "lite"), "--wheel", WHEEL_URL]) == 0
    lines = (tmp_path / "lite" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ") and lines[-1] == WHEEL_URL and "branchbook" not in lines[1:-1]
    names = {line.split("=")[0].split(">")[0].split("<")[0].lower() for line in lines[1:-1]}
    # pyproject.toml's dependencies, less the three marked not for emscripten (isal, calamine, watchdog)
    assert names == {"openpyxl", "xlsxwriter", "defusedxml", "msoffcrypto-tool", "pyyaml", "filelock", "python-docx",
                     "matplotlib", "fonttools", "cryptography", "packaging"}
    assert "openpyxl==3.1.5" in lines and not any(";" in line for line in lines)  # markers judged, not passed on


def test_lite_says_what_to_do_next_and_refuses_to_overwrite_main_py_without_force(tmp_path, capsys):
    from branchbook.cli import main

    folder = tmp_path / "lite"
    folder.mkdir()
    (folder / "main.py").write_text("# the office's own script\n", encoding="utf-8")
    assert main(["addin", "lite", str(folder), "--wheel", WHEEL_URL]) == 2
    assert capsys.readouterr().err.strip() == f"{folder} 里已有 main.py：什么都没有改。请换一个文件夹，或加上 --force 替换它们。"
    assert (folder / "main.py").read_text(encoding="utf-8") == "# the office's own script\n"
    assert not (folder / "requirements.txt").exists()
    assert main(["addin", "lite", str(folder), "--wheel", WHEEL_URL, "--force"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [str(folder / "main.py"), str(folder / "requirements.txt"), "接下来："]
    steps = "\n".join(out[3:])
    assert "粘贴到它的 main.py 编辑器" in steps and "requirements.txt 页" in steps and WHEEL_URL in steps
    assert "from branchbook.addin.macros import validate" in (folder / "main.py").read_text(encoding="utf-8")


def test_lite_refuses_a_wheel_that_is_no_web_address(tmp_path, capsys):
    from branchbook.cli import main

    folder = tmp_path / "lite"
    assert main(["addin", "lite", str(folder)]) == 2
    assert capsys.readouterr().err.startswith("请给出 branchbook 安装包的网址：--wheel https://")
    for local in ("D:\\共享\\branchbook-0.1-py3-none-any.whl", str(tmp_path / "branchbook.whl"), "file:///srv/b.whl"):
        assert main(["addin", "lite", str(folder), "--wheel", local]) == 2
        assert capsys.readouterr().err.startswith(f"--wheel {local} 不是网址：运行 xlwings Lite 的浏览器打不开这台电脑上的文件。")
    assert not folder.exists()


LITE_RUN = """
import asyncio, importlib.util, json, sys

import xlwings as xw
from xlwings.pro.udfs_officejs import custom_scripts_call

main_py, payload, allowed, absent = sys.argv[1], sys.argv[2], set(json.loads(sys.argv[3])), set(json.loads(sys.argv[4]))
allowed |= {n.split(".")[0] for n in sys.modules} | set(sys.stdlib_module_names) | {"branchbook"}

class OnlyWhatLiteInstalls:
    # Lite has xlwings and what requirements.txt names; not what branchbook leaves out in a browser
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in absent or top not in allowed:
            raise ImportError("not installed in Lite: " + name)

sys.meta_path.insert(0, OnlyWhatLiteInstalls())
spec = importlib.util.spec_from_file_location("main", main_py)
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)
book = xw.Book(json=json.load(open(payload, encoding="utf-8")))
asyncio.run(custom_scripts_call(main, "validate", typehint_to_value={xw.Book: book}))
print(json.dumps({"actions": book.json()["actions"], "modules": sorted(sys.modules)}, default=str))
"""


def _installed_by(requirements: list[str]) -> list[str]:
    """The import names of what the listed requirements install, their own requirements included (micropip
    installs those too)."""
    from importlib.metadata import packages_distributions, requires

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    covered, todo = set(), [canonicalize_name(Requirement(r).name) for r in requirements]
    while todo:
        name = todo.pop()
        if name in covered:
            continue
        covered.add(name)
        for line in requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return sorted(m for m, owners in packages_distributions().items()
                  if any(canonicalize_name(o) in covered for o in owners))


NO_BROWSER_WHEEL = {"isal", "python-calamine", "watchdog"}  # native code, or of no use in a browser


def _left_out_in_a_browser() -> list[str]:
    """The import names of branchbook's requirements that a browser (sys_platform emscripten) skips."""
    from importlib.metadata import packages_distributions, requires

    from packaging.utils import canonicalize_name

    skipped = {canonicalize_name(r.name) for r in browser_requirements(requires("branchbook"))[1]}
    return sorted(m for m, owners in packages_distributions().items()
                  if any(canonicalize_name(o) in skipped for o in owners))


def test_the_wheel_asks_a_browser_for_no_package_without_a_browser_wheel():
    """micropip judges the wheel's markers as sys_platform emscripten: a requirement with no browser wheel,
    left unmarked, stops Lite from installing branchbook at all."""
    from importlib.metadata import requires

    asked = {r.name.lower() for r in browser_requirements(requires("branchbook"))[0]}
    assert not asked & NO_BROWSER_WHEEL
    assert {"isal", "python_calamine", "watchdog"} <= set(_left_out_in_a_browser())


def test_lite_validates_in_a_python_without_watchdog_or_calamine_with_the_requirements_it_names(demo_home, tmp_path):
    main = write_lite_files(tmp_path / "lite", wheel="https://office.example/branchbook.whl")[0]
    path = _bad_return(demo_home, tmp_path)
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(payload_from_file(path)), encoding="utf-8")
    listed = [line.strip() for line in (tmp_path / "lite" / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#") and "://" not in line]
    env = {**os.environ, "XLWINGS_ON_SERVER": "true"}  # Lite's own decorators: the script must be awaited
    done = subprocess.run([sys.executable, "-c", LITE_RUN, str(main), str(payload), json.dumps(_installed_by(listed)),
                           json.dumps(_left_out_in_a_browser())],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert not {"watchdog", "python_calamine", "isal"} & set(out["modules"])
    assert "branchbook.workbook.validation" in out["modules"]
    apply_actions(path, out["actions"], tmp_path / "after.xlsx")
    wb = load_workbook(tmp_path / "after.xlsx")
    assert fill_of(wb["自学"], "C3") == ERROR_COLOR and [row[1:3] for row in _results(wb)] == [["出勤", "C4"], ["自学", "C3"]]


def test_refresh_flags_writes_the_flags_sheet_of_the_open_master(fresh_demo, tmp_path, monkeypatch):
    from datetime import date

    from branchbook.workbook.flags import compute_flags
    from branchbook.workbook.master import read_master

    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    alerts, wb = _run(macros.refresh_flags, fresh_demo.master, tmp_path / "m.xlsx")
    expected = compute_flags(read_master(fresh_demo.master), date.today())
    assert len(expected) > 0
    rows = list(wb["进度提醒"].iter_rows(min_row=2, values_only=True))
    header = [cell.value for cell in wb["进度提醒"][1]]
    assert len(rows) == len(expected)
    assert {row[header.index("提醒事项")] for row in rows} == {f.row()["rule"] for f in expected}
    levels = [row[header.index("级别")] for row in rows]
    assert levels == sorted(levels, key=["重点督办", "督促", "提示"].index)  # most pressing first
    assert alerts[0][0] == f"已刷新进度提醒：共 {len(expected)} 条。"


def test_merge_now_merges_the_inbox_into_the_open_master_and_saves(fresh_demo, tmp_path, monkeypatch):
    import shutil

    from branchbook.workbook.master import read_master

    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    path = filled_return(fresh_demo, tmp_path / "院机关支部_第3周.xlsx")
    shutil.copyfile(path, fresh_demo.folder("inbox") / path.name)
    before = read_master(fresh_demo.master)
    alerts, _ = _run(macros.merge_now, fresh_demo.master, tmp_path / "saved.xlsx")
    after = read_master(tmp_path / "saved.xlsx")
    assert len(after["attendance"]) == len(before["attendance"]) + 32
    assert any(r["return_id"] == "B08-W03" and r["result"] == "merged" for r in after["returns"])
    assert not list(fresh_demo.folder("inbox").glob("*.xlsx")) and list(fresh_demo.folder("archive").glob("*.xlsx"))
    assert len(alerts) == 1 and "已合并" in alerts[0][0]


def test_bulletin_button_writes_the_bulletin(fresh_demo, tmp_path, monkeypatch):
    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    alerts, _ = _run(macros.bulletin, fresh_demo.master, tmp_path / "m.xlsx")
    said = alerts[0][0]
    assert said.startswith("简报已生成：") and said.endswith("（在 outbox 文件夹中）")
    path = fresh_demo.folder("outbox") / said.removeprefix("简报已生成：").removesuffix("（在 outbox 文件夹中）")
    assert path.suffix == ".docx" and path.stat().st_size > 20_000


def test_refresh_flags_also_refreshes_the_dashboard_figures(fresh_demo, tmp_path, monkeypatch):
    from datetime import date

    from branchbook.workbook.master import read_master
    from branchbook.workbook.reports.dashboard import branch_rows
    from branchbook.workbook.reports.progress import compute_progress

    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    edit(fresh_demo.master, lambda wb: wb["进度看板"].__setitem__("C4", 999))  # a stale figure
    _, wb = _run(macros.refresh_flags, fresh_demo.master, tmp_path / "m.xlsx")
    expected = branch_rows(compute_progress(read_master(fresh_demo.master), date.today()), "zh")
    assert wb["进度看板"]["C4"].value == expected[0][2] != 999


def test_a_bad_config_is_said_in_an_alert_not_passed_over(fresh_demo, tmp_path, monkeypatch):
    from branchbook.workbook.home import CONFIG_NAME

    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    (fresh_demo.root / CONFIG_NAME).write_text("lang: zh\nsnyc:\n  poll_seconds: 1\n", encoding="utf-8")
    for macro in (macros.refresh_flags, macros.merge_now, macros.make_returns):
        alerts, _ = _run(macro, fresh_demo.master, tmp_path / "m.xlsx")
        assert len(alerts) == 1
        assert "snyc" in alerts[0][0] and "sync" in alerts[0][0]  # the setting named, and what it may have meant


def test_a_master_outside_any_home_still_gets_its_flags(demo_home, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv(macros.HOME_VARIABLE, str(tmp_path / "nowhere"))
    copy = tmp_path / "elsewhere" / "master.xlsx"
    copy.parent.mkdir()
    shutil.copyfile(demo_home.master, copy)
    alerts, wb = _run(macros.refresh_flags, copy, tmp_path / "m.xlsx")
    assert alerts[0][0].startswith("已刷新进度提醒") and list(wb["进度提醒"].iter_rows(min_row=2, values_only=True))


def test_the_macro_tests_pass_with_the_server_side_decorators_on():
    """xlwings Lite and Server decorate scripts with xlwings' server-side `script` (XLWINGS_ON_SERVER=true):
    the same tests, run that way, each script awaited through xlwings' own custom_scripts_call."""
    if server_side():
        pytest.skip("this is the server-side run")
    here = Path(__file__)
    env = {**os.environ, "XLWINGS_ON_SERVER": "true"}
    done = subprocess.run([sys.executable, "-m", "pytest", str(here), "-q", "-p", "no:cacheprovider", "-n", "0",  # one module: no workers
                           "-k", "not server_side_decorators_on and not without_watchdog"],
                          capture_output=True, text=True, env=env, cwd=here.parent.parent, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout and "failed" not in done.stdout and "error" not in done.stdout.lower()
