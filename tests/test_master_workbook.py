"""`branchbook init`: the master as files on disk, read back by openpyxl and by LibreOffice."""
from __future__ import annotations

from branchbook.workbook.cells import excel_serial
from branchbook.workbook.master import read_master, write_master
from branchbook.workbook.schema import load_schemas
from openpyxl import load_workbook

from branchbook.cli import main

SEED_LIAISONS = {
    "楼正国": "博士生党支部",
    "郑筱祥": "生物医学工程研究所党支部",
    "郑胜": "生医系硕士生党支部",
    "陆金芳": "临床工程研究所党支部",
    "杨祥龙": "检测技术研究所党支部",
}
SEED_BRANCHES = set(SEED_LIAISONS.values()) | {
    "生医本科生第一党支部", "生医本科生第二党支部", "院机关支部", "生医教工党支部"}


def _validations(ws):
    return {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv for dv in ws.data_validations.dataValidation}


def test_every_schema_sheet_and_column_is_in_the_master(demo_home):
    schemas = load_schemas()
    wb = load_workbook(demo_home.master)
    for sheet in schemas.master:
        ws = wb[sheet.name("zh")]
        assert [c.value for c in ws[1]] == [f.label("zh") for f in sheet.fields]
        assert ws.freeze_panes == "A2"
        assert f"tbl_{sheet.key}" in ws.tables
        assert ws["A1"].font.bold


def test_coded_fields_have_drop_downs_and_numbers_and_dates_have_bounds(demo_home):
    wb = load_workbook(demo_home.master)
    members = _validations(wb["党员"])
    assert members["E"].type == "list" and members["E"].formula1 == '"教工,学生,机关"'
    assert members["C"].type == "list" and members["C"].formula1 == "'党支部'!$A$2:$A$2000"
    assert members["H"].type == "date"
    attendance = _validations(wb["出勤"])
    assert attendance["C"].formula1 == '"出席,缺席,请假"'
    assert (attendance["D"].type, attendance["D"].formula1, attendance["D"].formula2) == ("decimal", "0", "12")
    inspections = _validations(wb["笔记检查"])
    assert (inspections["D"].type, inspections["D"].formula1, inspections["D"].formula2) == ("whole", "0", "8")
    assert inspections["D"].prompt and "0 到 8" in inspections["D"].prompt


def test_demo_holds_every_branch_and_liaison_the_seed_names(demo_home):
    tables = read_master(demo_home.master)
    branches = {b["name"]: b for b in tables["branches"]}
    assert SEED_BRANCHES <= set(branches)
    committee = {c["committee_id"]: c["name"] for c in tables["committee"]}
    liaisons = {committee[b["liaison_id"]]: name for name, b in branches.items() if b["liaison_id"]}
    assert liaisons == SEED_LIAISONS
    sizes = {name: sum(m["branch_id"] == b["branch_id"] for m in tables["members"]) for name, b in branches.items()}
    assert sizes["生医系硕士生党支部"] == 48 and sizes["生医本科生第二党支部"] == 45
    assert 280 <= len(tables["members"]) <= 320
    grouped = {m["party_group"] for m in tables["members"] if m["branch_id"] == branches["生医系硕士生党支部"]["branch_id"]}
    assert len(grouped) > 1 and None not in grouped
    assert {p["name"] for p in tables["phases"]} == {"思想发动、学习培训", "党性分析、民主评议", "整改提高"}
    assert tables["sessions"] and tables["attendance"]


def test_master_round_trips_values_and_keeps_untrusted_text_as_text(tmp_path):
    path = tmp_path / "m.xlsx"
    tricky = ["=1+1", '=HYPERLINK("http://x","y")', "#N/A", "+1", "@SUM(A1)"]
    members = [
        {"member_id": f"M{i}", "name": text, "branch_id": "B01", "category": "student", "standing": "full"}
        for i, text in enumerate(tricky)
    ]
    write_master(path, {"members": members})
    ws = load_workbook(path)["党员"]
    assert [ws.cell(row=r, column=2).data_type for r in range(2, 7)] == ["s"] * 5
    back = read_master(path)["members"]
    assert [m["name"] for m in back] == tricky
    assert back[0]["category"] == "student"


def test_english_master(tmp_path):
    assert main(["init", str(tmp_path / "en"), "--demo", "--lang", "en"]) == 0
    wb = load_workbook(tmp_path / "en" / "master.xlsx")
    assert "Members" in wb.sheetnames and "Attendance" in wb.sheetnames
    assert wb["Attendance"]["C1"].value == "Status"
    assert read_master(tmp_path / "en" / "master.xlsx")["attendance"][0]["status"] in {"present", "absent", "excused"}


def test_init_refuses_a_home_with_a_master_and_changes_nothing(demo_home, tmp_path, capsys):
    before = {p: p.read_bytes() for p in demo_home.root.rglob("*") if p.is_file()}
    assert main(["init", str(demo_home.root), "--demo"]) == 2
    assert "已有台账" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in demo_home.root.rglob("*") if p.is_file()} == before


def test_unknown_language_is_refused_and_nothing_is_made(tmp_path, capsys):
    assert main(["init", str(tmp_path / "x"), "--lang", "fr"]) == 2
    assert "不支持的语言" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_dates_are_real_dates(demo_home):
    ws = load_workbook(demo_home.master)["阶段"]
    assert ws["C2"].is_date and ws["C2"].number_format == "yyyy-mm-dd"
    assert excel_serial(ws["C2"].value.date()) == 38418  # 2005-03-07


def test_libreoffice_opens_the_master(demo_home, libreoffice, tmp_path):
    pdf = libreoffice(demo_home.master, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


def test_row_counts_agree_with_what_is_read(demo_home):
    from branchbook.workbook.master import row_counts

    tables = read_master(demo_home.master)
    assert row_counts(demo_home.master) == {key: len(rows) for key, rows in tables.items()}
