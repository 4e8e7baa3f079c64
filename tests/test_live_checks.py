"""The return's 填报检查 for real: returns filled with openpyxl (a clean one and one per planted mistake),
recalculated by headless LibreOffice, their status read back; the red marks evaluated by LibreOffice too."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.formula.translate import Translator
from returns_factory import edit, filled_return, set_saved_time

from branchbook.demo.fill import Secretary, fill_return
from branchbook.workbook.checks.formulas import check_uncalculated
from branchbook.workbook.extent import sheet_parts
from branchbook.workbook.findings import Report
from branchbook.workbook.intake import load_submission
from branchbook.workbook.master import read_master
from branchbook.workbook.merge import merge
from branchbook.workbook.return_template import ReturnSpec, write_return
from branchbook.workbook.validation import validate_path

WEEK = (date(2026, 3, 2), date(2026, 3, 8))
ROSTER = [{"member_id": f"M{n:04d}", "name": name, "standing": "full", "away": "no"}
          for n, name in enumerate(("张伟", "王芳", "李娜", "刘洋", "陈静"), start=1)]
ROSTER.append({"member_id": "M0006", "name": "赵磊", "standing": "full", "away": "yes"})  # 请假(在外) all week
SPEC = ReturnSpec("B01", "第一党支部", 10, *WEEK, ROSTER, phase=1)  # tests/test_phase_returns.py for phases 2 and 3
HELPER_COLUMN, HELPER_INDEX = "AZ", 52  # where a mark's formula is evaluated, far right of every data sheet


@dataclass(frozen=True)
class Mistake:
    sheet: str
    cell: str
    value: object
    line: str  # the area's line that counts it, as the secretary reads it
    code: str  # what validation says of the same cell
    also: tuple = ()  # other cells typed with it: ((sheet, cell), value)
    reminder: bool = False  # validation's 提示, not an error: a line apart, and the return can still be sent


MISTAKES = {
    "required": Mistake("自学", "D3", None, "自学：必填项未填", "required"),
    "member": Mistake("自学", "A3", "M9999", "自学：党员编号不在党员名单上", "unknown-member"),
    # Validation compares IDs exactly once stripped (checks/roster_ids.py), so m0001 is wrong there: here too.
    "member-case": Mistake("自学", "A3", "m0001", "自学：党员编号不在党员名单上", "member-id-close"),
    "hours": Mistake("学习活动", "E2", 0.2, "学习活动：学时超出 0.5–12", "range"),
    "questions": Mistake("笔记检查", "D2", 9, "笔记检查：思考题完成数超出 0–8", "range"),
    "week": Mistake("学习活动", "B3", WEEK[0] + timedelta(days=10), "学习活动：日期不在本周（2026-03-02 至 2026-03-08）",
                    "date-outside-week"),
    "attendance-blank": Mistake("出勤", "C3", None, "出勤：已开展的活动中出勤未填（请核对，不算问题）", "status-blank",
                                reminder=True),
    "attendance-typo": Mistake("出勤", "D4", "Presnet", "出勤：出勤不是 出席/缺席/请假/请假(在外) 之一", "enum"),
    "session-not-held": Mistake("出勤", "E2", "出席", "出勤：登记出勤的活动与学习活动中的活动序号不一致", "unknown-session"),
    "session-unmarked": Mistake("出勤", "E2", None, "出勤：登记出勤的活动与学习活动中的活动序号不一致", "session-unmarked",
                                also=tuple(((("学习活动", f"{column}4"), value) for column, value in
                                            zip("ABCDE", ("S3", WEEK[0] + timedelta(days=5), "集中学习", "党章学习", 2))))),
    # A 党小组 no member on the roster is in (this roster names none).
    "party-group": Mistake("学习活动", "F2", "第九党小组", "学习活动：所填党小组在党员名单中没有党员", "unknown-party-group"),
    # 3 hours at S1 (its day is the week's third, as demo/fill.py writes it) and 10 of self-study that day.
    "day-over-12": Mistake("自学", "C2", 10, "自学：有党员一天的学时超过 12（出席的学习活动加自学）", "hours-total",
                           also=((("自学", "A2"), "M0001"), (("自学", "B2"), WEEK[0] + timedelta(days=2)),
                                 (("出勤", "C2"), "出席"))),
}


def _filled(path: Path, lang: str = "zh") -> Path:
    write_return(path, SPEC, lang)
    fill_return(path, Secretary(diligence=1.0), seed=7, lang=lang)
    return path


def _marks_on(ws, cell: str) -> list[str]:
    """The formulas of the conditional formats covering `cell`, as if written in that cell."""
    found = []
    for formatting in ws.conditional_formatting:
        if cell in formatting.sqref:
            origin = str(formatting.sqref).split()[0].split(":")[0]  # each mark has one range
            found += [Translator("=" + rule.formula[0], origin=origin).translate_formula(cell)[1:]
                      for rule in formatting.rules]
    return found


def _put_helpers(wb, mistakes: list[tuple[int, Mistake]]) -> None:
    for index, mistake in mistakes:
        ws = wb[mistake.sheet]
        marks = _marks_on(ws, mistake.cell)
        assert marks, f"no mark covers {mistake.sheet}!{mistake.cell}"
        ws[f"{HELPER_COLUMN}{index}"] = "=" + "+".join(f"IF({mark},1,0)" for mark in marks)


def _area(path: Path) -> tuple[str, int, dict[str, int], dict[tuple[str, int], int]]:
    """The status sentence, the total and each line's count, as the guide sheet shows them; and the
    marks' helper cells, by sheet and row."""
    wb = load_workbook(path, data_only=True, read_only=True)
    try:
        rows = list(wb.worksheets[0].iter_rows(max_row=40, max_col=2, values_only=True))
        helpers = {(ws.title, row): value for ws in wb.worksheets[1:]
                   for row, (value,) in enumerate(ws.iter_rows(min_col=HELPER_INDEX, max_col=HELPER_INDEX, max_row=len(MISTAKES),
                                                               values_only=True), start=1)}
    finally:
        wb.close()
    lines = {}
    for label, count in rows[3:]:
        if label is None:
            break
        lines[label] = count
    return rows[1][0], rows[1][1], lines, helpers


def _planted(base: Path, folder: Path, name: str, changes: dict[tuple[str, str], object],
             helpers: list[tuple[int, Mistake]] = ()) -> tuple[Path, Path]:
    """A copy of `base` with `changes`, as the secretary saved it (for validation), and the same with the
    marks' helper cells (for LibreOffice)."""
    wb = load_workbook(base)
    for (sheet, cell), value in changes.items():
        wb[sheet][cell] = value
    plain = folder / "plain" / f"{name}.xlsx"
    plain.parent.mkdir(exist_ok=True)
    wb.save(plain)
    _put_helpers(wb, helpers)
    wb.save(folder / f"{name}.xlsx")
    return plain, folder / f"{name}.xlsx"


@dataclass
class Recalculated:
    original: Path
    done: Path  # LibreOffice's recalculated copy
    report: Report  # validation's, of the original
    status: str
    total: int
    lines: dict[str, int]  # each line of the area: its count
    helpers: dict[tuple[str, int], int]  # the marks evaluated (_put_helpers), by sheet and row


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory, recalculate) -> dict[str, Recalculated]:
    folder = tmp_path_factory.mktemp("live")
    base, base_en = _filled(folder / "base.xlsx"), _filled(folder / "base_en.xlsx", "en")
    listed = list(enumerate(MISTAKES.values(), start=1))
    # The marks: each planted cell's formats evaluated in its own file and, for contrast, in the clean one.
    files = {name: _planted(base, folder, name, {(mistake.sheet, mistake.cell): mistake.value, **dict(mistake.also)},
                            [(index, mistake)])
             for (index, mistake), name in zip(listed, MISTAKES)}
    files["clean"] = _planted(base, folder, "clean", {}, listed)
    files["two"] = _planted(base, folder, "two", {("自学", "A3"): "M9999", ("出勤", "C3"): "Presnet", ("出勤", "C4"): None})
    # IDs with the spaces a secretary cannot see: ASCII, ideographic (a Chinese input method's), no-break, a line break.
    study = load_workbook(base, read_only=True)["自学"]
    ids = {row: study[f"A{row}"].value for row in range(2, 6)}
    assert all(isinstance(member, str) and member.startswith("M") for member in ids.values()), ids
    grid = load_workbook(base, read_only=True)["出勤"]
    statuses = {cell: grid[cell].value for cell in ("C2", "D3", "C4")}
    assert set(statuses.values()) <= {"出席", "缺席", "请假"}, statuses
    spaced = {("自学", f"A{row}"): text for row, text in zip(
        ids, (ids[2] + " ", "\u3000" + ids[3], ids[4] + "\u00a0", " " + ids[5] + "\n"))}
    # Statuses too, which validation reads with every space dropped (出 席) and full-width.
    spaced.update({("出勤", cell): text for cell, text in zip(
        statuses, (statuses["C2"] + " ", statuses["D3"][0] + " " + statuses["D3"][1:], "\u3000" + statuses["C4"]))})
    files["spaced"] = _planted(base, folder, "spaced", spaced)
    untouched = write_return(folder / "untouched.xlsx", SPEC)
    files["untouched"] = (untouched, untouched)
    files["clean_en"] = _planted(base_en, folder, "clean_en", {})
    files["typo_en"] = _planted(base_en, folder, "typo_en", {("Attendance", "D4"): "Presnet"})
    reports = {name: validate_path(plain) for name, (plain, _) in files.items()}
    assert _area(files["clean"][1])[:2] == (None, None)  # nothing computed yet
    made = recalculate([path for _, path in files.values()], folder / "out")
    return {name: Recalculated(files[name][0], made[name], reports[name], *_area(made[name])) for name in files}


@pytest.mark.libreoffice
def test_a_clean_return_reads_ready_to_send(recalculated):
    clean = recalculated["clean"]
    assert clean.status == "可以提交" and clean.total == 0
    assert len(clean.lines) == 23 and set(clean.lines.values()) == {0}
    assert clean.lines["学习活动：日期不在本周（2026-03-02 至 2026-03-08）"] == 0
    with zipfile.ZipFile(clean.done) as saved:
        assert next(iter(sheet_parts(saved))) == "填表说明"
    # Validation agrees, and ignores the area's formulas though the file was never opened by a spreadsheet.
    assert clean.report.errors == [] and not [f for f in clean.report.findings if f.code == "formula-uncalculated"]


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_planted_mistake_is_counted_where_validation_finds_it(recalculated, name):
    mistake, planted = MISTAKES[name], recalculated[name]
    assert planted.lines[mistake.line] == 1
    assert {label: count for label, count in planted.lines.items() if count} == {mistake.line: 1}
    said = [(f.code, f.sheet, f.cell.split(":")[0]) for f in planted.report.findings]  # a column: its first cell
    assert (mistake.code, mistake.sheet, mistake.cell) in said, said
    # Severity as validation's: an error is a problem to fix; a warning (提示) only a cell to check.
    [severity] = {f.severity for f in planted.report.findings if f.code == mistake.code}
    if mistake.reminder:
        assert severity == "warning" and planted.report.errors == []
        assert planted.total == 0
        assert planted.status == f"可以提交。提交前请核对标黄的 1 处，在：{mistake.sheet}。"
    else:
        assert severity == "error"
        assert planted.total == 1
        assert planted.status == f"还有 1 处问题，在：{mistake.sheet}。出错的单元格已标红，改正后再提交。"


@pytest.mark.libreoffice
@pytest.mark.parametrize("index, name", list(enumerate(MISTAKES, start=1)))
def test_the_planted_cell_is_marked_red_and_the_clean_one_is_not(recalculated, index, name):
    mistake = MISTAKES[name]
    where = (mistake.sheet, index)
    assert (recalculated[name].helpers[where], recalculated["clean"].helpers[where]) == (1, 0)


GROUPS = ("一组", "一组", "一组", "二组", "二组", "二组")
GROUPED = ReturnSpec("B01", "第一党支部", 10, *WEEK, [{**member, "away": "no", "party_group": group}
                                                      for member, group in zip(ROSTER, GROUPS)], phase=1)


def _grouped(path: Path, blanks=(), group_of_s2: str = "二组") -> Path:
    """GROUPED's return: S1 一组's 党小组学习, S2 二组's, S3 the whole branch's; each group marked in its own session
    only, everyone at S3; then the grid cells in `blanks` cleared."""
    write_return(path, GROUPED)
    wb = load_workbook(path)
    sessions, grid = wb["学习活动"], wb["出勤"]
    for row, (number, group, kind) in enumerate((("S1", "一组", "党小组学习"), ("S2", group_of_s2, "党小组学习"),
                                                  ("S3", None, "集中学习")), start=2):
        for column, value in zip("ABCDEF", (number, WEEK[0] + timedelta(days=row), kind, "党章学习", 2, group)):
            sessions[f"{column}{row}"] = value
    for row, group in enumerate(GROUPS, start=2):
        grid[f"{'C' if group == '一组' else 'D'}{row}"] = "出席"
        grid[f"E{row}"] = "出席"
    for cell in blanks:
        grid[cell] = None
    wb.save(path)
    return path


@pytest.mark.libreoffice
def test_a_party_group_sessions_blanks_count_for_its_group_only(recalculate, tmp_path):
    """Validation's warnings (checks/attendance.py) and the area's reminder line alike; the yellow mark too."""
    blank_line, group_line = "出勤：已开展的活动中出勤未填（请核对，不算问题）", "学习活动：所填党小组在党员名单中没有党员"
    files = {"grouped": _grouped(tmp_path / "grouped.xlsx"),
             "one_blank": _grouped(tmp_path / "one_blank.xlsx", blanks=("C2",)),  # 一组's first member, at S1
             "unknown": _grouped(tmp_path / "unknown.xlsx", group_of_s2="三组")}
    marks = [(1, Mistake("出勤", "C2", None, "", "")), (2, Mistake("出勤", "D2", None, "", ""))]
    wb = load_workbook(files["one_blank"])
    _put_helpers(wb, marks)  # C2 (his group's session, blank) and D2 (二组's session, blank: not his)
    wb.save(tmp_path / "one_blank_marked.xlsx")
    reports = {name: validate_path(path) for name, path in files.items()}
    made = recalculate([*files.values(), tmp_path / "one_blank_marked.xlsx"], tmp_path / "out")
    areas = {name: _area(path) for name, path in made.items()}
    # Six members, three sessions: 9 blank cells (each member in the other group's session), none expected.
    assert reports["grouped"].findings == []
    assert areas["grouped"][:2] == ("可以提交", 0) and areas["grouped"][2][blank_line] == 0
    [blank] = reports["one_blank"].findings
    assert (blank.code, blank.cell) == ("status-blank", "C2")
    assert areas["one_blank"][2][blank_line] == 1 and areas["one_blank"][:2] == ("可以提交。提交前请核对标黄的 1 处，在：出勤。", 0)
    helpers = areas["one_blank_marked"][3]
    assert (helpers[("出勤", 1)], helpers[("出勤", 2)]) == (1, 0)
    # A group no member is in: an error, on both sides; nobody is expected at that session, so no blank either.
    assert [(f.code, f.cell) for f in reports["unknown"].findings] == [("unknown-party-group", "F3")]
    assert areas["unknown"][2][group_line] == 1 and areas["unknown"][2][blank_line] == 0


@pytest.mark.libreoffice
def test_two_sheets_wrong_are_both_named(recalculated):
    two = recalculated["two"]
    # The blank at 出勤!C4 is a reminder, as validation's 提示: two problems, one per sheet.
    assert (two.status, two.total) == ("还有 2 处问题，在：自学、出勤。出错的单元格已标红，改正后再提交。", 2)
    assert two.lines["出勤：已开展的活动中出勤未填（请核对，不算问题）"] == 1
    assert sorted(f.code for f in two.report.errors) == ["enum", "unknown-member"]


@pytest.mark.libreoffice
def test_spaces_around_a_member_id_or_a_status_are_no_problem_as_validation_says(recalculated):
    spaced = recalculated["spaced"]
    assert spaced.report.errors == [], spaced.report.errors
    assert (spaced.status, spaced.total) == ("可以提交", 0)
    assert spaced.lines["自学：党员编号不在党员名单上"] == 0


@pytest.mark.libreoffice
def test_an_untouched_template_is_not_ready(recalculated):
    untouched = recalculated["untouched"]
    line = "尚未填写：学习活动、自学、笔记检查、征求意见、汇报收到、出勤都是空的"
    assert {label: count for label, count in untouched.lines.items() if count} == {line: 1}
    assert untouched.status == "尚未填写，填好后这里会显示检查结果。"
    assert "empty-return" in [f.code for f in untouched.report.errors]


@pytest.mark.libreoffice
def test_libreoffice_recalculates_values_already_stored(recalculated, recalculate, tmp_path):
    """A clean return as LibreOffice saved it (values stored: 可以提交), then an hour changed to 30 in the
    file itself, values left as they were: opened again, the area says so."""
    done = recalculated["clean"].done
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(done) as source:
        part = sheet_parts(source)["自学"]
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(stale, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == part:
                data, changed = re.subn(rb'(<c r="C2"[^>]*><v>)[^<]*(</v>)', rb"\g<1>30\g<2>", data)
                assert changed == 1
            target.writestr(info, data)
    assert _area(stale)[:2] == ("可以提交", 0)  # what was stored
    again = recalculate([stale], tmp_path / "out")["stale"]
    status, total, lines, _ = _area(again)
    assert (lines["自学：学时超出 0.5–12"], total) == (1, 1) and status.startswith("还有 1 处问题，在：自学。")


@pytest.mark.libreoffice
def test_an_english_return_speaks_english(recalculated):
    clean, typo = recalculated["clean_en"], recalculated["typo_en"]
    assert (clean.status, clean.total) == ("Ready to send", 0)
    assert "Self-study: member IDs not on the roster" in clean.lines
    assert typo.total == 1 and typo.lines["Attendance: attendance that is not one of Present/Absent/Excused/Excused (away)"] == 1
    assert typo.status == ("1 problem to fix, on: Attendance. The cell is marked in red; correct it, then send the return.")


def test_the_formulas_use_only_functions_every_program_has_and_fit_excel(tmp_path):
    """Excel refuses a formula over 8,192 characters; LibreOffice does not, so it is checked here."""
    shared = {"SUMPRODUCT", "COUNTIF", "SUMIFS", "ISNUMBER", "LEN", "TRIM", "CLEAN", "SUBSTITUTE", "EXACT", "IF", "AND",
              "OR", "NOT", "SUM", "LEFT", "DATE", "INDEX", "MATCH"}
    wb = load_workbook(write_return(tmp_path / "template.xlsx", SPEC))
    formulas = [c.value[1:] for row in wb.worksheets[0].iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    formulas += [rule.formula[0] for ws in wb.worksheets for cf in ws.conditional_formatting for rule in cf.rules]
    assert len(formulas) > 40
    used = {name for formula in formulas for name in re.findall(r"([A-Z][A-Z0-9.]*)\(", re.sub(r'"[^"]*"', "", formula))}
    assert used <= shared, used - shared
    assert max(len(formula) + 1 for formula in formulas) <= 8192


def test_a_renamed_guide_is_an_extra_sheet_and_its_formulas_are_no_errors(demo_home, tmp_path):
    """The guide renamed (填表说明 → 说明) and saved by a script, so its 填报检查 formulas have no values: one
    提示 for the extra sheet, no formula errors, and the return merges."""
    path = filled_return(demo_home, tmp_path / "院机关支部_第3周.xlsx")

    def rename(wb):
        assert wb.worksheets[0].title == "填表说明"
        wb.worksheets[0].title = "说明"

    set_saved_time(edit(path, rename), datetime(2005, 3, 28, 10, 0))
    # The formulas are there with no value: looked for on every sheet, they are found on the renamed guide.
    assert {f.sheet for f in check_uncalculated(path)} == {"说明"}
    report = validate_path(path)
    assert [(f.code, f.sheet) for f in report.findings] == [("extra-sheet", "说明")], report.findings
    tables = read_master(demo_home.master)
    _, [outcome] = merge(tables, [load_submission(path, tables)])
    assert outcome.result == "merged", outcome.problems


def test_two_formulas_on_one_row_are_two_findings_each_naming_its_column(tmp_path):
    """Formulas without values on a sheet that is read: each is said once, with its column, and not again as
    a required cell left blank (which is what the missing value makes of it)."""
    path = _filled(tmp_path / "formulas.xlsx")
    wb = load_workbook(path)
    wb["自学"]["C2"], wb["自学"]["D2"] = "=1+1", '="党章"'
    wb.save(path)
    report = validate_path(path)
    on_row_2 = [(f.code, f.cell, f.column_label) for f in report.findings if f.sheet == "自学" and f.row == 2]
    assert on_row_2 == [("formula-uncalculated", "C2", "学时"), ("formula-uncalculated", "D2", "学习内容")]
    lines = [f"{f.where('zh')}：{f.text('zh')}" for f in report.errors]
    assert len(lines) == len(set(lines)) == 2, lines


@pytest.mark.parametrize("lang, statuses, area", [("zh", "出席 / 缺席 / 请假 / 请假(在外)", "填报检查"),
                                                  ("en", "Present / Absent / Excused / Excused (away)", "Filling check")])
def test_the_guide_sends_the_secretary_to_the_area_and_lists_every_status(tmp_path, lang, statuses, area):
    """She has no 校验 button (WPS runs no macros): the guide and getting-started point to the area."""
    wb = load_workbook(write_return(tmp_path / "template.xlsx", SPEC, lang))
    text = [str(cell.value) for row in wb.worksheets[0].iter_rows(max_col=1) for cell in row if cell.value]
    [attendance] = [line for line in text if line.startswith("3.")]
    [send] = [line for line in text if line.startswith("7.")]
    assert attendance.rstrip("。.").endswith(statuses), attendance
    assert area in send and not re.search("校验|Validate", send), send
    docs = Path(__file__).parent.parent / "docs"
    for guide in ("getting-started.md", "getting-started.en.md"):
        step = (docs / guide).read_text(encoding="utf-8").split("## 5.")[1].split("## 6.")[0]
        assert "按钮" not in step.replace("不用点任何按钮", "") and "clicks Validate" not in step, step
        assert ("填报检查" if guide.endswith(".md") and ".en" not in guide else "Filling check") in step
