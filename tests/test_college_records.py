"""College-level records (docs/domain.md, "College-level records"): the office's own sheets of the master, typed in
Excel (openpyxl stands in), taken into the ledger, kept through a merge and a rebuild; the plan flag; the bulletin's
lines on the expanded committee meeting and the week's supervision visits; a HOME made before the sheets existed."""
from __future__ import annotations

import json
import shutil
from datetime import date, datetime

from openpyxl import load_workbook
from returns_factory import filled_return, set_saved_time
from sync_helpers import pinned_home
from test_crash_and_rebuild import comparable, ledger_tables
from test_words import _old_home

from branchbook.cli import main
from branchbook.sync.pipeline import Incoming, process
from branchbook.workbook.books import ledger_path, open_ledger
from branchbook.workbook.master import read_master
from branchbook.workbook.reports.bulletin import build_bulletin

COLLEGE_SHEETS = {"党委扩大会": ["会议日期", "周次", "主持人", "会议内容", "下周安排", "备注"],
                  "扩大会汇报": ["会议日期", "支部编号", "汇报人", "汇报要点"],
                  "计划方案": ["类别", "阶段编号", "支部编号", "名称", "负责人", "应交日期", "收到日期", "备注"],
                  "督查记录": ["督查日期", "支部编号", "督查人", "检查内容", "发现问题", "改进要求", "改进期限", "复查情况"],
                  "意见征集": ["渠道", "日期", "支部编号", "意见条数", "备注"]}
KEYS = {"党委扩大会": "meetings", "扩大会汇报": "meeting_reports", "计划方案": "plans", "督查记录": "supervision",
        "意见征集": "opinion_channels"}


def _headers(ws) -> list:
    return [cell.value for cell in ws[1]]


def _type_rows(home, rows: dict[str, list[dict]]) -> None:
    """The office types rows under the headers of each sheet and saves the master."""
    wb = load_workbook(home.master)
    for sheet, records in rows.items():
        ws = wb[sheet]
        header = _headers(ws)
        for record in records:
            ws.append([record.get(label) for label in header])
    wb.save(home.master)


def _set(home, sheet: str, row: int, label: str, value) -> None:
    wb = load_workbook(home.master)
    ws = wb[sheet]
    ws.cell(row, _headers(ws).index(label) + 1).value = value
    wb.save(home.master)


OFFICE_ROWS = {
    "党委扩大会": [{"会议日期": datetime(2005, 3, 25), "周次": 3, "主持人": "楼正国", "会议内容": "各支部汇报第3周学习情况",
                "下周安排": "检查读书笔记；布置思考题讨论"}],
    "扩大会汇报": [{"会议日期": datetime(2005, 3, 25), "支部编号": "B01", "汇报人": "书记甲"},
                {"会议日期": datetime(2005, 3, 25), "支部编号": "B08", "汇报人": "书记乙", "汇报要点": "每人向三位群众征求意见"}],
    "计划方案": [{"类别": "学习计划", "阶段编号": "P1", "名称": "学院学习计划", "负责人": "郑胜",
               "应交日期": datetime(2005, 3, 10), "收到日期": datetime(2005, 3, 9)},
              {"类别": "学习计划", "阶段编号": "P1", "支部编号": "B01", "应交日期": datetime(2005, 3, 14),
               "收到日期": datetime(2005, 3, 14)}],
    "督查记录": [{"督查日期": datetime(2005, 3, 24), "支部编号": "B02", "督查人": "陆金芳、杨祥龙",
               "检查内容": "组织生活会记录本、出勤、读书笔记", "发现问题": "两人思考题未答全", "改进要求": "补答思考题",
               "改进期限": datetime(2005, 4, 1)}],
    "意见征集": [{"渠道": "民主党派座谈会", "日期": datetime(2005, 3, 22), "意见条数": 12, "备注": "学院党委召开"},
              {"渠道": "问卷调查", "日期": datetime(2005, 3, 23), "支部编号": "B06", "意见条数": 37}],
}


def test_a_new_master_has_the_college_sheets_with_their_drop_downs(fresh_demo):
    wb = load_workbook(fresh_demo.master)
    for sheet, header in COLLEGE_SHEETS.items():
        assert _headers(wb[sheet]) == header, sheet
        assert wb[sheet].max_row == 1  # empty until the office types
    rules = {ws: {str(dv.sqref).split(":")[0]: dv for dv in wb[ws].data_validations.dataValidation}
             for ws in COLLEGE_SHEETS}
    assert rules["计划方案"]["A2"].formula1 == '"学习计划,实施方案,评议情况报告,整改方案"'
    assert rules["计划方案"]["B2"].formula1 == "list_phases" and rules["计划方案"]["C2"].formula1 == "list_branches"
    assert rules["计划方案"]["F2"].type == rules["计划方案"]["G2"].type == "date"
    assert rules["扩大会汇报"]["B2"].formula1 == "list_branches" and rules["督查记录"]["B2"].formula1 == "list_branches"
    assert "民主党派座谈会" in rules["意见征集"]["A2"].formula1 and "群众评议箱" in rules["意见征集"]["A2"].formula1
    assert rules["意见征集"]["D2"].type == "whole" and rules["党委扩大会"]["A2"].type == "date"
    names = wb.defined_names
    assert "'阶段'!$A$2" in names["list_phases"].attr_text  # the phases' IDs, rows the office adds included


def test_the_office_types_college_records_and_they_survive_a_merge_and_a_rebuild(fresh_demo, tmp_path, capsys):
    home = pinned_home(fresh_demo)
    _type_rows(home, OFFICE_ROWS)
    assert main(["export", str(home.root)]) == 0
    assert "已导入台账中的手工修改 8 处" in capsys.readouterr().out
    tables = ledger_tables(home)
    assert [(r["date"], r["week"], r["next_week"]) for r in tables["meetings"]] == \
           [(date(2005, 3, 25), 3, "检查读书笔记；布置思考题讨论")]
    assert [(r["branch_id"], r["reporter"]) for r in tables["meeting_reports"]] == [("B01", "书记甲"), ("B08", "书记乙")]
    assert [(r["kind"], r["branch_id"], r["received"]) for r in tables["plans"]] == \
           [("study_plan", None, date(2005, 3, 9)), ("study_plan", "B01", date(2005, 3, 14))]
    assert [(r["branch_id"], r["deadline"]) for r in tables["supervision"]] == [("B02", date(2005, 4, 1))]
    assert [(r["channel"], r["branch_id"], r["opinions"]) for r in tables["opinion_channels"]] == \
           [("party_forum", None, 12), ("questionnaire", "B06", 37)]
    with open_ledger(home) as ledger:
        [entry] = [e for e in ledger.journal_entries() if e["kind"] == "office"]
    assert {edit["sheet"] for edit in entry["body"]["edits"]} == set(KEYS.values())
    # A return merged afterwards leaves them alone; the master written again shows them; a rebuild replays them.
    week3 = set_saved_time(filled_return(home, tmp_path / "院机关支部_第3周.xlsx"), datetime(2005, 3, 27, 9))
    result = process(home, [Incoming(shutil.copy(week3, home.folder("inbox") / week3.name))])
    assert result.outcomes[0].result == "merged"
    kept = ledger_tables(home)
    assert all(comparable(kept)[key] == comparable(tables)[key] for key in KEYS.values())
    assert comparable(read_master(home.master)) == comparable(kept)
    ledger_path(home).unlink()
    assert main(["rebuild", str(home.root)]) == 0
    assert comparable(ledger_tables(home)) == comparable(kept)


def test_a_college_record_that_breaks_the_schema_is_refused_naming_sheet_row_and_column(fresh_demo, capsys):
    home = pinned_home(fresh_demo)
    _type_rows(home, {"意见征集": [{"渠道": "群众评议箱", "日期": datetime(2005, 3, 22), "意见条数": "很多"}],
                      "计划方案": [{"类别": "学习总结", "阶段编号": "P1", "支部编号": "B01"}],
                      "扩大会汇报": [{"会议日期": datetime(2005, 3, 18), "支部编号": "B01", "汇报人": "书记甲"}]})
    edited = home.master.read_bytes()
    assert main(["export", str(home.root)]) == 1
    said = "".join(capsys.readouterr())
    lines = said.splitlines()
    # Each named by its sheet, row and column (the column's header, as the office sees it).
    assert any("意见征集 第2行 「意见条数」" in line and "很多" in line for line in lines), said
    assert any("计划方案 第2行 「类别」" in line and "学习总结" in line for line in lines), said
    assert any("扩大会汇报 第2行 「会议日期」" in line and "「党委扩大会」表中找不到" in line for line in lines), said
    assert "Traceback" not in said
    assert home.master.read_bytes() == edited  # the office's work is still there, and nothing was taken
    tables = ledger_tables(home)
    assert not tables["opinion_channels"] and not tables["plans"] and not tables["meeting_reports"]


def _flags(home, capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["flags", str(home.root), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_study_plan_not_received_by_its_due_day_flags_the_branch_until_it_is_received(fresh_demo, capsys):
    home = pinned_home(fresh_demo)  # as of 2005-03-30
    plan = {"类别": "学习计划", "阶段编号": "P1"}
    _type_rows(home, {"计划方案": [
        {**plan, "支部编号": "B01", "应交日期": datetime(2005, 3, 25)},  # due, not received: flagged
        {**plan, "支部编号": "B02", "应交日期": datetime(2005, 3, 25), "收到日期": datetime(2005, 3, 28)},  # late but in
        {**plan, "支部编号": "B03", "应交日期": datetime(2005, 3, 30)},  # due today: not yet overdue
        {**plan, "支部编号": "B04"},  # no due day: nothing to measure
        {**plan, "应交日期": datetime(2005, 3, 10)},  # the college's own plan: no branch to flag
        {"类别": "实施方案", "阶段编号": "P1", "支部编号": "B05", "应交日期": datetime(2005, 3, 20)},  # not a kind due
        {"类别": "实施方案", "阶段编号": "P2", "支部编号": "B01", "应交日期": datetime(2005, 3, 28)},
    ]})
    assert main(["export", str(home.root)]) == 0
    raised = [f for f in _flags(home, capsys) if f["code"] == "plan-missing"]
    assert [(f["subject_kind"], f["subject_id"]) for f in raised] == [("branch", "B01")]
    [flag] = raised
    assert flag["rule"] == "计划方案逾期未交" and flag["level_code"] == "notice" and flag["state"] == "新增"
    assert flag["detail"] == "「思想发动、学习培训」阶段的学习计划应于3月25日交到学院，尚未收到。"
    assert flag["values"] == {"kind": "study_plan", "due": "2005-03-25", "count": 1, "phase": "思想发动、学习培训"}
    master = load_workbook(home.master)["进度提醒"]
    assert any(row[6] == "计划方案逾期未交" and row[3] == "B01" for row in master.iter_rows(min_row=2, values_only=True))
    # The secretary's reminder says what clears it.
    assert main(["remind", str(home.root)]) == 0
    reminder = next(path for path in (home.folder("outbox") / "提醒").iterdir() if "博士生党支部" in path.name)
    assert "在台账“计划方案”表填上收到日期，即消除" in reminder.read_text(encoding="utf-8")
    # The office enters the day it came: the flag is gone.
    _set(home, "计划方案", 2, "收到日期", datetime(2005, 3, 29))
    assert main(["export", str(home.root)]) == 0
    assert not [f for f in _flags(home, capsys) if f["code"] == "plan-missing" and f["state_code"] != "cleared"]


def test_the_plan_flags_grace_days_are_a_setting(fresh_demo, capsys):
    import yaml

    home = pinned_home(fresh_demo)
    _type_rows(home, {"计划方案": [{"类别": "学习计划", "阶段编号": "P1", "支部编号": "B01",
                                  "应交日期": datetime(2005, 3, 25)}]})
    assert main(["export", str(home.root)]) == 0
    assert [f["subject_id"] for f in _flags(home, capsys) if f["code"] == "plan-missing"] == ["B01"]
    config = yaml.safe_load((home.root / "branchbook.yaml").read_text(encoding="utf-8"))
    config["rules"] = {"thresholds": {"plan_grace_days": 5}}  # due 3/25 + 5 days = 3/30: not yet overdue
    (home.root / "branchbook.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert not [f for f in _flags(home, capsys) if f["code"] == "plan-missing"]


def test_the_bulletin_names_the_last_meeting_and_the_weeks_supervision_visits(fresh_demo):
    tables = ledger_tables(fresh_demo)  # as of 3/30 the bulletin reports week 3: 3/21 to 3/27
    tables["meetings"] = [{"date": date(2005, 3, 18), "next_week": "早先的安排"},
                          {"date": date(2005, 3, 25), "next_week": "检查读书笔记"},
                          {"date": date(2005, 3, 29), "next_week": "下一周的会，不在本期"}]
    tables["meeting_reports"] = [{"meeting_date": date(2005, 3, 25), "branch_id": "B01", "reporter": "甲"},
                                 {"meeting_date": date(2005, 3, 25), "branch_id": "B08", "reporter": "乙"},
                                 {"meeting_date": date(2005, 3, 18), "branch_id": "B02", "reporter": "丙"}]
    tables["supervision"] = [{"date": date(2005, 3, 22), "branch_id": "B02", "inspectors": "陆金芳", "findings": "缺记录"},
                             {"date": date(2005, 3, 24), "branch_id": "B03", "inspectors": "杨祥龙"},
                             {"date": date(2005, 3, 29), "branch_id": "B04", "inspectors": "杨祥龙", "findings": "下周"}]
    names = {b["branch_id"]: b["name"] for b in tables["branches"]}
    headline = build_bulletin(tables, date(2005, 3, 30)).headline
    assert headline[-2] == f"党委扩大会（3月25日）：2 个支部汇报（{names['B01']}、{names['B08']}）；下周安排：“检查读书笔记”"
    assert headline[-1] == f"本周督查：2 次（{'、'.join(sorted([names['B02'], names['B03']]))}），其中 1 次发现问题。"
    plain = build_bulletin(ledger_tables(fresh_demo), date(2005, 3, 30)).headline
    assert headline[:-2] == plain  # without such records the bulletin is as it was


def test_a_home_made_before_the_college_sheets_gets_them_empty_and_loses_nothing(tmp_path):
    home = _old_home(tmp_path)  # tests/data/home-d8d7571-demo-week3.zip: its master has none of the sheets
    assert not set(COLLEGE_SHEETS) & set(load_workbook(home.master).sheetnames)
    before = ledger_tables(home)
    assert all(before[key] == [] for key in KEYS.values())  # the ledger has their tables, empty
    assert main(["export", str(home.root)]) == 0
    master = load_workbook(home.master)
    for sheet, header in COLLEGE_SHEETS.items():
        assert _headers(master[sheet]) == header and master[sheet].max_row == 1
    after = ledger_tables(home)
    # Nothing changed but the committee's posts (test_words.py) and the flags recomputed.
    assert {k: v for k, v in comparable(after).items() if k not in ("committee", "flags")} == \
           {k: v for k, v in comparable(before).items() if k not in ("committee", "flags")}
    assert comparable(read_master(home.master)) == comparable(after)


def test_a_college_master_made_before_the_sheets_is_still_rolled_up(tmp_path):
    from branchbook.workbook.rollup import rollup

    home = _old_home(tmp_path)  # its master lacks the college-level sheets, which the roll-up does not add up
    result = rollup([home.master], as_of=date(2005, 3, 30), workers=1)
    assert not result.problems and [len(c.progress.branches) for c in result.colleges] == [9]


def test_a_plan_kind_the_plans_sheet_does_not_know_is_refused_at_load(tmp_path):
    import pytest
    import yaml

    from branchbook.workbook.errors import UserError
    from branchbook.workbook.schema import load_schemas

    folder = tmp_path / "schemas"
    shutil.copytree(load_schemas.__globals__["resources"].files("branchbook.schemas"), folder,
                    ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    rules = yaml.safe_load((folder / "rules.yaml").read_text(encoding="utf-8"))
    rules["thresholds"]["plan_kinds_due"] = ["study_plan", "学习总结"]  # would never flag anyone
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UserError) as refused:
        load_schemas(folder)
    said = refused.value.message("zh")
    assert "thresholds.plan_kinds_due" in said and "学习总结" in said and "study_plan, implementation_plan" in said
