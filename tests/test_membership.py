"""Membership periods on the real path (issue 12, item 4): the returns' rosters list who was in the branch that
week, and a return that records a member outside his period is refused with the place named."""
from __future__ import annotations

from datetime import date

from openpyxl import load_workbook
from sync_helpers import pinned_home

from branchbook.demo.fill import Secretary, fill_return
from branchbook.workbook.books import open_ledger
from branchbook.workbook.intake import load_submission
from branchbook.workbook.office import make_returns


def _roster(path):
    return [row[0] for row in load_workbook(path)["党员名单"].iter_rows(min_row=2, values_only=True) if row[0]]


def _college(home):
    """The demo's members with four changes in week 3 (3/21-3/27) and week 4 (3/28-4/3) of 院机关支部 (B08)."""
    with open_ledger(home) as ledger:
        tables = ledger.tables(("phases", "branches", "members", "returns"))
    b08 = [m for m in tables["members"] if m["branch_id"] == "B08"]
    people = {"new": b08[1], "gone": b08[2], "moved": b08[3], "midweek": b08[4]}
    people["new"]["joined"] = date(2005, 3, 28)
    people["gone"].update(left=date(2005, 3, 21), leave_reason="graduated")
    people["moved"].update(branch_id="B01", joined=date(2005, 3, 28), join_reason="transfer_in", from_branch="B08")
    people["midweek"]["joined"] = date(2005, 3, 25)
    return tables, {key: m["member_id"] for key, m in people.items()}


def test_a_weeks_roster_lists_the_members_in_the_branch_that_week(fresh_demo):
    home = pinned_home(fresh_demo)
    tables, ids = _college(home)
    week3 = make_returns(home, 3, ["B01", "B08"], tables=tables)
    office3, doctoral3 = _roster(week3["B08"]), _roster(week3["B01"])
    assert ids["moved"] in office3 and ids["moved"] not in doctoral3  # moved on 3/28: still B08's in week 3
    assert ids["new"] not in office3 and ids["gone"] not in office3 and ids["midweek"] in office3
    week4 = make_returns(home, 4, ["B01", "B08"], tables=tables)
    office4, doctoral4 = _roster(week4["B08"]), _roster(week4["B01"])
    assert ids["moved"] in doctoral4 and ids["moved"] not in office4
    assert ids["new"] in office4 and ids["gone"] not in office4
    assert len(office3) == 16 - 2 and len(office4) == 16 - 2  # 16 in B08; week 3 lacks new and gone, week 4 gone and moved


def test_a_record_outside_a_members_period_is_a_finding_and_a_moved_member_is_still_the_old_branchs(fresh_demo,
                                                                                                    tmp_path):
    home = pinned_home(fresh_demo)
    tables, ids = _college(home)
    path = make_returns(home, 3, ["B08"], tables=tables)["B08"]
    target = tmp_path / path.name
    target.write_bytes(path.read_bytes())
    fill_return(target, Secretary(diligence=1.0), seed=3)  # every roster member present or excused on 3/23 and 3/25
    sub = load_submission(target, tables)
    found = [(f.code, f.sheet, f.params.get("member")) for f in sub.report.findings]
    # He joined on 3/25: the 3/23 session (S1) is before it; the 3/25 one (S2) is his. His self-study is dated at
    # random in the week, so it may add a finding of its own, on 自学.
    assert ("outside-membership", "出勤", ids["midweek"]) in found
    assert found.count(("outside-membership", "出勤", ids["midweek"])) == 1
    assert not [f for f in found if f[2] != ids["midweek"]]  # the moved member's week-3 records are B08's own
    grid = [f for f in sub.report.findings if f.code == "outside-membership" and f.sheet == "出勤"][0]
    assert grid.message().startswith("出勤 第") and "2005-03-23" in grid.message()
    assert not sub.report.valid


def test_a_member_away_is_pre_filled_and_his_back_dated_report_is_taken(fresh_demo, tmp_path):
    """生物医学工程研究所党支部 (B02) has two members away on training all campaign (the demo's). Week 3's return
    pre-fills their attendance 请假(在外); a letter one of them sent on 3/15 (week 2) is entered in it and taken
    in; the same date for a member who is not away is refused, naming the place."""
    from branchbook.workbook.master import read_master
    from branchbook.workbook.validation import validate_path

    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger:
        tables = ledger.tables(("phases", "branches", "members", "returns"))
    away = [m["member_id"] for m in tables["members"] if m["branch_id"] == "B02" and m["away"] == "yes"]
    here = next(m["member_id"] for m in tables["members"] if m["branch_id"] == "B02" and m["away"] == "no")
    path = make_returns(home, 3, ["B02"], tables=tables)["B02"]
    grid = {row[0]: row[2:] for row in load_workbook(path)["出勤"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert len(away) == 2 and all(set(grid[m]) == {"请假(在外)"} for m in away)
    assert set(grid[here]) == {None}
    target = tmp_path / path.name
    target.write_bytes(path.read_bytes())
    fill_return(target, Secretary(diligence=1.0), seed=3)
    wb = load_workbook(target)
    reports = wb["汇报收到"]
    for row, member in ((2, away[0]), (3, here)):
        for column, value in enumerate((member, date(2005, 3, 15), "信件", "读本学习体会"), start=1):
            reports.cell(row=row, column=column, value=value)
    wb.save(target)
    assert validate_path(target).valid  # the secretary's Validate cannot know who is away: the intake does
    sub = load_submission(target, read_master(home.master))
    [wrong] = [f for f in sub.report.findings if f.code == "report-date"]
    assert (wrong.sheet, wrong.row, wrong.column, wrong.params["member"]) == ("汇报收到", 3, "B", here)
    assert "在外培训期间" in wrong.message()
    reports.delete_rows(3)
    wb.save(target)
    sub = load_submission(target, read_master(home.master))
    assert sub.report.valid, [f.message() for f in sub.report.errors]
    assert [(r["member_id"], r["date"], r["channel"]) for r in sub.rows["reports"]] == [(away[0], date(2005, 3, 15),
                                                                                         "letter")]
    assert {r["status"] for r in sub.rows["attendance"] if r["member_id"] in away} == {"away"}
