"""The words of docs/domain.md ("Words"): a master and a return are written in them, and a HOME made before they
changed keeps working: its unedited master is written again in them, its office's edits in the old-headed master are
taken in, and a return template it made before (old headers, old drop-down values) is validated and merged.

tests/data/home-d8d7571-demo-week3.zip is a HOME made by the version before (tests/data/README.md)."""
from __future__ import annotations

import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from returns_factory import set_saved_time
from sync_helpers import master_current, pinned_home, wait_until
from test_crash_and_rebuild import comparable, ledger_tables

from branchbook.cli import main
from branchbook.demo.fill import Secretary, fill_return
from branchbook.sync.service import SyncService
from branchbook.workbook.books import MASTER_WORDS, open_ledger
from branchbook.workbook.home import Home

OLD_HOME = Path(__file__).parent / "data" / "home-d8d7571-demo-week3.zip"
OLD_RETURN = "outbox/院机关支部_第3周.xlsx"
# The words no longer written anywhere a person reads (职务 is checked as a whole header: 党内职务 contains it).
OLD_WORDS = ("党籍", "参加活动日期", "回执", "观看影片", "整改期限", "落后提醒", "思考题未答完")


def _old_home(tmp_path: Path) -> Home:
    root = tmp_path / "台账"
    with zipfile.ZipFile(OLD_HOME) as archive:
        archive.extractall(root)
    for folder in ("inbox", "archive", "rejected", "backups"):
        (root / folder).mkdir(exist_ok=True)
    return pinned_home(Home.open(root))


def _headers(ws) -> list:
    return [cell.value for cell in ws[1]]


def _texts(path: Path) -> list[tuple[str, str]]:
    """Every text a person sees in a workbook: sheet names, cells, drop-down lists and their prompts."""
    wb = load_workbook(path)
    found = [(ws.title, ws.title) for ws in wb.worksheets]
    for ws in wb.worksheets:
        found += [(ws.title, cell.value) for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)]
        for rule in ws.data_validations.dataValidation:
            found += [(ws.title, text) for text in (rule.formula1, rule.prompt, rule.error) if text]
    return found


def _old_words_in(path: Path) -> list[tuple[str, str]]:
    return [(sheet, text) for sheet, text in _texts(path)
            if any(word in text for word in OLD_WORDS) or text.strip() == "职务"]


def _column(ws, label: str) -> int:
    return _headers(ws).index(label) + 1


def _row_of(ws, label: str, value) -> int:
    column = _column(ws, label)
    return next(row for row in range(2, ws.max_row + 1) if ws.cell(row, column).value == value)


def test_a_new_master_and_return_are_written_in_the_new_words(fresh_demo):
    master = load_workbook(fresh_demo.master)
    assert "进度提醒" in master.sheetnames and "落后提醒" not in master.sheetnames
    assert {"党员类别", "参学起始日期"} <= set(_headers(master["党员"]))
    assert {"党内职务", "行政职务"} <= set(_headers(master["党委委员"]))
    assert "改进期限" in _headers(master["笔记检查"]) and "来源周报表" in _headers(master["笔记检查"])
    assert "周报表编号" in _headers(master["周报"])
    posts = {row[1]: (row[2], row[4]) for row in master["党委委员"].iter_rows(min_row=2, values_only=True)}
    assert posts["郑筱祥"] == ("委员", "院长") and posts["郑胜"] == ("副书记", None)
    assert _old_words_in(fresh_demo.master) == []
    template = fresh_demo.folder("outbox") / "院机关支部_第3周.xlsx"
    ret = load_workbook(template)
    assert "党员类别" in _headers(ret["党员名单"]) and "改进期限" in _headers(ret["笔记检查"])
    kinds = [rule.formula1 for rule in ret["学习活动"].data_validations.dataValidation if "集中学习" in str(rule.formula1)]
    assert kinds and all("观看电教片" in formula for formula in kinds)
    assert _old_words_in(template) == []


def test_an_unedited_master_of_the_previous_version_is_written_again_in_the_new_words(tmp_path):
    home = _old_home(tmp_path)
    assert "落后提醒" in load_workbook(home.master).sheetnames and not master_current(home)
    before = ledger_tables(home)
    service = SyncService(home)
    service.start()
    try:
        wait_until(lambda: master_current(home), 60, "the master to be written again")
    finally:
        service.stop()
    master = load_workbook(home.master)
    assert "进度提醒" in master.sheetnames and "落后提醒" not in master.sheetnames
    assert "党员类别" in _headers(master["党员"]) and "党籍" not in _headers(master["党员"])
    after = ledger_tables(home)
    typed = {row["topic"] for row in after["sessions"]}  # what people wrote stays as they wrote it (观看影片《惊涛骇浪》)
    assert {text for _, text in _old_words_in(home.master)} <= typed
    # Nothing changed but the committee's administrative posts, now 行政职务 beside 委员 as 党内职务.
    posts = {row["name"]: (row["role"], row["post"]) for row in after["committee"]}
    assert posts == {"楼正国": ("secretary", None), "郑筱祥": ("member", "院长"), "郑胜": ("deputy_secretary", None),
                     "陆金芳": ("member", "副院长"), "杨祥龙": ("member", "院长助理")}
    assert {k: v for k, v in comparable(after).items() if k not in ("committee", "flags")} == \
           {k: v for k, v in comparable(before).items() if k not in ("committee", "flags")}


def test_a_master_last_written_in_other_words_is_written_again(fresh_demo):
    """Without the move of the posts (which changes the ledger, and so the master): the words alone."""
    home = pinned_home(fresh_demo)
    with open_ledger(home) as ledger, ledger.transaction():
        ledger.set_meta(MASTER_WORDS, None)  # as the version before left it: it kept no words
    assert not master_current(home)
    written = home.master.stat().st_mtime_ns
    assert main(["export", str(home.root)]) == 0
    assert master_current(home) and home.master.stat().st_mtime_ns != written


def test_an_office_edit_in_a_master_of_the_previous_version_is_taken_in(tmp_path, capsys):
    home = _old_home(tmp_path)
    wb = load_workbook(home.master)
    members = wb["党员"]  # the old headers: 党籍, 参加活动日期
    row = _row_of(members, "党籍", "正式")
    member_id = members.cell(row, _column(members, "党员编号")).value
    members.cell(row, _column(members, "党籍")).value = "预备"
    members.cell(row, _column(members, "参加活动日期")).value = datetime(2005, 3, 7)  # the campaign's first day
    checks = wb["笔记检查"]
    checked = member_id  # the office records a check that orders the notebook improved by a date
    for label, value in {"党员编号": checked, "检查日期": datetime(2005, 3, 18), "检查人": "督查小组", "思考题完成数": 5,
                         "结果": "限期改进", "整改期限": datetime(2005, 4, 22)}.items():
        checks.cell(2, _column(checks, label)).value = value
    committee = wb["党委委员"]
    dean = _row_of(committee, "职务", "院长")
    committee.cell(dean, _column(committee, "电子邮箱")).value = "dean@bme.example.edu.cn"
    wb.save(home.master)
    assert main(["export", str(home.root)]) == 0
    assert "已导入台账中的手工修改 3 处" in capsys.readouterr().out
    tables = ledger_tables(home)
    member = next(m for m in tables["members"] if m["member_id"] == member_id)
    assert member["standing"] == "probationary" and str(member["joined"])[:10] == "2005-03-07"
    assert [str(r["deadline"])[:10] for r in tables["inspections"] if r["member_id"] == checked
            and r["result"] == "fix"] == ["2005-04-22"]
    [dean_row] = [c for c in tables["committee"] if c["email"] == "dean@bme.example.edu.cn"]
    assert (dean_row["role"], dean_row["post"]) == ("member", "院长")
    master = load_workbook(home.master)  # written again, in the new words, with the edits
    members = master["党员"]
    assert members.cell(_row_of(members, "党员编号", member_id), _column(members, "党员类别")).value == "预备"
    typed = {row["topic"] for row in tables["sessions"]}
    assert "进度提醒" in master.sheetnames and {text for _, text in _old_words_in(home.master)} <= typed
    with open_ledger(home) as ledger:
        kinds = [entry["kind"] for entry in ledger.journal_entries()]
    # BranchBook's move of the posts as the ledger was opened, the office's three edits (its 院长 row edited again as
    # 职务 院长), and the move of that one post again before the master was written.
    assert kinds.count("office") == 3


@pytest.mark.parametrize("how", ["merge", "validate"])
def test_a_return_made_before_the_upgrade_is_validated_and_merged(tmp_path, capsys, how):
    home = _old_home(tmp_path)
    sent = tmp_path / "院机关支部_第3周.xlsx"
    sent.write_bytes((home.root / OLD_RETURN).read_bytes())
    fill_return(sent, Secretary(diligence=1.0), seed=7)
    wb = load_workbook(sent)
    assert "党籍" in _headers(wb["党员名单"]) and "整改期限" in _headers(wb["笔记检查"])  # the old template's headers
    sessions, checks = wb["学习活动"], wb["笔记检查"]
    sessions.cell(3, _column(sessions, "形式")).value = "观看影片"  # as the old template's drop-down offered it
    start = wb["_元数据"]
    week_start = next(row[1] for row in start.iter_rows(values_only=True) if row[0] == "week_start")
    checks.cell(2, _column(checks, "结果")).value = "限期改进"
    checks.cell(2, _column(checks, "思考题完成数")).value = 5
    checks.cell(2, _column(checks, "整改期限")).value = week_start + timedelta(days=20)
    checked = checks.cell(2, _column(checks, "党员编号")).value
    wb.save(sent)
    set_saved_time(sent, datetime(2005, 3, 27, 9))
    if how == "validate":
        assert main(["validate", str(sent)]) == 0, capsys.readouterr().out
        return
    assert main(["merge", str(home.root), str(sent)]) == 0, capsys.readouterr().out
    tables = ledger_tables(home)
    merged = [r for r in tables["sessions"] if str(r["session_id"]).startswith("B08-W03")]
    assert sorted(r["kind"] for r in merged) == ["central", "film"]
    [fix] = [r for r in tables["inspections"] if r["member_id"] == checked and str(r["source_return"]).startswith("B08-W03")]
    assert (fix["result"], str(fix["deadline"])[:10]) == ("fix", (week_start + timedelta(days=20)).date().isoformat())
    assert [r["result"] for r in tables["returns"] if r["branch_id"] == "B08" and r["week"] == 3] == ["merged"]


def test_the_refresh_button_writes_the_flags_into_a_master_of_the_previous_version(tmp_path, monkeypatch):
    """The office may press 刷新进度提醒 on the old master before anything wrote it again: its 落后提醒 sheet is the
    Flags sheet."""
    from test_macros import _run

    from branchbook.addin import macros

    home = _old_home(tmp_path)
    monkeypatch.setenv(macros.HOME_VARIABLE, str(home.root))
    alerts, wb = _run(macros.refresh_flags, home.master, tmp_path / "m.xlsx")
    rows = list(wb["落后提醒"].iter_rows(min_row=2, values_only=True))
    assert rows and alerts[0][0] == f"已刷新进度提醒：共 {len(rows)} 条。"
    assert [cell.value for cell in wb["落后提醒"][1]][:2] == ["级别", "本周变化"]


def test_a_college_master_of_the_previous_version_rolls_up(tmp_path):
    """The university rolls up the masters colleges send, some written before the words changed: their 落后提醒 sheet
    is the Flags sheet, its rule titles read by their rules."""
    from branchbook.workbook.rollup import College, read_college

    home = _old_home(tmp_path)
    wb = load_workbook(home.master)
    member = next(wb["党员"].iter_rows(min_row=2, values_only=True))
    branch = next(row[1] for row in wb["党支部"].iter_rows(min_row=2, values_only=True) if row[0] == member[2])
    wb["落后提醒"].append(["提示", "新增", "党员", member[0], member[1], branch, "思考题未答完", "8 个思考题只完成 6 个。",
                        datetime(2005, 3, 25), datetime(2005, 3, 30), None, None])
    wb.save(home.master)
    college = read_college(home.master)
    assert isinstance(college, College), college
    assert [(flag.rule, flag.subject_id) for flag in college.progress.flags] == [("questions", member[0])]
    assert college.levels == {"notice": 1} and college.branch_levels == {member[2]: {"notice": 1}}
