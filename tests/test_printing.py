"""Printing as an office prints: the master's 进度提醒 and a filled return made into PDFs by LibreOffice
(A4, every column on the page, the header on every page, page numbers), and the print setup, filter buttons
and named lists every sheet carries, read back from the files."""
from __future__ import annotations

import re
import shutil
import warnings
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from openpyxl.utils.protection import hash_password
from pypdf import PdfReader
from returns_factory import edit, filled_return

from branchbook.cli import main
from branchbook.workbook.home import Home
from branchbook.workbook.master import read_master
from branchbook.workbook.schema import load_schemas
from branchbook.workbook.texts import readme_lines

A4_PORTRAIT, A4_LANDSCAPE = (595, 842), (842, 595)  # points, rounded
FOOTER = re.compile(r"第 (\d+) 页，共 (\d+) 页")
FLAGS_HEADER = ["级别", "本周变化", "对象", "编号", "姓名/名称", "所在支部", "提醒事项", "具体情况", "起始日期",
                "首次提醒", "联系委员", "支部书记"]
# A college that flags every member who missed one session: the demo's 15 flags become a list of two pages.
STRICT_RULES = "rules:\n  thresholds:\n    attendance_rate_min: 1.0\n    attendance_min_sessions: 1\n"
BIG_BRANCH = "生医系硕士生党支部_第3周.xlsx"  # B03, 48 members


def _pages(pdf):
    """(size in points, text) of each page."""
    return [((round(float(page.mediabox.width)), round(float(page.mediabox.height))), page.extract_text())
            for page in PdfReader(pdf).pages]


def _pages_with(pages, *words):
    return [(size, text) for size, text in pages if all(word in text for word in words)]


@pytest.mark.libreoffice
def test_the_flags_sheet_prints_on_a4_landscape_every_column_and_its_header_on_each_page(
        fresh_demo, libreoffice, tmp_path):
    (fresh_demo.root / "branchbook.yaml").write_text(
        (fresh_demo.root / "branchbook.yaml").read_text(encoding="utf-8") + STRICT_RULES, encoding="utf-8")
    assert main(["export", str(fresh_demo.root)]) == 0
    flags = read_master(Home.open(fresh_demo.root).master)["flags"]
    assert len(flags) > 70  # more than one landscape page holds

    pages = _pages(libreoffice(fresh_demo.master, "pdf", tmp_path))
    assert {size for size, _ in pages} <= {A4_PORTRAIT, A4_LANDSCAPE}
    readme = pages[0][1].replace("\n", "")
    for line in readme_lines("zh"):  # the 说明 sheet's lines whole on its page, none cut at either end
        assert line[:6] in readme and line[-6:] in readme, line
    sheet = _pages_with(pages, "提醒事项", "本周变化")  # words only the flags sheet's header holds
    assert len(sheet) >= 2
    for size, text in sheet:
        assert size == A4_LANDSCAPE
        assert [label for label in FLAGS_HEADER if label not in text] == []  # the header, on every page
        number, total = FOOTER.search(text).groups()
        assert int(total) == len(pages) and 1 <= int(number) <= len(pages)
    first = sheet[0][1]
    # The last column's values are on the first page too: nothing is pushed to a page of its own.
    top = [f for f in flags[:5] if f["secretary"]]
    assert top and all(f["secretary"] in first and f["subject_id"] in first for f in top)
    last_ids = {f["subject_id"] for f in flags[-3:]}
    assert all(subject in sheet[-1][1] for subject in last_ids)


@pytest.mark.libreoffice
def test_a_filled_return_prints_on_a4_with_every_column_and_its_header_on_each_page(demo_home, libreoffice, tmp_path):
    path = filled_return(demo_home, tmp_path / BIG_BRANCH, name=BIG_BRANCH)

    def more_selfstudy(wb):  # a long week: 130 rows, more than a portrait page holds
        ws = wb["自学"]
        roster = [row[0] for row in wb["党员名单"].iter_rows(min_row=2, values_only=True)]
        filled = sum(1 for row in ws.iter_rows(min_row=2, values_only=True) if row[0])
        for offset in range(130 - filled):
            row = 2 + filled + offset
            ws.cell(row=row, column=1, value=roster[offset % len(roster)])
            ws.cell(row=row, column=2, value=date(2005, 3, 21) + timedelta(days=offset % 7))
            ws.cell(row=row, column=3, value=1.5)
            ws.cell(row=row, column=4, value=f"读本第{offset + 1}节")

    edit(path, more_selfstudy)
    pages = _pages(libreoffice(path, "pdf", tmp_path))
    assert {size for size, _ in pages} <= {A4_PORTRAIT, A4_LANDSCAPE}
    for _, text in pages:  # page numbers on every page
        assert int(FOOTER.search(text).group(2)) == len(pages)

    guide = pages[0][1].replace("\n", "")
    assert f"工作表保护密码：{load_schemas().returns.password}" in guide  # printed with the 填表说明

    study = _pages_with(pages, "学习内容", "学时")
    assert len(study) >= 2
    for size, text in study:
        assert size == A4_PORTRAIT and all(label in text for label in ["党员编号", "日期", "学时", "学习内容"])
    assert "读本第1节" in study[0][1] and "读本第" in study[-1][1]

    grid = _pages_with(pages, "S2", "S5", "S8")  # the attendance grid's header (the guide names S1–S8)
    assert grid and all(f"S{n}" in grid[0][1] for n in range(1, 9))  # every session column on the page
    assert "M0098" in grid[-1][1]  # the last member of B03's 48 (M0051..M0098)


def test_every_master_sheet_is_set_up_for_a4(demo_home):
    wb = load_workbook(demo_home.master)
    # Wider than a portrait page even at 90 %: 党支部 8 columns of 13-17 characters, 学习活动 126 characters, ...
    # 说明: one column as wide as its longest line (144 characters).
    # 督查记录: 8 columns of findings, follow-up and re-check, 118 characters.
    # 自学: with its 补学活动 and the two grey columns of provenance, wider than a portrait page.
    # 整改清单: problem, measure and owner of each item; 整改公示: the counts of a survey beside its remarks.
    landscape = {"说明", "党支部", "党员", "学习活动", "笔记检查", "周报", "进度提醒", "督查记录", "自学", "整改清单", "整改公示"}
    # 出勤: 92 characters (674 pixels, 505 points), which a portrait page's 523 points hold
    portrait = {"阶段", "党委委员", "出勤", "征求意见", "汇报收到", "党委扩大会", "扩大会汇报", "计划方案", "意见征集",
                "党性分析", "谈心谈话", "民主评议"}
    assert landscape | portrait == set(wb.sheetnames) - {"进度看板"}  # the dashboard: one page (test_reports)
    for name in landscape | portrait | {"进度看板"}:
        ws = wb[name]
        setup = ws.page_setup
        assert int(setup.paperSize) == 9, name
        assert setup.orientation == ("portrait" if name in portrait else "landscape"), name
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (setup.fitToWidth or 1) == 1  # 1 is the default, which XlsxWriter leaves out
        assert (setup.fitToHeight or 1) == 1 if name == "进度看板" else setup.fitToHeight == 0  # 0: as tall as it takes
        assert bool(ws.print_options.horizontalCentered) == (name != "说明")  # lines of text: centred, LibreOffice cuts them
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
        assert ws.print_title_rows == (None if name in ("说明", "进度看板") else "$1:$1")


def test_master_drop_downs_list_named_ranges_of_ids(demo_home):
    wb = load_workbook(demo_home.master)
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in wb["党员"].data_validations.dataValidation
             if dv.type == "list"}
    assert lists["C2"] == "list_branches"
    branch_lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in wb["党支部"].data_validations.dataValidation
                    if dv.type == "list"}
    assert branch_lists["G2"] == "list_committee"
    assert wb.defined_names["list_branches"].attr_text == \
        "OFFSET('党支部'!$A$2,0,0,MAX(1,COUNTA('党支部'!$A:$A)-1),1)"
    assert wb.defined_names["list_committee"].attr_text == \
        "OFFSET('党委委员'!$A$2,0,0,MAX(1,COUNTA('党委委员'!$A:$A)-1),1)"
    every = [dv.formula1 for ws in wb for dv in ws.data_validations.dataValidation]
    assert not [formula for formula in every if "$" in (formula or "")]  # no fixed range left


@pytest.mark.libreoffice
def test_the_named_lists_hold_the_ids_in_libreoffice(demo_home, libreoffice, tmp_path):
    tables = read_master(demo_home.master)
    path = tmp_path / "names.xlsx"
    shutil.copyfile(demo_home.master, path)

    def probe(wb):
        ws = wb.create_sheet("probe")
        ws["A1"] = "=ROWS(list_branches)"
        ws["A2"] = "=INDEX(list_branches,ROWS(list_branches))"
        ws["A3"] = "=ROWS(list_committee)"
        ws["A4"] = "=INDEX(list_committee,1)"

    edit(path, probe)
    calculated = libreoffice(path, "xlsx", tmp_path / "out")
    with warnings.catch_warnings():  # openpyxl leaves out LibreOffice's extensions, and says so
        warnings.simplefilter("ignore", UserWarning)
        values = [row[0] for row in load_workbook(calculated, data_only=True)["probe"].iter_rows(values_only=True)]
    assert values == [len(tables["branches"]), tables["branches"][-1]["branch_id"],
                      len(tables["committee"]), tables["committee"][0]["committee_id"]]


def test_every_return_sheet_is_set_up_for_a4_with_filter_buttons_and_a_named_roster(demo_home):
    wb = load_workbook(demo_home.folder("outbox") / BIG_BRANCH)
    schemas = load_schemas()
    rows = schemas.returns.rows_per_sheet
    filters = {"党员名单": "A1:E49", "学习活动": f"A1:M{rows + 1}", "出勤": "A1:R49", "自学": f"A1:E{rows + 1}",
               "笔记检查": f"A1:H{rows + 1}", "征求意见": f"A1:D{rows + 1}", "汇报收到": f"A1:D{rows + 1}"}
    prose = {"填表说明", "本周小结"}
    assert set(filters) | prose | {"_元数据"} == set(wb.sheetnames)
    for name in set(filters) | prose:
        ws = wb[name]
        assert int(ws.page_setup.paperSize) == 9, name
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.print_options.horizontalCentered
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
        assert ws.print_title_rows == (None if name in prose else "$1:$1"), name
        assert ws.auto_filter.ref == filters.get(name), name
    assert wb["笔记检查"].page_setup.orientation == "landscape"  # 8 columns, wider than a portrait page
    assert wb["自学"].page_setup.orientation == "portrait"
    assert wb["出勤"].page_setup.orientation == "landscape"  # S1–S16: its four 党小组 may each meet twice
    for name in ("党员名单", "出勤"):  # protected, yet the filter buttons work
        assert wb[name].protection.sheet and not wb[name].protection.autoFilter
    assert wb.defined_names["list_roster"].attr_text == "'党员名单'!$A$2:$A$49"
    members = [dv for dv in wb["自学"].data_validations.dataValidation if str(dv.sqref).startswith("A2")]
    assert members[0].formula1 == "list_roster"


def test_the_guide_states_the_protection_password_from_its_one_place(demo_home):
    password = load_schemas().returns.password
    wb = load_workbook(demo_home.folder("outbox") / BIG_BRANCH)
    guide = [row[0] for row in wb["填表说明"].iter_rows(values_only=True) if row[0]]
    assert f"工作表保护密码：{password}（保护只防误改，不是保密）。" in guide
    assert wb["党员名单"].protection.password == hash_password(password)  # the very password the sheets take


def test_the_guide_says_how_a_notebook_ordered_to_improve_is_re_checked(demo_home):
    """The check that ordered the fix is in a week already merged: the re-check is a new row in a later week."""
    wb = load_workbook(demo_home.folder("outbox") / BIG_BRANCH)
    guide = "".join(row[0] for row in wb["填表说明"].iter_rows(values_only=True) if isinstance(row[0], str))
    assert "前几周检查为“限期改进”的笔记，复查时在「笔记检查」新增一行，日期填复查当天" in guide


def test_the_docs_state_the_same_password():
    from pathlib import Path

    password = load_schemas().returns.password
    docs = Path(__file__).resolve().parent.parent / "docs"
    assert f"保护密码是 `{password}`" in (docs / "getting-started.md").read_text(encoding="utf-8")
    assert f"the password is `{password}`" in (docs / "getting-started.en.md").read_text(encoding="utf-8")


# The smallest print scale a page may have: 11-point text printed at 6.6 points or more (docs/design.md, "Printing").
PRINT_SCALE_FLOOR = 0.6
DEFAULT_POINTS = 11  # the master's text, unscaled


def _page_scales(pdf):
    """(text, print scale) of each page: the size pypdf reports for the page's body text over 11 points."""
    found = []
    for page in PdfReader(pdf).pages:
        sizes = []

        def visit(text, cm, tm, font, size, sizes=sizes):
            if text.strip():
                sizes.append(size * abs(tm[3]) * abs(cm[3]))

        text = page.extract_text(visitor_text=visit)
        body = sorted(sizes)[len(sizes) // 2] if sizes else 0  # the median: the footer and header are few
        found.append((text, body / DEFAULT_POINTS))
    return found


def _longest(ws, label):
    """The longest text of the column headed `label`, as the master holds it."""
    rows = ws.iter_rows(values_only=True)
    column = next(rows).index(label)
    return max((row[column] for row in rows if isinstance(row[column], str)), key=len)


@pytest.mark.libreoffice
def test_the_returns_and_flags_sheets_print_readable_and_whole(demo_run, libreoffice, tmp_path):
    """The long texts (周报's 处理说明, 进度提醒's 具体情况) wrap in their columns: printed whole, not cut off
    or run into the next column, and the page is not shrunk below the floor to fit them."""
    home = demo_run().home  # `branchbook demo`'s: merged returns, some sent back
    wb = load_workbook(home.master, read_only=True)
    note, detail = _longest(wb["周报"], "处理说明"), _longest(wb["进度提醒"], "具体情况")
    wb.close()
    assert len(note) > 60 and len(detail) > 60  # longer than any column is wide

    # The two sheets alone: the whole campaign's 出勤 and 自学 run to hundreds of pages that LibreOffice would
    # lay out first. openpyxl keeps what printing reads (widths, wrapping, page setup, print titles).
    wb = load_workbook(home.master)
    for name in wb.sheetnames:
        if name not in ("周报", "进度提醒"):
            del wb[name]
    two = tmp_path / "two-sheets.xlsx"
    wb.save(two)
    pages = _page_scales(libreoffice(two, "pdf", tmp_path))
    for words, longest in ((("收件编号", "处理说明"), note), (("提醒事项", "具体情况"), detail)):
        sheet = [(text, scale) for text, scale in pages if all(word in text for word in words)]
        assert sheet, words
        assert min(scale for _, scale in sheet) >= PRINT_SCALE_FLOOR, (words, [round(s, 2) for _, s in sheet])
        printed = "".join(text.replace("\n", "") for text, _ in sheet)
        assert longest in printed, (words, longest)
        assert "###" not in printed  # a date or time too wide for its column shows as ### instead


def test_the_returns_long_text_columns_wrap_as_a_secretary_types(demo_home):
    """主题, 学习内容, 备注 and 汇报内容 wrap in every row she may fill: Excel, WPS and LibreOffice then make the
    row as tall as the text while she types, and the text prints whole instead of cut at the next column."""
    wb = load_workbook(demo_home.folder("outbox") / BIG_BRANCH)
    rows = load_schemas().returns.rows_per_sheet
    for sheet, label in (("学习活动", "主题"), ("自学", "学习内容"), ("征求意见", "备注"), ("汇报收到", "汇报内容")):
        ws = wb[sheet]
        column = [cell.value for cell in ws[1]].index(label) + 1
        assert all(ws.cell(row=row, column=column).alignment.wrap_text for row in range(2, rows + 2)), sheet
        assert not ws.cell(row=2, column=column - 1).alignment.wrap_text  # the short column before it does not
        assert ws.column_dimensions[ws.cell(row=1, column=column).column_letter].width == 24
