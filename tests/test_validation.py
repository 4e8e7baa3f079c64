"""Every finding code, each from a workbook that triggers it, and a clean return that triggers none."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from returns_factory import edit, filled_return

from branchbook.cli import main
from branchbook.workbook.findings import TEMPLATES
from branchbook.workbook.validation import validate_path


def _set(sheet, cell, value):
    return lambda wb: wb[sheet].__setitem__(cell, value)


def _meta(key, value):
    def change(wb):
        ws = wb["_元数据"]
        for row in ws.iter_rows():
            if row[0].value == key:
                row[1].value = value
    return change


def _insert_title_row(sheet):
    def change(wb):
        wb[sheet].insert_rows(1)
        wb[sheet]["A1"] = "本周自学登记"
    return change


def _english_headers(wb):
    for cell, text in zip(wb["自学"][1], ["Member ID", "Date", "Hours", "Material", "Makes up session"]):
        cell.value = text


def _drop_sheet(name):
    return lambda wb: wb.remove(wb[name])


def _clear(sheet, cell):
    return _set(sheet, cell, None)


def _copy_row(sheet, source, target):
    def change(wb):
        ws = wb[sheet]
        for column in range(1, ws.max_column + 1):
            ws.cell(row=target, column=column, value=ws.cell(row=source, column=column).value)
    return change


def _fix_without_deadline(wb):
    checks = wb["笔记检查"]
    checks["E2"] = "限期改进"
    checks["F2"] = None


# (fixture name, change, code, sheet, cell): each row a workbook named after what it covers.
CASES = [
    ("blank-hours", _clear("自学", "C2"), "required", "自学", "C2"),
    ("hours-as-text", _set("自学", "C2", "三小时"), "type", "自学", "C2"),
    ("date-as-text", _set("自学", "B2", "上周五"), "type", "自学", "B2"),
    ("typo-in-status", _set("出勤", "C4", "出息"), "enum", "出勤", "C4"),
    ("group-not-on-roster", _set("学习活动", "F2", "第九党小组"), "unknown-party-group", "学习活动", "F2"),
    ("makeup-not-this-week", _set("自学", "E2", "S7"), "makeup-unknown", "自学", "E2"),
    ("thirty-hours", _set("自学", "C2", 30), "range", "自学", "C2"),
    ("nine-questions", _set("笔记检查", "D2", 9), "range", "笔记检查", "D2"),
    ("date-next-month", _set("自学", "B2", datetime(2005, 4, 20)), "date-outside-week", "自学", "B2"),
    ("stranger-member", _set("征求意见", "A2", "M9999"), "unknown-member", "征求意见", "A2"),
    ("name-in-id-column", _set("征求意见", "A2", "陈强国"), "name-for-id", "征求意见", "A2"),
    ("id-typed-short", _set("征求意见", "A2", "M240"), "member-id-close", "征求意见", "A2"),
    ("date-without-year", _set("自学", "B2", "3月22日"), "year-added", "自学", "B2"),
    ("same-opinion-twice", _copy_row("征求意见", 2, 3), "duplicate-key", "征求意见", "A3"),
    ("roster-edited", _set("党员名单", "B3", "改过的名字"), "roster-changed", "党员名单", None),
    ("newer-template", _meta("template_version", 99), "template-version", None, None),
    ("older-template", _meta("template_version", 0), "template-old", None, None),
    ("no-summary-sheet", _drop_sheet("本周小结"), "missing-sheet", None, None),
    ("extra-sheet", lambda wb: wb.create_sheet("我的草稿"), "extra-sheet", "我的草稿", None),
    ("title-row-inserted", _insert_title_row("自学"), "header-moved", "自学", None),
    ("header-renamed", _set("自学", "C1", "时长"), "header-renamed", "自学", "C1"),
    ("headers-in-english", _english_headers, "header-translated", "自学", None),
    ("column-deleted", lambda wb: wb["自学"].delete_cols(4), "missing-column", "自学", None),
    ("column-added", _set("自学", "F1", "备注2"), "unknown-column", "自学", "F1"),
    ("attendance-for-s5", _set("出勤", "G2", "出席"), "unknown-session", "出勤", "G2"),
    ("attendance-left-blank", _clear("出勤", "D5"), "status-blank", "出勤", "D5"),
    ("thirteen-hours-a-day", None, "hours-total", "自学", None),
    ("no-metadata", _drop_sheet("_元数据"), "meta-missing", None, None),
    ("fix-without-deadline", _fix_without_deadline, "fix-no-deadline", "笔记检查", "F2"),
]


def _thirteen_hours(wb):
    study = wb["自学"]
    member, day = study["A2"].value, study["B2"].value
    study["C2"] = 11
    for column, value in enumerate((member, day, 2.5, "另一份材料"), start=1):
        study.cell(row=60, column=column, value=value)


@pytest.mark.parametrize("name,change,code,sheet,cell", CASES, ids=[c[0] for c in CASES])
def test_each_mistake_gives_its_finding(demo_home, tmp_path, name, change, code, sheet, cell):
    path = filled_return(demo_home, tmp_path / f"{name}.xlsx")
    edit(path, change or _thirteen_hours)
    report = validate_path(path)
    hits = [f for f in report.findings if f.code == code]
    assert hits, [f.message() for f in report.findings]
    assert any(f.sheet == sheet and (cell is None or f.cell == cell) for f in hits), [f.to_dict() for f in hits]
    assert all(f.message() for f in report.findings)


def test_every_code_is_covered_by_a_case():
    from test_campaigns import CAMPAIGN_CODES
    from test_import import IMPORT_CODES
    from test_intake_faults import FAULT_CODES
    from test_merge import INTAKE_CODES
    from test_phase_returns import BAD as PHASE_CASES

    # foreign-key, foreign-key-name: the master test below; formula-uncalculated: test_hazards.py
    # empty-return: test_an_untouched_template_is_refused_as_empty below; outside-membership, report-date:
    # test_membership.py; session-unmarked, date-in-future: test_messages.py; college-session-gone, session-no-column,
    # makeup-not-missed, makeup-again: test_session_records.py
    covered = {case[2] for case in CASES} | {"foreign-key", "foreign-key-name", "formula-uncalculated", "empty-return",
                                             "outside-membership", "report-date", "session-unmarked",
                                             "date-in-future", "college-session-gone", "session-no-column",
                                             "makeup-not-missed", "makeup-again"} | INTAKE_CODES | IMPORT_CODES \
        | FAULT_CODES | CAMPAIGN_CODES | {case[2] for case in PHASE_CASES.values()}  # phases 2 and 3: test_phase_returns.py
    assert covered == set(TEMPLATES)


def test_an_untouched_template_is_refused_as_empty(demo_home, tmp_path):
    import shutil

    from returns_factory import BRANCH_FILE

    path = tmp_path / "untouched.xlsx"
    shutil.copyfile(demo_home.folder("outbox") / BRANCH_FILE, path)
    report = validate_path(path)
    assert [f.code for f in report.findings] == ["empty-return"] and not report.valid
    assert report.findings[0].message().startswith("空表：")


def test_a_clean_return_yields_no_finding(demo_home, tmp_path):
    report = validate_path(filled_return(demo_home, tmp_path / "clean.xlsx"))
    assert report.findings == [] and report.valid
    assert report.stats["selfstudy"] == 16 and report.meta["branch_id"] == "B08"


def test_message_names_sheet_row_and_column_in_plain_chinese(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "typo.xlsx"), _set("出勤", "C12", "出息"))
    [finding] = validate_path(path).findings
    assert finding.message() == "出勤 第12行 「S1」：“出息”不是可选值（出席/缺席/请假/请假(在外)），请从下拉列表中选择。"
    assert validate_path(path, lang="en").findings[0].message("en").startswith("sheet 出勤 row 12 column S1:")


def test_all_findings_in_one_pass(demo_home, tmp_path):
    def many(wb):
        wb["自学"]["C2"] = 30
        wb["自学"]["C3"] = "abc"
        wb["出勤"]["C4"] = "出息"
        wb["征求意见"]["A2"] = "M9999"
    codes = sorted(f.code for f in validate_path(edit(filled_return(demo_home, tmp_path / "m.xlsx"), many)).findings)
    assert codes == ["enum", "range", "type", "unknown-member"]


def test_moved_header_is_one_finding_not_one_per_cell(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "moved.xlsx"), _insert_title_row("自学"))
    report = validate_path(path)
    assert [f.code for f in report.findings] == ["header-moved"] and report.valid


def test_master_foreign_key_and_credited_hours(fresh_demo):
    from openpyxl import load_workbook

    book = load_workbook(fresh_demo.master, read_only=True)
    committee = [row[:2] for row in book["党委委员"].iter_rows(min_row=2, values_only=True) if row[0]]
    book.close()
    liaison_id, liaison = committee[0]

    def break_master(wb):
        wb["党员"]["C2"] = "B99"
        wb["出勤"]["D2"] = 5  # the first session is 3 hours long
        wb["党支部"]["G2"] = liaison  # her name where her 委员编号 belongs

    edit(fresh_demo.master, break_master)
    report = validate_path(fresh_demo.master)
    found = {(f.code, f.sheet, f.cell) for f in report.findings}
    assert ("foreign-key", "党员", "C2") in found
    assert ("hours-total", "出勤", "D2") in found
    [named] = [f for f in report.findings if f.code == "foreign-key-name"]
    assert (named.sheet, named.cell) == ("党支部", "G2")
    assert named.message("zh").endswith(f"“{liaison}”是「党委委员」表中的姓名：此处请填其编号 {liaison_id}。")


def test_demo_master_is_valid(demo_home):
    report = validate_path(demo_home.master)
    assert report.findings == [] and report.stats["members"] > 280


# --- the command line -------------------------------------------------------------------------

def test_cli_exit_codes_and_json(demo_home, tmp_path, capsys):
    clean = filled_return(demo_home, tmp_path / "clean.xlsx")
    assert main(["validate", str(clean)]) == 0
    assert "校验通过" in capsys.readouterr().out
    bad = edit(filled_return(demo_home, tmp_path / "bad.xlsx"), _set("自学", "C2", 30))
    assert main(["validate", str(bad), "--json"]) == 1
    [item] = json.loads(capsys.readouterr().out)
    assert {k: item[k] for k in ("code", "sheet", "row", "column", "value", "severity")} == {
        "code": "range", "sheet": "自学", "row": 2, "column": "C", "value": "30", "severity": "error"}
    assert "自学 第2行 「学时」" in item["message"]


def test_cli_annotate_marks_cells_and_lists_findings(demo_home, tmp_path):
    bad = edit(filled_return(demo_home, tmp_path / "bad.xlsx"), _set("出勤", "C4", "出息"))
    out = tmp_path / "标注.xlsx"
    assert main(["validate", str(bad), "--annotate", str(out)]) == 1
    from openpyxl import load_workbook
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "校验结果"
    assert wb["出勤"]["C4"].fill.fgColor.rgb.endswith("FF9999") and "出息" in wb["出勤"]["C4"].comment.text
    link = wb["校验结果"]["C2"].hyperlink
    assert wb["校验结果"]["C2"].value == "C4" and link.location == "'出勤'!C4"


@pytest.mark.parametrize("kind", ["not-a-workbook", "encrypted", "corrupt-zip", "legacy-xls", "with-macros"])
def test_cli_unreadable_files_exit_2_with_a_clear_message(demo_home, tmp_path, capsys, kind):
    from unreadable import make_unreadable

    path, expected = make_unreadable(kind, demo_home, tmp_path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_cli_extra_and_missing_sheets(demo_home, tmp_path, capsys):
    extra = edit(filled_return(demo_home, tmp_path / "extra.xlsx"), lambda wb: wb.create_sheet("草稿"))
    assert main(["validate", str(extra)]) == 0  # an extra sheet is a warning
    assert "草稿：多出工作表" in capsys.readouterr().out
    missing = edit(filled_return(demo_home, tmp_path / "missing.xlsx"), _drop_sheet("自学"))
    assert main(["validate", str(missing)]) == 1
    assert "缺少工作表“自学”" in capsys.readouterr().out


def test_cli_newer_template_version(demo_home, tmp_path, capsys):
    newer = edit(filled_return(demo_home, tmp_path / "newer.xlsx"), _meta("template_version", 2))
    assert main(["validate", str(newer)]) == 1
    assert "第2版模板" in capsys.readouterr().out


# --- by column, as cell by cell ----------------------------------------------------------------------------------
# A master is checked by column (each distinct value parsed once, rows kept as columns): the findings and values
# must be those of going cell by cell, whatever mixture of values a column holds.

from datetime import date  # noqa: E402

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CELL = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 50_000), st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.0, -0.0, 1.0, 3.0, 12.5]),
    st.sampled_from(["", "  ", " M1 ", "M1", "出席", "present", "迟到", "3", "３", "1.5", "-0", "2005-03-07",
                     "2005年3月7日", "2005-02-30", "abc"]),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)))


def _outcome(value):
    from branchbook.workbook.cells import BadValue

    return ("bad", value.kind) if isinstance(value, BadValue) else (type(value), repr(value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CELL, max_size=30), st.sampled_from(["member_id", "status", "hours", "date"]))
@example([0.0, -0.0, None, "3"], "hours")
@example([-0.0, 0.0, 3.0], "hours")
@example([1.0, True, 1, "1"], "hours")
@example([0, False, 0.0, -0.0], "member_id")
@example([float("nan"), float("nan"), 1.0, float("inf")], "hours")
def test_a_column_parses_as_its_cells_one_by_one(values, key):
    from branchbook.workbook.cells import BadValue, parse, parse_column
    from branchbook.workbook.schema import load_schemas

    field = load_schemas().sheet("attendance" if key != "date" else "selfstudy").field(key)

    def one(value):
        try:
            return parse(field, value)
        except BadValue as bad:
            return bad

    results, outcomes = parse_column(field, values)
    assert [_outcome(r) for r in results] == [_outcome(one(v)) for v in values]
    assert {_outcome(r) for r in results} <= {_outcome(o) for o in outcomes}


ROW = st.tuples(st.sampled_from([None, "S1", "S2", "S3", 1.0, 1, True]), st.sampled_from([None, "M1", "M2", "M9"]),
                st.sampled_from([None, 0.0, -0.0, 2, 3.0, 4.5, float("nan")]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, max_size=25))
def test_key_reference_and_hours_checks_by_column_find_what_row_by_row_finds(rows):
    from branchbook.workbook.checks.attendance import check_credited_hours
    from branchbook.workbook.checks.keys import check_duplicates, check_references
    from branchbook.workbook.checks.values import ParsedColumns
    from branchbook.workbook.schema import load_schemas
    from branchbook.workbook.sheetio import SheetRead

    sheet = load_schemas().sheet("attendance")
    read = SheetRead(title="出勤", columns={"session_id": 1, "member_id": 2, "hours": 4})
    columns = ParsedColumns(list(range(2, len(rows) + 2)), {
        "session_id": [r[0] for r in rows], "member_id": [r[1] for r in rows], "hours": [r[2] for r in rows]})
    by_row = list(columns)
    labels = {f.key: f.label("zh") for f in sheet.fields}
    targets = {"sessions": {"S1", 1}, "members": {"M1", "M2"}}
    names = {"sessions": ("学习活动", "Sessions"), "members": ("党员", "Members")}

    def same(check, *args):
        assert [f.to_dict() for f in check(read, columns, *args)] == [f.to_dict() for f in check(read, by_row, *args)]

    same(check_duplicates, ("session_id", "member_id"), "zh", labels)
    same(check_duplicates, ("member_id",), "zh", labels)
    same(check_references, sheet, targets, names, "zh")
    same(check_credited_hours, {"S1": 3, "S2": 2.5, 1: 0.5}, "计入学时")


def test_a_master_is_read_by_column_as_row_by_row(tmp_path):
    """The rows read from a sheet (raw, and parsed) are those iter_rows gives, rows blank in every column of the
    schema left out, whether calamine (blanks as "", rows from row 1) or another reader gives them."""
    from openpyxl import Workbook

    from branchbook.workbook.cells import BadValue, is_blank, parse
    from branchbook.workbook.fastread import open_sheets
    from branchbook.workbook.schema import load_schemas
    from branchbook.workbook.sheetio import ValuesSheet, read_table

    sheet = load_schemas().sheet("attendance")
    wb = Workbook()
    ws = wb.active
    ws.title = "出勤"
    rows = [[None], ["出勤登记"], ["活动编号", "党员编号", "状态", "计入学时", "备注", "行指纹"],
            ["S1", "M1", "出席", 3, None, "ab"], [None, None, None, None, "只有备注"], ["  ", None, None, None],
            [None, None, None, None, None, "只有指纹"], ["S1", " M2 ", "迟到", -0.0], [], ["S2", 1001, True, "三"],
            ["S3", "M3", "缺席", 0, None, ""]]
    for row in rows:
        ws.append(row)
    ws.cell(row=16, column=3, value="  ")
    path = tmp_path / "m.xlsx"
    wb.save(path)
    [calamine] = open_sheets(path)
    values = ValuesSheet("出勤", [list(row) for row in calamine.iter_rows()])
    for source in (calamine, values, wb.active):
        read = read_table(source, sheet.fields)
        assert read.header_row == 3 and read.columns == {"session_id": 1, "member_id": 2, "status": 3, "hours": 4,
                                                         "row_fingerprint": 6}
        expected = []
        for number, row in enumerate(source.iter_rows(values_only=True), start=1):
            if number > 3:
                record = {key: row[column - 1] if column - 1 < len(row) else None for key, column in read.columns.items()}
                if not all(is_blank(v) for v in record.values()):
                    expected.append((number, record))
        assert read.rows == expected and [n for n, _ in expected] == [4, 7, 8, 10, 11]

        def kept(key, value):
            try:
                return parse(sheet.field(key), value)
            except BadValue:
                return value
        assert [[(k, type(v), repr(v)) for k, v in r.items()] for r in read.records] == \
            [[(k, type(v), repr(v)) for k, v in ((k, kept(k, v)) for k, v in r.items())] for _, r in expected]


def _with_part(source, target, part, change):
    import zipfile

    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in archive.infolist():
            data = archive.read(info.filename)
            out.writestr(info, change(data) if info.filename == part else data)
    return target


@pytest.mark.parametrize("threaded", [False, True])
def test_the_largest_sheet_parsed_in_a_thread_of_its_own_reads_the_same(demo_home, tmp_path, monkeypatch, threaded):
    """A big workbook's largest sheet is parsed beside the others (here every workbook is big): the same
    report, the same records, and a sheet that cannot be parsed makes the file unreadable all the same, the
    first such sheet in the workbook's order naming the reason."""
    import zipfile

    from branchbook.workbook import fastread
    from branchbook.workbook.safe_open import UnreadableFile
    from branchbook.workbook.schema import load_schemas
    from branchbook.workbook.sheetio import records_of

    schemas = load_schemas()
    with zipfile.ZipFile(demo_home.master) as archive:
        parts = fastread.sheet_parts(archive)
    expected = validate_path(demo_home.master)
    records = records_of(fastread.open_sheets(demo_home.master), schemas)
    if threaded:
        monkeypatch.setattr(fastread, "PARALLEL_SHEET_BYTES", 1)
    report = validate_path(demo_home.master)
    assert [f.to_dict() for f in report.findings] == [f.to_dict() for f in expected.findings]
    assert report.stats == expected.stats and records_of(fastread.open_sheets(demo_home.master), schemas) == records
    cut = lambda data: data[: len(data) // 2]  # noqa: E731
    for name in ("出勤", "党员", "周报"):  # the largest sheet, one before it, one after it
        damaged = _with_part(demo_home.master, tmp_path / f"{name}.xlsx", parts[name], cut)
        with pytest.raises(UnreadableFile) as raised:
            validate_path(damaged)
        assert raised.value.kind == "corrupt" and "其内容无法作为电子表格读取" in raised.value.message("zh")
        assert "Error" not in raised.value.message("zh")  # words, never the reader's class name (XmlError)
        with pytest.raises(UnreadableFile):
            fastread.open_sheets(damaged)


def test_an_infinite_or_undefined_number_in_a_date_cell_is_a_wrong_type_not_a_reader_failure():
    """Excel never stores one, but a file made by another program can (<v>1e999</v>): a finding naming the cell,
    not a reading that fails and refuses the whole file as unreadable."""
    from branchbook.workbook.cells import BadValue, parse
    from branchbook.workbook.schema import load_schemas

    schemas = load_schemas()
    for field in (schemas.sheet("selfstudy").field("date"), schemas.sheet("returns").field("received_at")):
        for value in (float("inf"), float("-inf"), float("nan")):
            with pytest.raises(BadValue):
                parse(field, value)


def test_a_returns_guide_is_not_parsed_and_the_return_reads_the_same(demo_home, tmp_path, monkeypatch):
    """The guide's values are never read (its 填报检查 formulas were half of reading a return): open_sheets leaves it
    unparsed, made_safe leaves it so, and a return is judged as before even when parsing the guide would fail."""
    from branchbook.workbook import fastread
    from branchbook.workbook.books import open_ledger
    from branchbook.workbook.intake import load_submission
    from branchbook.workbook.safe_values import made_safe

    path = filled_return(demo_home, tmp_path / "r.xlsx")
    with open_ledger(demo_home) as ledger:
        tables = ledger.tables(("phases", "branches", "members", "sessions"))
    before = load_submission(path, tables, lang="zh")
    sheets = fastread.open_sheets(path, skip=["填表说明"])
    guide = next(s for s in sheets if s.title == "填表说明")
    safe, _ = made_safe(sheets)
    assert not guide.parsed and guide in safe and all(s.parsed for s in sheets if s is not guide)
    assert list(guide.iter_rows()) == list(next(s for s in fastread.open_sheets(path) if s.title == "填表说明").iter_rows())

    def broken(self):
        raise AssertionError("the guide was parsed")

    monkeypatch.setattr(fastread._Unparsed, "sheet", broken)
    after = load_submission(path, tables, lang="zh")
    assert before.acceptable and after.acceptable and after.rows == before.rows
    assert [f.code for f in after.report.findings] == [f.code for f in before.report.findings]
