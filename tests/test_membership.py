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
