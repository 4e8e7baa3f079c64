"""`branchbook import`: an office's own roster (its column names and order, a title row, GBK CSVs) brought
into the ledger: a preview, a refusal naming sheet, row and column, --skip-bad, and a re-import that adds,
updates and marks leavers without duplicating; `rebuild` reproduces it all from the journal."""
from __future__ import annotations

import json
from datetime import date

from openpyxl import Workbook

from branchbook.cli import Exit, main
from branchbook.workbook.books import open_ledger
from branchbook.workbook.home import Home
from branchbook.workbook.office import init_home

BRANCH_HEADERS = ["书记", "支部名称", "类别", "书记邮箱"]
BRANCH_ROWS = [
    ["张书记", "生医系硕士生党支部", "硕士生", "zhang@college.example.cn"],
    ["李书记", "院机关支部", "机关", "li@college.example.cn"],
]
# The office's own order and names: phone first, 党员类别 holding 正式党员/预备党员, 性别 and 入党时间 not ours.
MEMBER_HEADERS = ["手机", "姓名", "性别", "党员类别", "所在支部", "人员类别", "入党时间", "邮箱"]
GOOD_MEMBERS = [
    ["13800000001", "王芳", "女", "正式党员", "生医系硕士生党支部", "学生", "2003-06-01", "wf@x.cn"],
    ["13800000002", "李明", "男", "预备党员", "生医系硕士生", "学生", "2004-12-01", "lm@x.cn"],
    [13800000003, "赵强", "男", "正式", "院机关支部", "机关", "1998-07-01", None],
    ["13800000004", "孙丽", "女", "正式党员", "院机关支部", "教工", "2001-07-01", None],
]
BAD_MEMBERS = [
    ["13800000005", "周杰", "男", "正式党员", "物理系党支部", "学生", None, None],  # no such branch
    ["13800000006", "吴敏", "女", "积极分子", "院机关支部", "机关", None, None],  # not a standing
    ["13800000007", "王芳", "女", "正式党员", "生医系硕士生党支部", "学生", None, None],  # the same person again
]


def _roster(path, members, branches=BRANCH_ROWS):
    wb = Workbook()
    ws = wb.active
    ws.title = "支部名单"
    ws.append(BRANCH_HEADERS)
    for row in branches:
        ws.append(row)
    roster = wb.create_sheet("花名册")
    roster.append(["生仪学院党员花名册（2005年3月）"])  # a title above the header, as offices do
    roster.append(MEMBER_HEADERS)
    for row in members:
        roster.append(row)
    wb.save(path)
    return path


def _members(home):
    with open_ledger(home) as ledger:
        return {m["member_id"]: m for m in ledger.tables(["members"])["members"]}


def _run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_a_roster_with_its_own_columns_is_previewed_refused_imported_and_reimported(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    first = _roster(tmp_path / "党员名单.xlsx", GOOD_MEMBERS + BAD_MEMBERS)

    # The preview of a file with bad rows: every problem with sheet, row and column, and nothing written.
    code, out, _ = _run(capsys, "import", home.root, first, "--dry-run")
    assert code == Exit.FINDINGS
    assert "花名册 第7行 「所在支部」：有 1 行所写的支部台账中还没有（物理系党支部）：请先导入支部" in out  # title row 1, header row 2, data from row 3
    assert "花名册 第8行 「党员类别」：“积极分子”不是这一列可填的值：请改为 正式/预备 之一。" in out  # no drop-down in a file
    assert "花名册 第9行：与第3行是同一个人" in out
    assert "没有导入任何内容" in out
    assert "“性别”、“入党时间”、“邮箱”列不导入" in out  # the columns that are not imported are named, in one note
    assert _members(home) == {}

    # Without --dry-run it is refused all the same: nothing is imported until the file is clean.
    code, out, _ = _run(capsys, "import", home.root, first)
    assert code == Exit.FINDINGS and _members(home) == {}

    # --skip-bad: the good rows in, the three bad ones listed and left out.
    code, out, _ = _run(capsys, "import", home.root, first, "--skip-bad")
    assert code == Exit.OK
    assert "有错未导入的行（3）：花名册 第7行、花名册 第8行、花名册 第9行" in out
    with open_ledger(home) as ledger:
        branches = {b["branch_id"]: b for b in ledger.tables(["branches"])["branches"]}
    assert {(b["name"], b["kind"], b["secretary"]) for b in branches.values()} == {
        ("生医系硕士生党支部", "master", "张书记"), ("院机关支部", "office", "李书记")}
    assert branches["B01"]["name"] == "生医系硕士生党支部" and branches["B02"]["name"] == "院机关支部"
    members = _members(home)
    assert {(m["member_id"], m["name"], m["branch_id"], m["category"], m["standing"], m["contact"])
            for m in members.values()} == {
        ("M0001", "王芳", "B01", "student", "full", "13800000001"),
        ("M0002", "李明", "B01", "student", "probationary", "13800000002"),
        ("M0003", "赵强", "B02", "office", "full", "13800000003"),
        ("M0004", "孙丽", "B02", "staff", "full", "13800000004"),
    }

    # An updated roster: a new member, a changed phone, a leaver (李明 is no longer listed).
    updated = [list(row) for row in GOOD_MEMBERS if row[1] != "李明"]
    updated[0][0] = "13900000001"
    updated[1][3] = "预备党员"  # 赵强
    updated.append(["13800000008", "钱进", "男", "预备党员", "院机关支部", "机关", None, None])
    second = _roster(tmp_path / "党员名单-4月.xlsx", updated)
    code, out, _ = _run(capsys, "import", home.root, second, "--dry-run")
    assert code == Exit.OK
    assert "+ M0005 钱进" in out and "~ M0001 王芳：联系方式 13800000001 → 13900000001" in out
    assert "- M0002 李明" in out
    assert "~ M0003 赵强：党员类别 正式 → 预备" in out  # the labels the office knows, not the ledger's codes
    assert _members(home)["M0001"]["contact"] == "13800000001"  # a preview writes nothing
    code, out, _ = _run(capsys, "import", home.root, second, "--json")
    assert code == Exit.OK
    data = json.loads(out)
    assert data["written"] and data["counts"]["members"] == {"add": 1, "update": 2, "leave": 1}
    members = _members(home)
    assert len(members) == 5  # nobody twice
    assert members["M0001"]["contact"] == "13900000001"
    assert (members["M0005"]["name"], members["M0005"]["branch_id"], members["M0005"]["standing"]) == \
        ("钱进", "B02", "probationary")
    assert members["M0002"]["name"] == "李明"  # a leaver is marked, not deleted: her records stay
    assert (members["M0002"]["left"], members["M0002"]["leave_reason"]) == (date.today(), "transfer_out")
    assert members["M0001"]["left"] is None

    # The same file again changes nothing.
    code, out, _ = _run(capsys, "import", home.root, second)
    assert code == Exit.OK and "账中已是这份名单" in out and len(_members(home)) == 5
    assert "预览" not in out and "已导入 党员名单-4月.xlsx：" in out  # it was imported, not only previewed

    # The master shows the ledger, and rebuild replays the imports from the journal.
    from branchbook.workbook.fastread import open_sheets
    from branchbook.workbook.schema import load_schemas
    from branchbook.workbook.sheetio import records_of

    shown = records_of(open_sheets(home.master), load_schemas())["members"]
    assert {m["member_id"]: m["contact"] for m in shown}["M0001"] == "13900000001"
    code, out, _ = _run(capsys, "rebuild", home.root)
    assert code == Exit.OK and "与重建前的数据库完全一致" in out
    assert _members(home) == members


def test_a_gbk_csv_with_a_mapping_the_user_gives(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    branches = _roster(tmp_path / "支部.xlsx", [], BRANCH_ROWS)
    assert _run(capsys, "import", home.root, branches)[0] == Exit.OK
    # Saved by Chinese Excel: GBK bytes, no BOM; 镕 is a GBK-only character; 移动号码 is a header we do not know.
    text = "序号,姓名,支部,身份,党籍,移动号码\n1,朱镕,院机关支部,机关,正式,13700000001\n2,何欣,院机关支部,教工,预备,13700000002\n"
    csv_path = tmp_path / "名单.csv"
    csv_path.write_bytes(text.encode("gbk"))
    code, out, _ = _run(capsys, "import", home.root, csv_path, "--map", "移动号码=联系方式", "--map", "序号=")
    assert code == Exit.OK, out
    members = _members(home)
    assert {(m["name"], m["branch_id"], m["category"], m["standing"], m["contact"]) for m in members.values()} == {
        ("朱镕", "B02", "office", "full", "13700000001"), ("何欣", "B02", "staff", "probationary", "13700000002")}


def test_a_file_with_no_roster_in_it_says_what_to_do(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    path = tmp_path / "别的.csv"
    path.write_text("日期,金额\n2005-03-01,100\n", encoding="utf-8")
    code, out, _ = _run(capsys, "import", home.root, path)
    assert code == Exit.FINDINGS
    assert "找不到党员、党支部或党委委员的工作表" in out and "--map" in out


def test_the_import_is_journaled_with_its_file(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    _run(capsys, "import", home.root, _roster(tmp_path / "r.xlsx", GOOD_MEMBERS))
    entries = [json.loads(line) for line in (home.root / "ledger-journal.jsonl").read_text(encoding="utf-8").splitlines()]
    imported = [e for e in entries if e["kind"] == "import"]
    assert len(imported) == 1 and imported[0]["body"]["file_name"] == "r.xlsx"
    assert sum(e["op"] == "insert" for e in imported[0]["body"]["edits"]) == 6  # 2 branches, 4 members
    assert Home.open(home.root).as_of == date.today()


def test_homonyms_new_rows_without_a_needed_column_and_a_sheet_that_is_no_roster(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    assert _run(capsys, "import", home.root, _roster(tmp_path / "r.xlsx", GOOD_MEMBERS))[0] == Exit.OK
    # Two 王芳 now, in different branches: a third row naming 王芳 in a branch of neither cannot say which.
    with_id = tmp_path / "编号.csv"
    with_id.write_text("党员编号,姓名,所在支部,党籍,类别\nM0010,王芳,院机关支部,正式,机关\n", encoding="utf-8")
    assert _run(capsys, "import", home.root, with_id)[0] == Exit.OK
    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["姓名", "所在支部", "党籍"])  # no 类别 column: a new member cannot be added without it
    ws.append(["王芳", "另一个支部", "正式"])
    ws.append(["钱进", "院机关支部", "预备"])
    notes = wb.create_sheet("备注")
    notes.append(["说明"])
    notes.append(["三月份更新"])
    path = tmp_path / "名单.xlsx"
    wb.save(path)
    code, out, _ = _run(capsys, "import", home.root, path, "--json")
    assert code == Exit.FINDINGS
    found = {(f["code"], f["sheet"], f["row"]) for f in json.loads(out)["findings"]}
    assert {("import-unknown-branches", "名单", 2), ("import-needs-column", "名单", 2),  # rows 2–3, one message
            ("import-sheet-unread", "备注", None)} <= found
    ws.cell(row=2, column=2).value = "院机关支部"
    ws.cell(row=2, column=1).value = "王芳"
    wb.save(path)
    # 王芳 of 院机关支部 is M0010; rename the branch column away and 王芳 is two people.
    ws.cell(row=1, column=2).value = "部门"
    wb.save(path)
    code, out, _ = _run(capsys, "import", home.root, path, "--json")
    found = {(f["code"], f["sheet"], f["row"]) for f in json.loads(out)["findings"]}
    assert ("import-ambiguous", "名单", 2) in found
    assert ("import-unused-column", "名单", 1) in found


IMPORT_CODES = {"import-no-sheet", "import-sheet-unread", "import-row-unread", "import-id-other-name", "import-id-unknown", "import-unused-column", "import-unknown-reference",
                "import-ambiguous", "import-duplicate", "import-needs-column", "import-enum", "import-unknown-branches"}


def test_a_member_listed_in_another_branch_has_moved_and_one_listed_again_is_back(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    assert _run(capsys, "import", home.root, _roster(tmp_path / "1.xlsx", GOOD_MEMBERS))[0] == Exit.OK
    without_sun = [row for row in GOOD_MEMBERS if row[1] != "孙丽"]
    assert _run(capsys, "import", home.root, _roster(tmp_path / "2.xlsx", without_sun))[0] == Exit.OK
    assert _members(home)["M0004"]["left"] == date.today()
    moved = [list(row) for row in GOOD_MEMBERS]
    moved[2][4] = "生医系硕士生党支部"  # 赵强 moves from 院机关支部 (B02) to B01
    code, out, _ = _run(capsys, "import", home.root, _roster(tmp_path / "3.xlsx", moved))
    assert code == Exit.OK
    members = _members(home)
    assert (members["M0003"]["branch_id"], members["M0003"]["join_reason"], members["M0003"]["from_branch"],
            members["M0003"]["joined"]) == ("B01", "transfer_in", "B02", date.today())
    assert (members["M0004"]["left"], members["M0004"]["leave_reason"]) == (None, None)  # 孙丽 is back
    assert len(members) == 4


def test_the_encodings_a_chinese_office_saves_csv_in():
    from branchbook.workbook.import_source import decode_csv

    text = "姓名,所在支部\n朱镕基,院机关支部\n"
    assert decode_csv(text.encode("gbk")) == text  # Chinese Excel's "CSV": GBK, no BOM
    assert decode_csv(text.encode("gb18030")) == text
    assert decode_csv(text.encode("utf-8-sig")) == text  # "CSV UTF-8": a BOM
    assert decode_csv(text.encode("utf-8")) == text
    assert decode_csv("姓名\t所在支部\n".encode("utf-16")) == "姓名\t所在支部\n"  # "Unicode text"


def test_a_tab_separated_unicode_text_file(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    assert _run(capsys, "import", home.root, _roster(tmp_path / "支部.xlsx", [], BRANCH_ROWS))[0] == Exit.OK
    path = tmp_path / "名单.txt"
    path.write_bytes("姓名\t所在支部\t党籍\t类别\n何欣\t院机关支部\t正式\t机关\n".encode("utf-16"))
    assert _run(capsys, "import", home.root, path)[0] == Exit.OK
    assert [(m["name"], m["branch_id"]) for m in _members(home).values()] == [("何欣", "B02")]


# A typical office roster as the stranger's college keeps it: GBK CSV, its own headers, 政治面貌 for the standing.
OFFICE_HEADERS = "序号,姓名,性别,民族,出生年月,所属党支部,身份,政治面貌,联系电话,入党日期\n"
OFFICE_ROWS = ("1,张伟,男,汉族,1985.02,计算机系本科生党支部,学生,中共预备党员,13900000001,2004/2/1\n"
               "2,王静,男,汉族,1985.03,计算机系研究生党支部,学生,中共党员,13900000002,2004/3/1\n"
               "3,李娜,女,汉族,1975.04,计算机系教工党支部,教工,中共党员,13900000003,1998/4/1\n"
               "4,刘洋,女,汉族,1985.05,计算机系本科生党支部,学生,中共党员,13900000004,2004/5/1\n")


def _gbk(path, text):
    path.write_bytes(text.encode("gbk"))
    return path


def test_an_office_roster_csv_naming_branches_not_yet_imported_gets_one_message(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    roster = _gbk(tmp_path / "党员花名册.csv", OFFICE_HEADERS + OFFICE_ROWS)
    code, out, _ = _run(capsys, "import", home.root, roster, "--dry-run")
    assert code == Exit.FINDINGS
    about_rows = [line for line in out.splitlines() if line.startswith("  【错误】党员花名册.csv 第") and "行 " in line]
    assert about_rows == [  # one message for the branches, not one (or two) a row; 所属党支部 and 政治面貌 are read
        "  【错误】党员花名册.csv 第2–5行 「所属党支部」：有 4 行所写的支部台账中还没有（计算机系本科生党支部、计算机系研究生党支部、"
        "计算机系教工党支部）：请先导入支部（一张有 支部名称、类别、支部书记 列的表，可放在同一个工作簿里，也可单独一个文件先导入，"
        "如《从安装到第一周周报表合并》示例中的“党支部”表），再导入党员。"]
    assert "“所属党支部”列不导入" not in out and "“政治面貌”列不导入" not in out
    assert "台账中已是这份名单" not in out  # nothing to preview is not "nothing to change"
    assert _members(home) == {}

    branches = _gbk(tmp_path / "支部.csv", "支部名称,支部书记,书记邮箱,类别\n"
                    "计算机系教工党支部,钱老师,qian@cs.edu.cn,教工\n计算机系本科生党支部,孔同学,kong@cs.edu.cn,本科生\n"
                    "计算机系研究生党支部,严同学,yan@cs.edu.cn,硕士生\n")
    assert _run(capsys, "import", home.root, branches)[0] == Exit.OK
    code, out, _ = _run(capsys, "import", home.root, roster)
    assert code == Exit.OK, out
    assert {(m["name"], m["branch_id"], m["category"], m["standing"], m["contact"]) for m in _members(home).values()} == {
        ("张伟", "B02", "student", "probationary", "13900000001"), ("王静", "B03", "student", "full", "13900000002"),
        ("李娜", "B01", "staff", "full", "13900000003"), ("刘洋", "B02", "student", "full", "13900000004")}


def test_a_missing_column_is_one_message_and_a_bad_value_says_what_is_allowed(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    assert _run(capsys, "import", home.root, _roster(tmp_path / "支部.xlsx", [], BRANCH_ROWS))[0] == Exit.OK
    # No 身份 (category) column for new members; row 3 holds a 政治面貌 that is not a party standing.
    path = _gbk(tmp_path / "名单.csv", "姓名,所属党支部,政治面貌\n何欣,院机关支部,中共党员\n钱进,院机关支部,共青团员\n"
                                      "吴敏,院机关支部,中共预备党员\n")
    code, out, _ = _run(capsys, "import", home.root, path, "--json")
    assert code == Exit.FINDINGS
    findings = [(f["code"], f["row"], f["last_row"], f["message"]) for f in json.loads(out)["findings"]]
    assert findings == [
        ("import-needs-column", 2, 4, "名单.csv 第2–4行：新增的行需要“类别”：请加上这一列，或用 --map 列名=类别 指明您的列。"),
        ("import-enum", 3, None, "名单.csv 第3行 「政治面貌」：“共青团员”不是这一列可填的值：请改为 正式/预备 之一。"),
    ]
    # A branch naming a liaison the committee does not have: that reference is answered row by row.
    wb = Workbook()
    ws = wb.active
    ws.title = "党支部"
    ws.append(["支部名称", "类别", "支部书记", "联系委员"])
    ws.append(["生医教工党支部", "教工", "陈老师", "无此人"])
    wb.save(tmp_path / "联系.xlsx")
    code, out, _ = _run(capsys, "import", home.root, tmp_path / "联系.xlsx", "--json")
    assert [(f["code"], f["row"]) for f in json.loads(out)["findings"]] == [("import-unknown-reference", 2)]


def test_skip_bad_with_every_row_bad_says_nothing_was_imported(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    path = _gbk(tmp_path / "名单.csv", "姓名,所在支部,党籍,类别\n钱七,没有的支部,预备,教工\n")
    code, out, _ = _run(capsys, "import", home.root, path, "--skip-bad")
    assert code == Exit.FINDINGS and _members(home) == {}
    assert out.splitlines()[-2:] == [
        "有错未导入的行（1）：名单.csv 第2行",
        "没有导入任何内容：有错的行未导入，其余的行（如有）台账中已有。"]  # not "imported" nor "already holds this roster"


def test_a_note_below_the_table_is_not_a_member_with_everything_missing(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    assert _run(capsys, "import", home.root, _roster(tmp_path / "支部.xlsx", [], BRANCH_ROWS))[0] == Exit.OK
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "所在支部", "党籍", "类别"])
    ws.append([1, "何欣", "院机关支部", "正式", "机关"])
    ws.append([None] * 5)
    ws.append(["制表人：张三"])  # in the 序号 column, which is not imported
    wb.save(tmp_path / "名单.xlsx")
    code, out, _ = _run(capsys, "import", home.root, tmp_path / "名单.xlsx")
    assert code == Exit.OK, out
    assert "  【提示】Sheet 第4行：导入的各列都是空的（只有“制表人：张三”），这一行不导入；如果它是一个人，请填上姓名等各列。" in out
    assert "不能为空" not in out
    assert [m["name"] for m in _members(home).values()] == ["何欣"]


def test_a_new_home_sends_the_office_to_import(tmp_path, capsys):
    folder = tmp_path / "台账"
    code, out, _ = _run(capsys, "init", folder)
    assert code == Exit.OK and f"下一步：用 branchbook import {folder} 文件 导入" in out
    for command in ("returns", "flags"):  # before any import: what is missing, and how to bring it in
        code, out, err = _run(capsys, command, folder)
        assert code == Exit.UNUSABLE and "branchbook import" in err, (command, err)


def test_an_id_column_that_disagrees_with_the_ledger_is_refused_not_applied(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    assert _run(capsys, "import", home.root, _roster(tmp_path / "支部.xlsx", [], BRANCH_ROWS))[0] == Exit.OK
    # 编号 here numbers the rows: a re-sorted roster would make 王芳 into 何欣 and 何欣 into 王芳.
    first = _gbk(tmp_path / "名单.csv", "编号,姓名,所在支部,党籍,类别\n1,王芳,院机关支部,正式,机关\n2,何欣,院机关支部,正式,机关\n")
    assert _run(capsys, "import", home.root, first)[0] == Exit.OK
    resorted = _gbk(tmp_path / "名单2.csv", "编号,姓名,所在支部,党籍,类别\n1,何欣,院机关支部,正式,机关\n2,王芳,院机关支部,预备,机关\n")
    code, out, _ = _run(capsys, "import", home.root, resorted)
    assert code == Exit.FINDINGS
    assert "名单2.csv 第2行 「编号」：编号“1”在台账中是王芳，而何欣在台账中是 2：如果这一列只是序号，请用 --map “编号=” 不导入这一列；否则请改正编号。" in out
    assert {m["member_id"]: (m["name"], m["standing"]) for m in _members(home).values()} == {
        "1": ("王芳", "full"), "2": ("何欣", "full")}  # nothing swapped

    # A roster without IDs first, then one with a 学号 column: the same people, not new ones.
    home = init_home(tmp_path / "台账2")
    assert _run(capsys, "import", home.root, _roster(tmp_path / "支部.xlsx", [], BRANCH_ROWS))[0] == Exit.OK
    assert _run(capsys, "import", home.root, _gbk(tmp_path / "无号.csv", "姓名,所在支部,党籍,类别\n王芳,院机关支部,正式,机关\n"))[0] == Exit.OK
    with_numbers = _gbk(tmp_path / "有号.csv", "学号,姓名,所在支部,党籍,类别\n20201,王芳,院机关支部,正式,机关\n20202,何欣,院机关支部,正式,机关\n")
    code, out, _ = _run(capsys, "import", home.root, with_numbers)
    assert code == Exit.FINDINGS
    assert "有号.csv 第2行 「学号」：“20201”不是台账中的编号，而台账中已有王芳（M0001）：请在这一列写台账的编号（M0001），或用 --map “学号=” 不导入这一列、按姓名对应。" in out
    assert "第3行 「学号」" not in out  # 何欣 is new: her 学号 is her ID
    assert "标记为转出" not in out  # 王芳's row is refused, not read as her having left
    code, out, _ = _run(capsys, "import", home.root, with_numbers, "--map", "学号=")
    assert code == Exit.OK
    assert sorted((m["member_id"], m["name"]) for m in _members(home).values()) == [("M0001", "王芳"), ("M0002", "何欣")]


def test_a_branch_list_whose_mail_column_is_called_dianzi_youjian_gives_the_secretaries_mail(tmp_path, capsys):
    """An office's 支部一览 calls the secretary's address 电子邮件 (as its committee list does): it is her 书记邮箱,
    the address returns are mailed to, not a column left out."""
    home = init_home(tmp_path / "台账")
    wb = Workbook()
    ws = wb.active
    ws.title = "支部"
    ws.append(["党支部一览"])
    ws.append(["支部", "支部类型", "书记", "电子邮件"])
    ws.append(["化学系教工党支部", "教工", "王建国", "wangjg@chem.example.cn"])
    wb.save(tmp_path / "支部.xlsx")
    code, out, _ = _run(capsys, "import", home.root, tmp_path / "支部.xlsx")
    assert code == Exit.OK and "电子邮件" not in out, out
    with open_ledger(Home.open(home.root)) as ledger:
        branches = ledger.tables(["branches"])["branches"]
    assert [b["secretary_email"] for b in branches] == ["wangjg@chem.example.cn"]


def test_the_errors_that_stop_an_import_come_first_marked_apart_from_the_notes(tmp_path, capsys):
    home = init_home(tmp_path / "台账")
    assert _run(capsys, "import", home.root, _roster(tmp_path / "支部.xlsx", []))[0] == Exit.OK
    path = _gbk(tmp_path / "名单.csv", "性别,姓名,所在支部,党籍,类别\n女,王芳,院机关支部,正式,机关\n"
                                        "女,王芳,院机关支部,正式,机关\n注：以上为全部党员,,,,\n")
    code, out, _ = _run(capsys, "import", home.root, path)
    assert code == Exit.FINDINGS and _members(home) == {}
    lines = out.splitlines()
    assert lines[0] == "名单.csv 没有导入任何内容：标【错误】的行使导入停止，标【提示】的只供参考。"
    marked = [line.strip()[:4] for line in lines[1:4]]
    assert marked == ["【错误】", "【提示】", "【提示】"]  # the duplicate first, then the column and the note row
    assert "与第2行是同一个人" in lines[1]
    # Only notes: the file is imported, and the heading says the notes do not stop it.
    path = _gbk(tmp_path / "名单2.csv", "姓名,性别,所在支部,党籍,类别\n王芳,女,院机关支部,正式,机关\n")
    code, out, _ = _run(capsys, "import", home.root, path)
    lines = out.splitlines()
    assert code == Exit.OK and lines[0] == "关于 名单2.csv 的提示（只供参考，不影响导入）："
    assert lines[1].strip().startswith("【提示】") and lines[2] == "已导入 名单2.csv："


def test_a_column_not_imported_is_told_with_the_fields_it_could_be_and_row_numbers_and_remarks_are_quiet(tmp_path,
                                                                                                       capsys):
    home = init_home(tmp_path / "台账")
    assert _run(capsys, "import", home.root, _roster(tmp_path / "支部.xlsx", []))[0] == Exit.OK
    path = _gbk(tmp_path / "名单.csv", "序号,姓名,性别,民族,所在支部,党籍,类别,备注\n1,王芳,女,汉,院机关支部,正式,机关,\n")
    code, out, _ = _run(capsys, "import", home.root, path)
    assert code == Exit.OK and len(_members(home)) == 1
    notes = [line for line in out.splitlines() if line.startswith("  【提示】")]
    assert notes == ["  【提示】名单.csv 第1行：“性别”、“民族”列不导入（台账没有对应的项）；如果某列对应某一项，请用 --map “性别=字段”"
                     "指明，字段可以是：党员编号、姓名、支部编号、党小组、类别、党员类别、长期在外培训、参学起始日期、联系方式、"
                     "加入原因、原支部编号、离开日期、离开原因、在外起始日期、在外结束日期。"]  # 序号 and 备注: nothing to say


def test_import_help_names_the_fields_a_column_can_be_mapped_to(capsys):
    assert main(["import", "--help"]) == Exit.OK
    out = capsys.readouterr().out
    assert "党员：党员编号、姓名、支部编号" in out and "党支部：支部编号、支部名称、类别、支部书记、书记邮箱" in out
