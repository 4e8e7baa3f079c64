"""`branchbook returns`: the branch's weekly return as a secretary receives it."""
from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook

from branchbook.cli import main
from branchbook.workbook.cells import excel_serial
from branchbook.workbook.master import read_master
from branchbook.workbook.provenance import roster_checksum
from branchbook.workbook.schema import load_schemas

WEEK3 = (date(2005, 3, 21), date(2005, 3, 27))


def _return(home, name="生医系硕士生党支部_第3周.xlsx"):
    path = home.folder("outbox") / name
    assert path.exists(), sorted(p.name for p in home.folder("outbox").iterdir())
    return load_workbook(path)


def _validation(ws, column):
    return next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(column))


def test_one_return_per_branch_with_chinese_names(demo_home):
    names = sorted(p.name for p in demo_home.folder("outbox").glob("*.xlsx"))
    branches = read_master(demo_home.master)["branches"]
    assert names == sorted(f"{b['name']}_第3周.xlsx" for b in branches)


def test_every_return_sheet_of_the_phase_is_there(demo_home):
    wb = _return(demo_home)  # week 3: the first phase (tests/test_phase_returns.py for the others)
    assert wb.sheetnames == [s.name("zh") for s in load_schemas().returns.sheets if s.in_phase(1)]


def test_roster_is_prefilled_and_read_only(demo_home):
    wb = _return(demo_home)
    roster = wb["党员名单"]
    tables = read_master(demo_home.master)
    expected = [m["member_id"] for m in tables["members"] if m["branch_id"] == "B03"]
    assert [r[0] for r in roster.iter_rows(min_row=2, values_only=True)] == expected
    assert roster.protection.sheet and roster["B2"].protection.locked


def test_attendance_grid_has_drop_downs_and_only_its_cells_open(demo_home):
    grid = _return(demo_home)["出勤"]
    assert [c.value for c in grid[1]][:4] == ["党员编号", "姓名", "S1", "S2"]
    dv = _validation(grid, "C2")
    # S1–S16: eight, and two for each of the branch's four 党小组 (schemas/returns.yaml).
    assert dv.type == "list" and dv.formula1 == '"出席,缺席,请假,请假(在外)"' and str(dv.sqref) == "C2:R49"
    assert grid.protection.sheet
    assert grid["A2"].protection.locked and not grid["C2"].protection.locked


def test_dates_outside_the_week_and_too_many_hours_are_stopped_by_excel(demo_home):
    study = _return(demo_home)["自学"]
    date_check = _validation(study, "B2")
    assert (date_check.type, date_check.operator) == ("date", "between")
    assert (int(date_check.formula1), int(date_check.formula2)) == tuple(map(excel_serial, WEEK3))
    hours = _validation(study, "C2")
    assert (hours.type, hours.formula1, hours.formula2) == ("decimal", "0.5", "12")
    member = _validation(study, "A2")
    assert member.type == "list" and member.formula1 == "list_roster"  # '党员名单'!$A$2:$A$49 (test_printing)
    assert all(dv.showErrorMessage and dv.error for dv in study.data_validations.dataValidation)


def test_metadata_sheet_is_hidden_protected_and_names_the_return(demo_home):
    wb = _return(demo_home)
    meta = wb["_元数据"]
    assert meta.sheet_state == "veryHidden"
    assert meta.protection.sheet and meta.protection.password
    values = {row[0]: row[1] for row in meta.iter_rows(values_only=True)}
    roster = [m for m in read_master(demo_home.master)["members"] if m["branch_id"] == "B03"]
    assert values["branch_id"] == "B03" and values["week"] == 3
    assert values["template_version"] == load_schemas().returns.template_version
    assert values["roster_checksum"] == roster_checksum(roster)
    assert (values["week_start"].date(), values["week_end"].date()) == WEEK3


def test_returns_for_a_week_outside_the_campaign_is_refused(demo_home, capsys):
    assert main(["returns", str(demo_home.root), "--week", "40"]) == 2
    assert "不在本次活动范围内" in capsys.readouterr().err


def test_returns_in_a_folder_that_is_not_a_home_is_refused(tmp_path, capsys):
    assert main(["returns", str(tmp_path)]) == 2
    assert "不是 BranchBook 工作文件夹" in capsys.readouterr().err


@pytest.mark.libreoffice
def test_libreoffice_opens_a_return(demo_home, libreoffice, tmp_path):
    path = demo_home.folder("outbox") / "院机关支部_第3周.xlsx"
    pdf = libreoffice(path, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_the_default_week_is_this_week_or_the_one_after_the_last_returned(demo_home):
    from branchbook.workbook.calendar import Campaign
    from branchbook.workbook.office import default_week

    campaign = Campaign.from_records(read_master(demo_home.master)["phases"])
    assert default_week(campaign, {1, 2}, today=date(2005, 3, 23)) == 3  # within the campaign: this week
    assert default_week(campaign, {1, 2}, today=date(2026, 11, 24)) == 3  # after it: the next one not returned
    assert default_week(campaign, set(range(1, 16)), today=date(2026, 11, 24)) == campaign.last_week == 15
