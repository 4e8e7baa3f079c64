"""Messages a secretary fixes in one pass: in the order of the workbook (sheet, row, column), one message
for a run of rows, examples from the return's own week and roster, year-less dates read in the week's
year, a name in the ID column answered with the ID, and --annotate saying where the marked copy is.

The return is B08's week 3 (2005-03-21 to 2005-03-27): roster M0240 陈强国 … M0255 on rows 2–17."""
from __future__ import annotations

import json
from datetime import date

from openpyxl import load_workbook
from returns_factory import edit, filled_return

from branchbook.cli import main
from branchbook.workbook.checks.roster_ids import likely_member
from branchbook.workbook.checks.yearless import day_in_week
from branchbook.workbook.intake import load_submission
from branchbook.workbook.validation import validate_path

WEEK_START = "2005-03-21"


def _cells(**changes):
    def change(wb):
        for where, value in changes.items():
            sheet, cell = where.split("_")
            wb[sheet][cell] = value
    return change


def test_findings_come_by_sheet_row_and_column_whatever_found_them(demo_home, tmp_path):
    # Mistakes typed in no order, over three sheets; the workbook's order is 学习活动, 出勤, 自学.
    path = edit(filled_return(demo_home, tmp_path / "order.xlsx"), _cells(
        自学_C7="七", 学习活动_E3="两", 自学_C6="六", 出勤_C3="出息", 出勤_D7="来了", 出勤_C6="到", 自学_B6="上周"))
    where = [(f.sheet, f.row, f.column) for f in validate_path(path).findings]
    assert where == [("学习活动", 3, "E"), ("出勤", 3, "C"), ("出勤", 6, "C"), ("出勤", 7, "D"),
                     ("自学", 6, "B"), ("自学", 6, "C"), ("自学", 7, "C")]


def test_a_session_held_with_no_attendance_marked_is_one_error_and_is_not_merged(demo_home, tmp_path):
    # 学习活动 declares S2; its whole 出勤 column is left blank: the session would drop out of everyone's record.
    def clear_s2(wb):
        for row in range(2, 18):
            wb["出勤"].cell(row=row, column=4).value = None
    path = edit(filled_return(demo_home, tmp_path / "empty.xlsx"), clear_s2)
    report = validate_path(path)
    [finding] = report.findings
    assert finding.message() == \
        "出勤 第2–17行 「S2」：学习活动表中有 S2，但这一列没有标记任何人的出勤：请为每位党员选择出席/缺席/请假/请假(在外)。"
    assert (finding.severity, finding.cell) == ("error", "D2:D17") and not report.valid
    marked = tmp_path / "标注.xlsx"
    assert main(["validate", str(path), "--annotate", str(marked)]) == 1
    wb = load_workbook(marked)
    assert all(wb["出勤"].cell(row=row, column=4).comment for row in range(2, 18))  # every cell of the run marked
    assert wb["出勤"].cell(row=18, column=4).comment is None
    from branchbook.sync.export import current_tables

    assert not load_submission(path, current_tables(demo_home)).acceptable  # the merge refuses it


def test_a_few_blanks_in_a_marked_session_column_stay_a_warning(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "few.xlsx"), _cells(出勤_D3=None, 出勤_D4=None))
    report = validate_path(path)
    assert [(f.code, f.severity, f.cell) for f in report.findings] == [("status-blank", "warning", "D3:D4")]
    assert report.valid


def test_a_member_left_blank_in_every_session_is_one_note_for_the_row(demo_home, tmp_path):
    # The demo's week 3 at B08 declares S1 and S2 (columns C and D); 出勤 rows 5 and 6 are left wholly blank.
    path = edit(filled_return(demo_home, tmp_path / "row.xlsx"), _cells(
        出勤_C5=None, 出勤_D5=None, 出勤_C6=None, 出勤_D6=None, 出勤_C9=None))
    findings = validate_path(path).findings
    assert [(f.code, f.cell) for f in findings] == [("status-blank", "C5:D6"), ("status-blank", "C9")]
    assert findings[0].message() == \
        "出勤 第5–6行 「S1–S2」：活动 S1–S2 的出勤未填写：请为每位党员选择出席/缺席/请假/请假(在外)。"
    marked = tmp_path / "标注.xlsx"
    assert main(["validate", str(path), "--annotate", str(marked)]) == 0
    ws = load_workbook(marked)["出勤"]
    assert all(ws[cell].comment for cell in ("C5", "D5", "C6", "D6", "C9"))
    assert ws["D9"].comment is None


def test_a_run_is_broken_by_a_row_with_another_problem(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "runs.xlsx"), _cells(
        出勤_C2=None, 出勤_C3=None, 出勤_C4="出息", 出勤_C5=None))
    assert [(f.code, f.cell) for f in validate_path(path).findings] == [
        ("status-blank", "C2:C3"), ("enum", "C4"), ("status-blank", "C5")]


def test_the_example_date_is_a_day_of_the_returns_own_week(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "date.xlsx"), _cells(自学_B2="上周五"))
    [finding] = validate_path(path).findings
    assert finding.message() == f"自学 第2行 「日期」：“上周五”不是有效的日期（如 {WEEK_START}），请照此改填。"
    assert "2005-03-28" not in finding.message()


def test_dates_without_a_year_are_read_in_the_weeks_year_with_a_note(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "noyear.xlsx"), _cells(自学_B2="3月22日", 自学_B3="3/23"))
    report = validate_path(path)
    assert report.valid
    assert [f.message() for f in report.findings] == [
        "自学 第2行 「日期」：“3月22日”没有写年份，已按本周所在的年份读作 2005-03-22。无需修改；写成完整日期（2005-03-22）更稳妥。",
        "自学 第3行 「日期」：“3/23”没有写年份，已按本周所在的年份读作 2005-03-23。无需修改；写成完整日期（2005-03-23）更稳妥。",
    ]
    wb = load_workbook(path)
    first, second = wb["自学"]["A2"].value, wb["自学"]["A3"].value
    from branchbook.sync.export import current_tables

    sub = load_submission(path, current_tables(demo_home))
    stored = {(r["member_id"], r["date"]) for r in sub.rows["selfstudy"]}
    assert (first, date(2005, 3, 22)) in stored and (second, date(2005, 3, 23)) in stored  # full dates are merged


def test_a_year_less_date_outside_the_week_gets_one_message_saying_to_change_it(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "noyear-late.xlsx"), _cells(自学_B2="3月20日"))
    [finding] = validate_path(path).findings  # not also "nothing to change" for the same cell
    assert finding.code == "date-outside-week" and finding.cell == "B2"
    assert "不在本周（2005-03-21 至 2005-03-27）" in finding.message() and "无需修改" not in finding.message()


def test_year_less_dates_in_a_week_across_new_year():
    start, end = date(2005, 12, 29), date(2006, 1, 4)
    assert day_in_week("1月2日", start, end) == date(2006, 1, 2)
    assert day_in_week("12/30", start, end) == date(2005, 12, 30)
    assert day_in_week("12/20", start, end) is None  # 2005 or 2006: the week cannot say
    assert day_in_week("2月30日", date(2005, 3, 21), date(2005, 3, 27)) is None
    assert day_in_week("３月２２日", date(2005, 3, 21), date(2005, 3, 27)) == date(2005, 3, 22)
    assert day_in_week("2005-3-22", date(2005, 3, 21), date(2005, 3, 27)) is None  # a full date is parsed as such


def _roster(path):
    return {row[1]: row[0] for row in load_workbook(path)["党员名单"].iter_rows(min_row=2, values_only=True) if row[0]}


def test_a_name_typed_where_the_id_belongs_gets_the_id(demo_home, tmp_path):
    path = filled_return(demo_home, tmp_path / "name.xlsx")
    names = _roster(path)
    name = next(n for n, member in names.items() if member == "M0243")
    edit(path, _cells(征求意见_A2=name, 征求意见_A3="M243", 征求意见_A4="M9999"))
    messages = [f.message() for f in validate_path(path).findings]
    assert messages == [
        f"征求意见 第2行 「党员编号」：“{name}”是姓名，这一列应填党员编号：请改为 M0243。",
        f"征求意见 第3行 「党员编号」：党员编号“M243”不在本支部名单中：如指的是{name}，请改为 M0243。",
        "征求意见 第4行 「党员编号」：党员编号“M9999”不在本支部名单中：请从「党员名单」表中选择编号（如 M0240）。",
    ]


def test_the_member_most_likely_meant():
    roster = {"M0259": "何欣", "M0260": "何伟", "M0261": "王芳"}
    assert likely_member("何欣", roster) == ("name-for-id", "M0259", "何欣")
    assert likely_member(" 何 欣 ", roster) == ("name-for-id", "M0259", "何欣")
    assert likely_member("m0259", roster) == ("member-id-close", "M0259", "何欣")
    assert likely_member("王方", roster) == ("member-id-close", "M0261", "王芳")
    assert likely_member("何", roster) is None  # 何欣 or 何伟: no guess
    assert likely_member("张三", roster) is None
    assert likely_member("M9999", roster) is None
    assert likely_member("何欣", {**roster, "M0300": "何欣"}) == ("name-for-id", "M0259 / M0300", "何欣")


def test_annotate_says_where_the_marked_copy_is(demo_home, tmp_path, capsys, monkeypatch):
    path = edit(filled_return(demo_home, tmp_path / "bad.xlsx"), _cells(出勤_C4="出息"))
    monkeypatch.chdir(tmp_path)
    marked = tmp_path / "标注副本.xlsx"
    assert main(["validate", str(path), "--annotate", "标注副本.xlsx"]) == 1  # a relative name: the full path is said
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"标注副本已保存：{marked.resolve()}" and marked.resolve().is_file()
    assert main(["validate", str(path), "--annotate", "标注副本.xlsx", "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["code"] == "enum"
    assert captured.err.strip() == f"标注副本已保存：{marked.resolve()}"
    assert main(["validate", str(path), "--annotate", str(tmp_path / "没有的文件夹" / "x.xlsx")]) == 2
    assert f"找不到文件夹：{tmp_path / '没有的文件夹'}" in capsys.readouterr().err  # a sentence, not a failure


def test_every_message_says_what_to_change():
    from branchbook.workbook.findings import TEMPLATES
    from branchbook.workbook.i18n import raw

    # Each error's Chinese names the change: 请 (please do), 改 (change), 删 (delete); a note says what to do too,
    # or that nothing needs changing (无需修改).
    for code, (severity, message) in TEMPLATES.items():
        if code != "hours-total":  # hours-total's details: below
            chinese = raw("zh", "checks", message)
            words = ("请", "改", "删") if severity == "error" else ("请", "无需修改")
            assert any(word in chinese for word in words), (code, chinese)
    for detail in ("{member} has {hours} hours on {day}, over {limit} a day: correct the hours or the date.",
                   "{credited} hours credited, more than the session's {limit}: credit {limit} at most."):
        assert "请" in raw("zh", "checks", detail)


def test_a_number_with_words_around_it_is_answered_with_the_number(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "hours.xlsx"), _cells(自学_C2="2小时", 自学_C3="三小时",
                                                                            自学_C4="１.５h", 笔记检查_D2="8个"))
    assert [f.message() for f in validate_path(path).findings] == [
        "自学 第2行 「学时」：“2小时”不是数字：请只填数字，如 2。",
        "自学 第3行 「学时」：“三小时”不是数字：请只填数字，如 2。",
        "自学 第4行 「学时」：“１.５h”不是数字：请只填数字，如 1.5。",
        "笔记检查 第2行 「思考题完成数」：“8个”不是整数：请只填数字，如 8。",
    ]


def test_full_width_brackets_and_spaces_in_a_coded_value_are_accepted(demo_home, tmp_path):
    # As a Chinese input method types them: 请假（在外） with full-width brackets, 出　席 with an ideographic space.
    path = filled_return(demo_home, tmp_path / "fullwidth.xlsx")
    wb = load_workbook(path)
    member_c2, member_c3 = wb["出勤"]["A2"].value, wb["出勤"]["A3"].value
    edit(path, _cells(出勤_C2="请假（在外）", 出勤_C3="出　席 "))
    assert validate_path(path).findings == []
    from branchbook.sync.export import current_tables

    sub = load_submission(path, current_tables(demo_home))
    statuses = {(row["member_id"], row["session_id"]): row["status"] for row in sub.rows["attendance"]}
    s1 = next(session for session in sub.rows["sessions"] if session["session_id"].endswith("S1"))["session_id"]
    assert (statuses[(member_c2, s1)], statuses[(member_c3, s1)]) == ("away", "present")


def test_plain_validate_marks_each_line_as_error_or_note(demo_home, tmp_path, capsys):
    path = edit(filled_return(demo_home, tmp_path / "marks.xlsx"), _cells(自学_C2="2小时", 自学_B3="3月22日"))
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "【错误】自学 第2行 「学时」：“2小时”不是数字：请只填数字，如 2。",
        "【提示】自学 第3行 「日期」：“3月22日”没有写年份，已按本周所在的年份读作 2005-03-22。无需修改；写成完整日期（2005-03-22）更稳妥。",
        "发现 1 处错误、1 处提示。",
    ]


def test_a_record_dated_after_the_day_the_return_is_received_is_a_warning(demo_home, tmp_path):
    from datetime import datetime

    from branchbook.sync.export import current_tables

    # Week 3 is 2005-03-21 to 03-27; the return arrives on Wednesday the 23rd, mid-week.
    path = edit(filled_return(demo_home, tmp_path / "future.xlsx"), _cells(
        自学_B2=datetime(2005, 3, 25), 自学_B3=datetime(2005, 3, 23), 自学_B4=datetime(2005, 3, 30)))
    def edited_rows(sub):
        return [(f.code, f.cell, f.severity) for f in sub.report.findings if f.sheet == "自学" and f.row in (2, 3, 4)]

    sub = load_submission(path, current_tables(demo_home), received_at=datetime(2005, 3, 23, 9, 30))
    assert edited_rows(sub) == [("date-in-future", "B2", "warning"),
                                ("date-outside-week", "B4", "error")]  # after the week: the error only, once
    [future] = [f for f in sub.report.findings if f.cell == "B2" and f.sheet == "自学"]
    assert future.message() == "自学 第2行 「日期」：日期 2005-03-25 晚于今天（2005-03-23）：记录应在事情发生后填写，请核对日期。"
    # Received after the week, nothing in it is in the future; without the bad date it is merged.
    edit(path, _cells(自学_B4=datetime(2005, 3, 24)))
    later = load_submission(path, current_tables(demo_home), received_at=datetime(2005, 3, 28, 9, 0))
    assert not [f for f in later.report.findings if f.code == "date-in-future"] and later.acceptable
    sub = load_submission(path, current_tables(demo_home), received_at=datetime(2005, 3, 23, 9, 30))
    assert edited_rows(sub) == [("date-in-future", "B2", "warning"), ("date-in-future", "B4", "warning")]
    assert sub.acceptable  # a warning: the return is merged
