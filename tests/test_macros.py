"""The add-in's macros on a real xlwings.Book (the remote engine), their actions applied to the file."""
from __future__ import annotations

import importlib.util

import xlwings as xw
from openpyxl import load_workbook
from returns_factory import edit, filled_return
from xlwings_remote import apply_actions, book_from_file, fill_of

from branchbook.addin import macros
from branchbook.addin.lite import write_lite_files


def _run(macro, path, target, name=None):
    book = book_from_file(path, name)
    result = macro(book)
    alerts = apply_actions(path, book.json()["actions"], target)
    return result, alerts, load_workbook(target)


def _bad_return(home, tmp_path):
    def mistakes(wb):
        wb["出勤"]["C4"] = "出息"
        wb["自学"]["C3"] = 30
    return edit(filled_return(home, tmp_path / "bad.xlsx"), mistakes)


def test_validate_marks_the_cells_lists_the_findings_and_says_so(demo_home, tmp_path):
    report, alerts, wb = _run(macros.validate, _bad_return(demo_home, tmp_path), tmp_path / "after.xlsx")
    assert fill_of(wb["出勤"], "C4") == macros.ERROR_COLOR and fill_of(wb["自学"], "C3") == macros.ERROR_COLOR
    assert fill_of(wb["出勤"], "C5") is None and fill_of(wb["自学"], "C2") is None
    results = [[c.value for c in row] for row in wb["校验结果"].iter_rows()]
    assert wb.sheetnames[0] == "校验结果"
    assert [row[1:3] for row in results[1:]] == [["出勤", "C4"], ["自学", "C3"]]  # in the workbook's order
    assert results[1][3] == "出勤 第4行 「S1」：“出息”不是可选值（出席/缺席/请假/请假(在外)），请从下拉列表中选择。"
    assert wb["校验结果"]["C2"].hyperlink is not None
    assert alerts == [["发现 2 处错误、0 处提示。", "BranchBook", "ok", "", ""]]


def test_a_second_run_after_a_fix_clears_that_mark(demo_home, tmp_path):
    _run(macros.validate, _bad_return(demo_home, tmp_path), tmp_path / "first.xlsx")
    fixed = edit(tmp_path / "first.xlsx", lambda wb: wb["出勤"].__setitem__("C4", "出席"))
    _, alerts, wb = _run(macros.validate, fixed, tmp_path / "second.xlsx")
    assert fill_of(wb["出勤"], "C4") is None
    assert fill_of(wb["自学"], "C3") == macros.ERROR_COLOR
    assert [[c.value for c in row][1:3] for row in wb["校验结果"].iter_rows(min_row=2)] == [["自学", "C3"]]
    assert wb.sheetnames.count("校验结果") == 1


def test_a_clean_return_gets_no_result_sheet(demo_home, tmp_path):
    report, alerts, wb = _run(macros.validate, filled_return(demo_home, tmp_path / "ok.xlsx"), tmp_path / "o.xlsx")
    assert report.valid and "校验结果" not in wb.sheetnames
    assert alerts[0][0] == "校验通过，没有发现问题。"


def test_validate_works_on_the_master_too(demo_home, tmp_path):
    report, alerts, wb = _run(macros.validate, demo_home.master, tmp_path / "m.xlsx")
    assert report.kind == "master" and report.valid


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
    made, alerts, _ = _run(macros.make_returns, fresh_demo.master, tmp_path / "m.xlsx")
    assert len(made) == 9 and all(p.parent == fresh_demo.folder("outbox") for p in made)
    assert alerts[0][0] == "已生成 9 份回执，在 outbox 文件夹中。"


def test_lite_main_py_runs_the_same_macro(demo_home, tmp_path):
    main, requirements = write_lite_files(tmp_path / "lite", wheel="https://office.example/branchbook.whl")
    assert "openpyxl" in requirements.read_text() and "branchbook.whl" in requirements.read_text()
    spec = importlib.util.spec_from_file_location("lite_main", main)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = _bad_return(demo_home, tmp_path)
    book = book_from_file(path)
    module.validate(book)
    funcs = [a["func"] for a in book.json()["actions"]]
    assert funcs.count("setRangeColor") == 2 and "addSheet" in funcs and funcs[-1] == "alert"


def test_refresh_flags_writes_the_flags_sheet_of_the_open_master(fresh_demo, tmp_path, monkeypatch):
    from datetime import date

    from branchbook.workbook.flags import compute_flags
    from branchbook.workbook.master import read_master

    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    flags, alerts, wb = _run(macros.refresh_flags, fresh_demo.master, tmp_path / "m.xlsx")
    expected = compute_flags(read_master(fresh_demo.master), date.today())
    assert len(flags) == len(expected) > 0
    rows = list(wb["落后提醒"].iter_rows(min_row=2, values_only=True))
    header = [cell.value for cell in wb["落后提醒"][1]]
    assert len(rows) == len(expected)
    assert {row[header.index("提醒事项")] for row in rows} == {f.row()["rule"] for f in expected}
    levels = [row[header.index("级别")] for row in rows]
    assert levels == sorted(levels, key=["重点督办", "督促", "提示"].index)  # most pressing first
    assert alerts[0][0] == f"已刷新落后提醒：共 {len(expected)} 条。"


def test_merge_now_merges_the_inbox_into_the_open_master_and_saves(fresh_demo, tmp_path, monkeypatch):
    import shutil

    from branchbook.workbook.master import read_master

    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    path = filled_return(fresh_demo, tmp_path / "院机关支部_第3周.xlsx")
    shutil.copyfile(path, fresh_demo.folder("inbox") / path.name)
    before = read_master(fresh_demo.master)
    result, alerts, _ = _run(macros.merge_now, fresh_demo.master, tmp_path / "saved.xlsx")
    after = read_master(tmp_path / "saved.xlsx")
    assert [o.result for o in result.outcomes] == ["merged"]
    assert len(after["attendance"]) == len(before["attendance"]) + 32
    assert any(r["return_id"] == "B08-W03" and r["result"] == "merged" for r in after["returns"])
    assert not list(fresh_demo.folder("inbox").glob("*.xlsx")) and list(fresh_demo.folder("archive").glob("*.xlsx"))
    assert "已合并" in alerts[0][0]


def test_bulletin_button_writes_the_bulletin(fresh_demo, tmp_path, monkeypatch):
    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    path, alerts, _ = _run(macros.bulletin, fresh_demo.master, tmp_path / "m.xlsx")
    assert path.parent == fresh_demo.folder("outbox") and path.suffix == ".docx" and path.stat().st_size > 20_000
    assert alerts[0][0] == f"简报已生成：{path.name}（在 outbox 文件夹中）"


def test_refresh_flags_also_refreshes_the_dashboard_figures(fresh_demo, tmp_path, monkeypatch):
    from datetime import date

    from branchbook.workbook.master import read_master
    from branchbook.workbook.reports.dashboard import branch_rows
    from branchbook.workbook.reports.progress import compute_progress

    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    edit(fresh_demo.master, lambda wb: wb["进度看板"].__setitem__("C4", 999))  # a stale figure
    _, _, wb = _run(macros.refresh_flags, fresh_demo.master, tmp_path / "m.xlsx")
    expected = branch_rows(compute_progress(read_master(fresh_demo.master), date.today()), "zh")
    assert wb["进度看板"]["C4"].value == expected[0][2] != 999


def test_a_bad_config_is_said_in_an_alert_not_passed_over(fresh_demo, tmp_path, monkeypatch):
    from branchbook.workbook.home import CONFIG_NAME

    monkeypatch.setenv(macros.HOME_VARIABLE, str(fresh_demo.root))
    (fresh_demo.root / CONFIG_NAME).write_text("lang: zh\nsnyc:\n  poll_seconds: 1\n", encoding="utf-8")
    for macro in (macros.refresh_flags, macros.merge_now, macros.make_returns):
        result, alerts, _ = _run(macro, fresh_demo.master, tmp_path / "m.xlsx")
        assert result is None and len(alerts) == 1
        assert "snyc" in alerts[0][0] and "sync" in alerts[0][0]  # the setting named, and what it may have meant


def test_a_master_outside_any_home_still_gets_its_flags(demo_home, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv(macros.HOME_VARIABLE, str(tmp_path / "nowhere"))
    copy = tmp_path / "elsewhere" / "master.xlsx"
    copy.parent.mkdir()
    shutil.copyfile(demo_home.master, copy)
    flags, alerts, _ = _run(macros.refresh_flags, copy, tmp_path / "m.xlsx")
    assert flags and alerts[0][0].startswith("已刷新落后提醒")
