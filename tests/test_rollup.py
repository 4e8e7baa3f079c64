"""The university roll-up (issue 14, item 5): three demo colleges, one with a broken master, rolled up by the
command; every figure of the university workbook checked against values computed here from the colleges'
masters read with openpyxl (their sheets and their own 进度看板), not with the roll-up's code."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import warnings
from collections import Counter, defaultdict
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from sync_helpers import filled_returns

from branchbook.cli import Exit, main
from branchbook.sync.pipeline import Incoming, process
from branchbook.workbook.home import CONFIG_NAME, Home

AS_OF = date(2005, 3, 30)  # week 4 of the demo campaign: week 3 (3/21-3/27) is the report week
REPORT_WEEK = 3
# Who returned week 3 in each college: the colleges differ in the branches behind.
RETURNED = {"甲学院": ["B01", "B02", "B03", "B04", "B05", "B06", "B08", "B09"], "乙学院": ["B01", "B02", "B04"]}


def _college(demo_home, root: Path, name: str) -> Path:
    """A demo college whose week-3 returns from RETURNED[name] are merged by the real pipeline (which writes its
    master with flags, levels and dashboard, as the office's export does)."""
    home_root = root / name
    shutil.copytree(demo_home.root, home_root)
    config = (home_root / CONFIG_NAME).read_text(encoding="utf-8") + f"as_of: '{AS_OF}'\n"
    (home_root / CONFIG_NAME).write_text(config, encoding="utf-8")
    home = Home.open(home_root)
    made = filled_returns(home, root / f"{name}-made", weeks=(REPORT_WEEK,), branch_ids=RETURNED[name])
    arrived = datetime(2005, 3, 28, 10).timestamp()
    items = []
    for path in made:
        target = home.folder("inbox") / path.name
        shutil.copyfile(path, target)
        os.utime(target, (arrived, arrived))
        items.append(Incoming.at(target))
    result = process(home, items)
    assert [o.result for o in result.outcomes] == ["merged"] * len(made)
    return home_root


@pytest.fixture(scope="module")
def colleges(demo_home, tmp_path_factory):
    root = tmp_path_factory.mktemp("rollup")
    first = _college(demo_home, root, "甲学院")
    second = _college(demo_home, root, "乙学院")
    broken = root / "丙学院" / "master.xlsx"
    broken.parent.mkdir()
    data = demo_home.master.read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # a copy cut off halfway: its zip directory is gone
    return {"甲学院": first, "乙学院": second / "master.xlsx", "丙学院": broken, "root": root}


def _rows(ws, header_row: int = 1) -> list[dict]:
    """A sheet's rows as dicts by its header (openpyxl)."""
    values = list(ws.iter_rows(min_row=header_row, values_only=True))
    header = values[0]
    return [dict(zip(header, row)) for row in values[1:] if any(v is not None for v in row)]


def _master_of(source: Path) -> Path:
    return source / "master.xlsx" if source.is_dir() else source


def _labels(code_list: str, where: str | None = None) -> set[str]:
    codes = yaml.safe_load(resources.files("branchbook.schemas").joinpath("codes.yaml").read_text(encoding="utf-8"))
    return {c["zh"] for c in codes[code_list] if where is None or c.get(where)}


def _expected(master: Path) -> dict:
    """A college's figures, straight from its master's sheets (openpyxl)."""
    book = load_workbook(master, read_only=True, data_only=True)
    branches = _rows(book["党支部"])
    names = {b["支部名称"]: b["支部编号"] for b in branches}
    as_of = date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", book["进度看板"]["A1"].value).group(0))
    members = Counter(m["支部编号"] for m in _rows(book["党员"])
                      if m["参学起始日期"] is None or m["参学起始日期"].date() <= as_of)
    merged = _labels("return_result") & {"已合并", "已替换"}
    received = defaultdict(set)
    for r in _rows(book["周报"]):
        if r["处理结果"] in merged:
            received[r["周次"]].add(r["支部编号"])
    central = _labels("session_kind", "central")
    sessions = {s["活动编号"]: s for s in _rows(book["学习活动"]) if s["形式"] in central}
    branch_of = {m["党员编号"]: m["支部编号"] for m in _rows(book["党员"])}
    present = absent = 0
    for row in _rows(book["出勤"]):
        if row["活动编号"] in sessions and row["党员编号"] in branch_of:
            present += row["状态"] == "出席"
            absent += row["状态"] == "缺席"
    levels, branch_levels = Counter(), defaultdict(Counter)
    for flag in _rows(book["进度提醒"]):
        if flag["本周变化"] != "已消除":
            levels[flag["级别"]] += 1
            branch_levels[names.get(flag["所在支部"])][flag["级别"]] += 1
    dashboard = {row["支部"]: row for row in _rows(book["进度看板"], header_row=3)
                 if row["支部"] in names and row["党员数"] is not None}
    book.close()
    return {"as_of": as_of, "branches": names, "members": members, "received": received, "present": present,
            "absent": absent, "levels": levels, "branch_levels": branch_levels, "dashboard": dashboard,
            "sha256": hashlib.sha256(master.read_bytes()).hexdigest()}


def test_three_colleges_roll_up_and_the_broken_one_is_reported(colleges, capsys, tmp_path):
    out = tmp_path / "全校汇总.xlsx"
    sources = [colleges["甲学院"], colleges["乙学院"], colleges["丙学院"]]
    code = main(["rollup", str(out), *map(str, sources)])
    printed = capsys.readouterr().out
    assert code == Exit.FINDINGS  # a master to fix; the others are rolled up all the same
    broken = colleges["丙学院"]
    assert f"{broken}：“master.xlsx”已损坏，无法打开" in printed and "未汇总" in printed
    book = load_workbook(out)  # openpyxl reads back what XlsxWriter wrote
    assert book.sheetnames == ["进度看板", "各学院", "各支部", "各周周报表", "数据来源", "未汇总"]
    assert [r["文件"] for r in _rows(book["未汇总"])] == [str(broken)]
    assert "已损坏" in _rows(book["未汇总"])[0]["问题"]

    expected = {name: _expected(_master_of(colleges[name])) for name in ("甲学院", "乙学院")}
    # Traceable: each college's file, its own 数据截至 and the file's checksum.
    sources_sheet = {r["学院"]: r for r in _rows(book["数据来源"])}
    assert set(sources_sheet) == {"甲学院", "乙学院"}
    for name, figures in expected.items():
        assert sources_sheet[name]["数据截至"] == figures["as_of"].isoformat() == AS_OF.isoformat()
        assert sources_sheet[name]["文件指纹（SHA-256）"] == figures["sha256"]
        assert Path(sources_sheet[name]["文件"]) == _master_of(colleges[name])

    colleges_sheet = {r["学院"]: r for r in _rows(book["各学院"])}
    branches_sheet = defaultdict(dict)
    for row in _rows(book["各支部"]):
        branches_sheet[row["学院"]][row["支部编号"]] = row
    weeks_sheet = {(r["学院"], r["周次"]): r for r in _rows(book["各周周报表"])}
    for name, figures in expected.items():
        college = colleges_sheet[name]
        count = len(figures["branches"])
        assert college["支部数"] == count
        assert college["党员数"] == sum(figures["members"].values())
        assert college["周次"] == REPORT_WEEK
        assert college["本周收到周报表"] == len(figures["received"][REPORT_WEEK]) == len(RETURNED[name])
        assert college["应交周报表"] == count
        for level in ("提示", "督促", "重点督办"):
            assert college[level] == figures["levels"][level]
        assert college["进度提醒"] == sum(figures["levels"].values()) > 0
        assert college["出勤率"] == pytest.approx(figures["present"] / (figures["present"] + figures["absent"]), abs=1e-4)
        # The college's hours: its branches measured to the report week's end (those that returned it), weighted
        # by members, from the college's own dashboard figures (rounded there to 0.1 hour).
        complete = [figures["dashboard"][b] for b, i in figures["branches"].items() if i in RETURNED[name]]
        weighted = sum(row["人均学时"] * row["党员数"] for row in complete) / sum(row["党员数"] for row in complete)
        assert college["人均学时"] == pytest.approx(weighted, abs=0.06)
        for week in range(1, REPORT_WEEK + 1):
            row = weeks_sheet[(name, week)]
            assert (row["收到周报表"], row["应交周报表"]) == (len(figures["received"][week]), count)
        # Per branch: the same measure as the college's dashboard, and the flags of its Flags sheet by level.
        assert set(branches_sheet[name]) == set(figures["branches"].values())
        for branch_name, branch_id in figures["branches"].items():
            row, own = branches_sheet[name][branch_id], figures["dashboard"][branch_name]
            assert row["支部"] == branch_name
            assert row["党员数"] == own["党员数"] == figures["members"][branch_id]
            assert row["本周周报表"] == own["本周周报表"]
            assert row["累计周报表（周）"] == own["累计周报表（周）"] == sum(
                branch_id in ids for ids in figures["received"].values())
            for column in ("人均学时", "进度目标学时", "达标占比", "出勤率"):
                assert row[column] == pytest.approx(own[column], abs=0.051), (name, branch_name, column)
            for level in ("提示", "督促", "重点督办"):
                assert row[level] == figures["branch_levels"][branch_id][level], (name, branch_id, level)
    # The colleges differ: 乙学院 has more branches behind in week 3, and so more flags.
    assert colleges_sheet["乙学院"]["本周收到周报表"] < colleges_sheet["甲学院"]["本周收到周报表"]
    # The dashboard: a row per college, the colleges' chart code (a bar chart of hours, a weekly trend).
    dashboard = book["进度看板"]
    assert [dashboard.cell(row, 1).value for row in (4, 5)] == ["甲学院", "乙学院"]
    assert dashboard.cell(3, 1).value == "学院"
    assert len(dashboard._charts) == 2  # noqa: SLF001 - openpyxl keeps the charts it read there


@pytest.mark.parametrize("damage, problem", [
    ("no-sheet", "缺少工作表“出勤”"),
    ("no-column", "工作表“党员”没有“姓名”列"),
    ("a-return", "这是支部周报表，不是学院台账"),
    ("not-there", "文件或文件夹不存在"),
])
def test_a_master_that_fails_is_named_with_what_is_wrong(colleges, demo_home, tmp_path, capsys, damage, problem):
    bad = tmp_path / "坏学院.xlsx"
    if damage == "no-sheet":
        book = load_workbook(demo_home.master)
        del book["出勤"]
        book.save(bad)
    elif damage == "no-column":
        book = load_workbook(demo_home.master)
        book["党员"].delete_cols(2)
        book.save(bad)
    elif damage == "a-return":
        shutil.copyfile(next(demo_home.folder("outbox").glob("*.xlsx")), bad)
    out = tmp_path / "汇总.xlsx"
    assert main(["rollup", str(out), str(colleges["乙学院"]), str(bad)]) == Exit.FINDINGS
    printed = capsys.readouterr().out
    assert f"{bad}：" in printed or f"{bad}:" in printed
    assert problem in printed
    book = load_workbook(out, read_only=True)
    assert [r["学院"] for r in _rows(book["各学院"])] == ["乙学院"]
    assert problem in _rows(book["未汇总"])[0]["问题"]
    book.close()


def test_english_workbook_and_clean_exit(colleges, tmp_path, capsys):
    out = tmp_path / "university.xlsx"
    assert main(["rollup", str(out), str(colleges["甲学院"]), "--lang", "en", "--as-of", "2005-03-23"]) == Exit.OK
    assert "University workbook saved" in capsys.readouterr().out
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["Dashboard", "Colleges", "Branches", "Returns by week", "Sources", "Not rolled up"]
    row = _rows(book["Colleges"])[0]
    assert (row["Week"], row["Returns this week"]) == (2, 9)  # as of 3/23 the report week is 2, which all returned
    assert _rows(book["Sources"])[0]["Data up to, from"] == "as given (--as-of)"
    book.close()


def test_a_college_master_given_to_merge_is_told_apart(fresh_demo, capsys):
    """A college's master sent to `merge` (as a university might) is refused with its clear message, and nothing
    is merged."""
    master_copy = fresh_demo.root.parent / "生医学院台账.xlsx"
    shutil.copyfile(fresh_demo.master, master_copy)
    before = _data_rows(fresh_demo.master)
    assert main(["merge", str(fresh_demo.root), str(master_copy)]) == Exit.FINDINGS
    printed = capsys.readouterr().out
    assert "这不是支部周报表" in printed and "生医学院台账.xlsx" in printed
    assert _data_rows(fresh_demo.master) == before  # its receipt is logged (退回); no record of it is merged


def _data_rows(master: Path) -> dict[str, int]:
    book = load_workbook(master, read_only=True)
    counts = {name: sum(1 for _ in book[name].iter_rows(min_row=2)) for name in ("学习活动", "出勤", "自学", "党员")}
    book.close()
    return counts


@pytest.mark.libreoffice
def test_libreoffice_reads_the_university_workbook(colleges, tmp_path, libreoffice):
    out = tmp_path / "汇总.xlsx"
    assert main(["rollup", str(out), str(colleges["甲学院"]), str(colleges["乙学院"])]) == Exit.OK
    converted = libreoffice(out, "xlsx:Calc MS Excel 2007 XML")
    with warnings.catch_warnings():
        # LibreOffice adds x14 extensions (data-bar details) that openpyxl reads past with a warning.
        warnings.filterwarnings("ignore", ".* extension is not supported and will be removed", UserWarning)
        book = load_workbook(converted)
    assert [r["学院"] for r in _rows(book["各学院"])] == ["甲学院", "乙学院"]
    assert [r["支部编号"] for r in _rows(book["各支部"])][:2] == ["B01", "B02"]
    assert len(book["进度看板"]._charts) == 2  # noqa: SLF001 - both charts survive LibreOffice


def test_an_output_folder_that_is_not_there_is_named(colleges, tmp_path, capsys):
    missing = tmp_path / "没有" / "汇总.xlsx"
    assert main(["rollup", str(missing), str(colleges["乙学院"])]) == Exit.UNUSABLE
    err = capsys.readouterr().err
    assert "文件夹不存在" in err and str(missing.parent) in err and "Traceback" not in err
    assert not missing.parent.exists()
