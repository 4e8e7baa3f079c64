"""The returns of phases 2 and 3 (docs/domain.md, "Phases 2 and 3"): each week's template carries the sheets of its
phase; a secretary fills them; validation names each mistake by sheet, row and column; `branchbook merge` puts the
rows in the ledger and the master; a return made before phases had sheets of their own still merges."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sync_helpers import pinned_home

from branchbook.demo.fill import Secretary, fill_return
from branchbook.workbook.books import open_ledger
from branchbook.workbook.home import Home
from branchbook.workbook.i18n import raw
from branchbook.workbook.intake import load_submission
from branchbook.workbook.master import read_master
from branchbook.workbook.merge import merge
from branchbook.workbook.office import make_returns
from branchbook.workbook.reports.open_items import CLEARS
from branchbook.workbook.reports.summaries import outcome_line
from branchbook.workbook.schema import load_schemas
from branchbook.workbook.validation import validate_path

BRANCH = "B03"  # 生医系硕士生党支部: 48 members, some of them 预备党员
WEEKS = {1: 3, 2: 8, 3: 12}  # a week of each phase of the demo's campaign (P2 starts in week 8, P3 in week 12)
PHASE_SHEETS = {"党性分析", "谈心谈话", "民主评议", "整改清单", "整改公示"}
NEW_ROWS = {  # the rows each phase's return below adds to the master, by sheet
    1: {},
    2: {"analyses": 4, "talks": 2, "appraisals": 2},
    3: {"rectification": 2, "publicity": 2},
}


def _template(home: Home, phase: int) -> Path:
    return make_returns(home, WEEKS[phase], [BRANCH])[BRANCH]


def _roster(wb) -> tuple[list[str], list[str]]:
    """The full members' IDs and the 预备党员's, as the roster sheet shows them."""
    rows = list(wb["党员名单"].iter_rows(values_only=True))
    standing = rows[0].index("党员类别")
    full = [row[0] for row in rows[1:] if row[0] and row[standing] == "正式"]
    probationary = [row[0] for row in rows[1:] if row[0] and row[standing] == "预备"]
    return full, probationary


def _put(ws, rows: list[dict]) -> None:
    """Type rows under the sheet's headers, as a secretary does (by column heading), in place of what the
    demo's secretary typed there."""
    columns = {cell.value: cell.column for cell in ws[1] if cell.value}
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.value = None
    for number, row in enumerate(rows, start=2):
        for label, value in row.items():
            ws.cell(row=number, column=columns[label], value=value)


def _fill_phase_sheets(path: Path, phase: int) -> None:
    wb = load_workbook(path)
    start = {row[0]: row[1] for row in wb["_元数据"].iter_rows(values_only=True)}["week_start"].date()
    full, probationary = _roster(wb)

    def day(n: int) -> date:  # the week's first day and the next
        return start + timedelta(days=n)

    if phase == 2:
        _put(wb["党性分析"], [
            {"党员编号": full[0], "日期": day(1), "进展": "撰写完成"},
            {"党员编号": full[1], "日期": day(1), "进展": "撰写完成"},
            {"党员编号": full[1], "日期": day(3), "进展": "支部审阅", "审阅人": "支部书记", "备注": "联系实际不够"},
            {"党员编号": full[2], "日期": day(4), "进展": "定稿", "审阅人": "支部书记"},
        ])
        _put(wb["谈心谈话"], [
            {"党员编号": full[0], "日期": day(2), "谈话人": "支部书记", "谈话类别": "支委与党员", "谈话要点": "查摆问题"},
            {"党员编号": full[1], "日期": day(2), "谈话人": full[2], "谈话类别": "党员之间"},
        ])
        _put(wb["民主评议"], [
            {"党员编号": full[0], "评议日期": day(5), "优秀票": 30, "合格票": 10, "基本合格票": 1, "不合格票": 0,
             "评议等次": "优秀"},
            {"党员编号": probationary[0], "评议日期": day(5), "优秀票": 12, "合格票": 25, "基本合格票": 3,
             "不合格票": 0},  # a 预备党员: votes, no 等次
        ])
    if phase == 3:
        _put(wb["整改清单"], [
            {"整改编号": "Z01", "日期": day(1), "整改对象": "党员", "党员编号": full[0], "存在问题": "理论学习不系统",
             "整改措施": "制定个人学习计划", "责任人": "本人", "完成时限": day(20), "整改状态": "整改中"},
            {"整改编号": "Z02", "日期": day(2), "整改对象": "党支部", "存在问题": "组织生活不够规范",
             "整改措施": "按月召开组织生活会", "责任人": "支部书记", "完成时限": day(30), "整改状态": "未开始"},
        ])
        _put(wb["整改公示"], [
            {"日期": day(3), "类别": "整改公示", "方式": "院内公示栏"},
            {"日期": day(5), "类别": "满意度测评", "方式": "问卷", "参评人数": 60, "满意": 45, "基本满意": 12, "不满意": 3},
        ])
    wb.save(path)


def _filled(home: Home, phase: int, target: Path) -> Path:
    target.write_bytes(_template(home, phase).read_bytes())
    fill_return(target, Secretary(diligence=1.0), seed=7)
    _fill_phase_sheets(target, phase)
    return target


def _merge(home: Home, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "branchbook", "merge", str(home.root), str(path)],
                          capture_output=True, text=True, timeout=300)


def _master_rows(home: Home, sheet: str) -> list[dict]:
    ws = load_workbook(home.master, read_only=True)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:] if any(value is not None for value in row)]


@pytest.mark.parametrize("phase", [1, 2, 3])
def test_a_return_of_each_phase_is_filled_validated_and_merged(fresh_demo, tmp_path, phase):
    path = _filled(fresh_demo, phase, tmp_path / f"{BRANCH}_phase{phase}.xlsx")
    report = validate_path(path)
    assert report.errors == [], [f.message() for f in report.errors]
    done = _merge(fresh_demo, path)
    assert done.returncode == 0, done.stdout + done.stderr
    return_id = f"{BRANCH}-W{WEEKS[phase]:02d}"
    with open_ledger(fresh_demo) as ledger:
        tables = ledger.tables(("returns", "analyses", "talks", "appraisals", "rectification", "publicity", "selfstudy"))
    assert [r["result"] for r in tables["returns"] if r["return_id"] == return_id] == ["merged"]
    assert any(str(r["source_return"]).startswith(return_id) for r in tables["selfstudy"])  # the every-phase sheets too
    schemas = load_schemas()
    for key in ("analyses", "talks", "appraisals", "rectification", "publicity"):
        ours = [r for r in tables[key] if str(r["source_return"]).startswith(return_id)]
        assert len(ours) == NEW_ROWS[phase].get(key, 0), (key, ours)
        in_master = [r for r in _master_rows(fresh_demo, schemas.sheet(key).name("zh"))
                     if str(r["来源周报表"]).startswith(return_id)]
        assert len(in_master) == len(ours), key
    if phase == 2:
        appraised = {r["member_id"]: r for r in tables["appraisals"]}
        graded = [r for r in appraised.values() if r["grade"] == "excellent"]
        assert len(graded) == 1 and graded[0]["votes_excellent"] == 30
        assert sorted(r["stage"] for r in tables["analyses"]) == ["final", "reviewed", "written", "written"]
    if phase == 3:
        # A branch's own rows take its 支部编号 from the return's metadata (the return has no such column).
        assert {r["branch_id"] for r in tables["rectification"] + tables["publicity"]} == {BRANCH}
        items = {r["item_no"]: r for r in tables["rectification"]}
        assert items["Z01"]["level"] == "member" and items["Z01"]["status"] == "in_progress"
        assert items["Z02"]["member_id"] is None and items["Z02"]["deadline"] == date(2005, 6, 22)
        survey = next(r for r in _master_rows(fresh_demo, "整改公示") if r["类别"] == "满意度测评")
        assert (survey["支部编号"], survey["参评人数"], survey["满意"]) == (BRANCH, 60, 45)


def test_each_weeks_template_carries_its_phases_sheets(fresh_demo):
    sheets = {phase: set(load_workbook(_template(fresh_demo, phase), read_only=True).sheetnames) for phase in WEEKS}
    assert sheets[1] & PHASE_SHEETS == set() and "征求意见" in sheets[1]
    assert sheets[2] & PHASE_SHEETS == {"党性分析", "谈心谈话", "民主评议"}
    # Phase 2's sheets stay in phase 3's return, for a step reported late (its flag is cleared by such a row).
    assert sheets[3] & PHASE_SHEETS == PHASE_SHEETS
    assert all({"学习活动", "出勤", "自学", "笔记检查", "征求意见"} <= names for names in sheets.values())
    guide = [str(row[0]) for row in load_workbook(_template(fresh_demo, 3))["填表说明"].iter_rows(values_only=True)
             if row[0]]
    assert any(line.startswith("· 「整改清单」") for line in guide)
    catching_up = next(line for line in guide if "补报" in line)
    assert all(f"「{name}」" in catching_up for name in ("党性分析", "谈心谈话", "民主评议")), catching_up
    assert not any("补报" in str(row[0]) for row in load_workbook(_template(fresh_demo, 2))["填表说明"].iter_rows(
        values_only=True) if row[0])


def test_every_flag_open_in_a_phase_can_be_cleared_in_that_phases_return(fresh_demo):
    """A flag's advice names the sheet a row goes in to clear it (reports/open_items.py CLEARS, as the secretary
    reads it). A flag of a record stays open until such a row comes, and such records are due from the first phase
    whose return carries the sheet: so every later phase's return must carry it too."""
    layout = load_schemas().returns
    named = {rule: [sheet for sheet in layout.sheets if sheet.kind == "records"
                    and f"“{sheet.name('zh')}”" in raw("zh", "reports", advice)] for rule, advice in CLEARS.items()}
    named = {rule: sheets for rule, sheets in named.items() if sheets}
    # The phase-2 and phase-3 rules and the opinions are among them, each naming the sheet of its records.
    assert {"analysis-not-final", "talks-missing", "appraisal-missing", "rectification-overdue", "opinions",
            "fix-overdue"} <= set(named), named
    carried = {phase: set(load_workbook(_template(fresh_demo, phase), read_only=True).sheetnames) for phase in WEEKS}
    missing = [(rule, sheet.name("zh"), phase) for rule, sheets in named.items() for sheet in sheets
               for phase in WEEKS if phase >= min(sheet.phases or (1,)) and sheet.name("zh") not in carried[phase]]
    assert missing == []


# --- what validation says of a mistake, by sheet, row and column ---------------------------------------------

def _planted(home: Home, tmp_path: Path, phase: int, change) -> list:
    path = _filled(home, phase, tmp_path / f"planted{phase}.xlsx")
    wb = load_workbook(path)
    change(wb, *_roster(wb))
    wb.save(path)
    return validate_path(path).findings


def _one(findings, code: str):
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, [f.message() for f in findings]
    return found[0]


def _cell(wb, sheet: str, row: int, label: str):
    column = next(cell.column for cell in wb[sheet][1] if cell.value == label)
    return wb[sheet].cell(row=row, column=column)


def _set(sheet: str, row: int, label: str, value):
    def change(wb, full, probationary):
        _cell(wb, sheet, row, label).value = value(full, probationary) if callable(value) else value
    return change


BAD = {  # name: (phase, change, code, message)
    "grade outside the codes": (2, _set("民主评议", 2, "评议等次", "良好"), "enum",
                                "民主评议 第2行 「评议等次」：“良好”不是"),
    "grade of a probationary member": (2, _set("民主评议", 3, "评议等次", "合格"), "grade-probationary",
                                       "民主评议 第3行 「评议等次」："),
    "votes over the members": (2, _set("民主评议", 2, "合格票", 60), "votes-over-members",
                               "民主评议 第2行 「优秀票、合格票、基本合格票、不合格票」：各档票数合计 91 票，多于"),
    "a step without its reviewer": (2, _set("党性分析", 4, "审阅人", None), "analysis-no-reviewer",
                                    "党性分析 第4行 「审阅人」：进展为“支部审阅”时须写明审阅人"),
    "an item without its owner": (3, _set("整改清单", 2, "责任人", None), "required", "整改清单 第2行 「责任人」："),
    "an item without its deadline": (3, _set("整改清单", 3, "完成时限", None), "required",
                                     "整改清单 第3行 「完成时限」："),
    "a member's item without the member": (3, _set("整改清单", 2, "党员编号", None), "item-no-member",
                                           "整改清单 第2行 「党员编号」：整改对象为党员的整改事项"),
    "a deadline before the item": (3, _set("整改清单", 2, "完成时限", date(2005, 5, 1)), "deadline-before-date",
                                   "整改清单 第2行 「完成时限」：完成时限 2005-05-01 早于本行日期"),
    "an item of the committee": (3, _set("整改清单", 3, "整改对象", "学院党委"), "item-of-committee",
                                 "整改清单 第3行 「整改对象」："),
    "answers over the respondents": (3, _set("整改公示", 3, "参评人数", 50), "answers-over-respondents",
                                     "整改公示 第3行 「参评人数」：满意、基本满意、不满意人数合计 60 人，多于参评人数 50 人"),
    "another branch's member": (3, _set("整改清单", 2, "党员编号", "M0240"), "unknown-member",  # B08's
                                "整改清单 第2行 「党员编号」：党员编号“M0240”不在本支部名单中"),
}


def test_a_member_of_another_branch_is_one_message_on_each_sheet(fresh_demo, tmp_path):
    """The member's branch is the clearest word on the mistake: the merge does not also call his ID off the
    roster, nor his row's date outside his membership (one mistake, one message)."""
    path = _filled(fresh_demo, 2, tmp_path / "other.xlsx")
    wb = load_workbook(path)
    rows = {"民主评议": 2, "自学": 2, "笔记检查": 2, "党性分析": 2}
    for sheet, row in rows.items():
        _cell(wb, sheet, row, "党员编号").value = "M0240"  # 院机关支部's
    wb.save(path)
    tables = read_master(fresh_demo.master)
    sub = load_submission(path, tables)
    for sheet, row in rows.items():
        said = [f for f in sub.findings if (f.sheet, f.row) == (sheet, row)]
        assert [f.code for f in said] == ["other-branch"], [f.message("zh") for f in said]
        assert "院机关支部" in said[0].message("zh")
    # The merge's line quotes the first three and says how many there are in all.
    _, [outcome] = merge(tables, [sub])
    line = outcome_line(outcome, lang="zh")
    assert outcome.result == "rejected" and len(outcome.problems) == len(rows) > 3
    assert line.endswith(f"……等共 {len(rows)} 处"), line


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_mistake_in_a_phase_sheet_is_named_by_sheet_row_and_column(fresh_demo, tmp_path, name):
    phase, change, code, message = BAD[name]
    finding = _one(_planted(fresh_demo, tmp_path, phase, change), code)
    assert finding.message("zh").startswith(message), finding.message("zh")
    assert "Traceback" not in finding.message("zh")
    expected = "warning" if code in ("votes-over-members", "deadline-before-date") else "error"
    assert finding.severity == expected


def test_a_bad_phase_return_is_not_merged_at_all(fresh_demo, tmp_path):
    path = _filled(fresh_demo, 3, tmp_path / "bad.xlsx")
    wb = load_workbook(path)
    _cell(wb, "整改清单", 3, "责任人").value = None
    wb.save(path)
    done = _merge(fresh_demo, path)
    assert done.returncode != 0 and "整改清单 第3行 「责任人」" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    with open_ledger(fresh_demo) as ledger:
        tables = ledger.tables(("rectification", "publicity", "sessions"))
    assert tables["rectification"] == [] and tables["publicity"] == []  # no partial merge
    assert not any(str(r["session_id"]).startswith(f"{BRANCH}-W12") for r in tables["sessions"])


def test_a_sheet_of_the_phase_is_expected_and_one_of_another_phase_is_read(fresh_demo, tmp_path):
    lacking = _filled(fresh_demo, 2, tmp_path / "lacking.xlsx")
    wb = load_workbook(lacking)
    del wb["谈心谈话"]
    wb.save(lacking)
    missing = _one(validate_path(lacking).findings, "missing-sheet")
    assert "谈心谈话" in missing.message("zh")
    # A phase-1 return with a 谈心谈话 sheet added (copied from a phase-2 template) and filled: read and merged.
    early = _filled(fresh_demo, 1, tmp_path / "early.xlsx")
    wb = load_workbook(early)
    talks = wb.create_sheet("谈心谈话", index=len(wb.sheetnames) - 2)
    for column, label in enumerate(("党员编号", "日期", "谈话人", "谈话类别", "谈话要点"), start=1):
        talks.cell(row=1, column=column, value=label)
    full, _ = _roster(wb)
    talks.append([full[0], date(2005, 3, 23), "支部书记", "支委与党员", None])
    wb.save(early)
    report = validate_path(early)
    assert report.errors == [] and "extra-sheet" not in [f.code for f in report.findings]
    assert _merge(fresh_demo, early).returncode == 0
    with open_ledger(fresh_demo) as ledger:
        assert [(r["member_id"], r["kind"]) for r in ledger.tables(("talks",))["talks"]] == [(full[0], "committee")]


def test_the_phase_is_sealed(fresh_demo, tmp_path):
    """A secretary who blanks the phase in the hidden metadata (to be spared its sheets) breaks the seal."""
    path = _filled(fresh_demo, 2, tmp_path / "unphased.xlsx")
    wb = load_workbook(path)
    meta = wb["_元数据"]
    row = next(r for r in range(1, meta.max_row + 1) if meta.cell(row=r, column=1).value == "phase")
    meta.cell(row=row, column=2).value = None
    wb.save(path)
    done = _merge(fresh_demo, path)
    assert done.returncode != 0 and "元数据（支部、周次、模板、名单）在学院发出后被改动过" in done.stdout + done.stderr, done.stdout + done.stderr


OLD_HOME = Path(__file__).parent / "data" / "home-d8d7571-demo-week3.zip"  # tests/data/README.md


def test_a_return_made_before_phase_sheets_still_merges(tmp_path):
    """A return whose metadata names no phase (made before this layout), sealed as it was then."""
    root = tmp_path / "台账"
    with zipfile.ZipFile(OLD_HOME) as archive:
        archive.extractall(root)
    for folder in ("inbox", "archive", "rejected", "backups"):
        (root / folder).mkdir(exist_ok=True)
    home = pinned_home(Home.open(root))
    sent = tmp_path / "院机关支部_第3周.xlsx"
    sent.write_bytes((root / "outbox" / "院机关支部_第3周.xlsx").read_bytes())
    meta = {row[0]: row[1] for row in load_workbook(sent)["_元数据"].iter_rows(values_only=True)}
    assert "phase" not in meta and meta["seal"]
    fill_return(sent, Secretary(diligence=1.0), seed=7)
    report = validate_path(sent)
    assert report.errors == [], [f.message() for f in report.errors]
    done = _merge(home, sent)
    assert done.returncode == 0, done.stdout + done.stderr
    with open_ledger(home) as ledger:
        receipts = ledger.tables(("returns",))["returns"]
    assert [r["result"] for r in receipts if r["return_id"] == "B08-W03"] == ["merged"]


# --- the 填报检查 of a phase-2 or phase-3 template, as LibreOffice works it out ---------------------------------

def _check_area(path: Path) -> tuple[str, dict[str, int]]:
    """The status sentence and each line's count, as the guide sheet shows them once calculated."""
    rows = list(load_workbook(path, data_only=True, read_only=True).worksheets[0].iter_rows(max_row=60, max_col=2,
                                                                                            values_only=True))
    lines = {}
    for label, count in rows[3:]:
        if label is None:
            break
        lines[label] = count
    return rows[1][0], lines


# The mistakes of BAD the merge refuses by the phase records' own rules, and the filling check's line for each.
MERGE_RULES = {"grade-probationary": "民主评议：预备党员评了等次（预备党员参加评议，不定等次）",
               "item-no-member": "整改清单：整改对象为党员的事项未填党员编号",
               "answers-over-respondents": "整改公示：满意度测评的人数合计多于参评人数"}


@pytest.mark.libreoffice
def test_the_filling_check_works_in_a_phase_2_and_a_phase_3_template(fresh_demo, tmp_path, recalculate):
    files = {"clean2": _filled(fresh_demo, 2, tmp_path / "clean2.xlsx"),
             "clean3": _filled(fresh_demo, 3, tmp_path / "clean3.xlsx")}
    files["untouched3"] = tmp_path / "untouched3.xlsx"
    files["untouched3"].write_bytes(_template(fresh_demo, 3).read_bytes())
    wrong = {"wrong2": (2, "民主评议", 2, "优秀票", 600), "wrong3": (3, "整改清单", 3, "责任人", None)}
    for name, (phase, sheet, row, label, value) in wrong.items():
        files[name] = _filled(fresh_demo, phase, tmp_path / f"{name}.xlsx")
        wb = load_workbook(files[name])
        _cell(wb, sheet, row, label).value = value
        wb.save(files[name])
    # The mistakes of the phase records' own rules (checks/phase_records.py), as validation's tests plant them.
    merge_rules = {f"rule{number}": next(bad for bad in BAD.values() if bad[2] == code)
                   for number, code in enumerate(MERGE_RULES)}
    for name, (phase, change, _, _) in merge_rules.items():
        files[name] = _filled(fresh_demo, phase, tmp_path / f"{name}.xlsx")
        wb = load_workbook(files[name])
        change(wb, *_roster(wb))
        wb.save(files[name])
    out = tmp_path / "out"
    out.mkdir()
    recalculate(list(files.values()), out)
    area = {name: _check_area(out / path.name) for name, path in files.items()}
    for name in ("clean2", "clean3"):
        assert validate_path(files[name]).errors == []
        status, lines = area[name]
        assert status.startswith("可以提交") and not any(count for count in lines.values() if count), (name, area[name])
        assert any(label.startswith("民主评议：" if name == "clean2" else "整改清单：") for label in lines)
    assert area["wrong2"][1]["民主评议：优秀票超出 0–500"] == 1 and "1 处问题" in area["wrong2"][0]
    assert [f.code for f in validate_path(files["wrong2"]).errors] == ["range"]
    assert area["wrong3"][1]["整改清单：必填项未填"] == 1
    assert [f.code for f in validate_path(files["wrong3"]).errors] == ["required"]
    for name, (_, _, code, _) in merge_rules.items():  # the sheet and the merge agree: one problem, the same
        status, lines = area[name]
        assert [f.code for f in validate_path(files[name]).errors] == [code]
        assert [label for label, count in lines.items() if count] == [MERGE_RULES[code]], (name, lines)
        assert lines[MERGE_RULES[code]] == 1 and "1 处问题" in status, (name, status)
    empty = ("尚未填写：学习活动、自学、笔记检查、征求意见、汇报收到、党性分析、谈心谈话、民主评议、整改清单、整改公示、"
             "出勤都是空的")
    assert {label: count for label, count in area["untouched3"][1].items() if count} == {empty: 1}
