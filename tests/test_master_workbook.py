"""`branchbook init`: the master as files on disk, read back by openpyxl and by LibreOffice."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from branchbook.cli import main
from branchbook.workbook.cells import excel_serial
from branchbook.workbook.master import read_master, write_master
from branchbook.workbook.schema import load_schemas

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
    assert members["C"].type == "list" and members["C"].formula1 == "list_branches"  # test_printing: the name
    assert members["H"].type == "date"
    attendance = _validations(wb["出勤"])
    assert attendance["C"].formula1 == '"出席,缺席,请假,请假(在外)"'
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


@pytest.mark.libreoffice
def test_libreoffice_opens_the_master(demo_home, libreoffice, tmp_path):
    pdf = libreoffice(demo_home.master, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


def test_row_counts_agree_with_what_is_read(demo_home):
    from branchbook.workbook.master import row_counts

    tables = read_master(demo_home.master)
    assert row_counts(demo_home.master) == {key: len(rows) for key, rows in tables.items()}


def test_row_counts_read_the_parts_through_isal_and_get_every_byte(demo_home):
    """row_counts inflates with ISA-L (xlsx_zip.inflated_by_isal), swapping a private part of zipfile: it must
    still run, give every part's bytes as zlib does, and check the CRC."""
    import zipfile

    from isal import isal_zlib

    from branchbook.workbook.xlsx_zip import inflated_by_isal

    with zipfile.ZipFile(demo_home.master) as archive:
        for name in archive.namelist():
            with inflated_by_isal(archive.open(name)) as handle:
                assert handle._decompressor.__class__ is isal_zlib.decompressobj(-15).__class__
                assert handle.read() == archive.read(name)
    with zipfile.ZipFile(io.BytesIO(demo_home.master.read_bytes())) as archive:  # the biggest part, its CRC wrong
        info = max(archive.infolist(), key=lambda i: i.file_size)
        info.CRC ^= 1
        with pytest.raises(zipfile.BadZipFile), inflated_by_isal(archive.open(info)) as handle:
            handle.read()


def test_tables_have_filter_buttons_stripes_and_cover_header_and_rows(demo_home):
    schemas = load_schemas()
    tables = read_master(demo_home.master)
    wb = load_workbook(demo_home.master)
    for sheet in schemas.master:
        ws = wb[sheet.name("zh")]
        table = ws.tables[f"tbl_{sheet.key}"]
        last = f"{get_column_letter(len(sheet.fields))}{max(len(tables[sheet.key]) + 1, 2)}"
        assert table.ref == f"A1:{last}" and table.autoFilter.ref == table.ref
        assert table.tableStyleInfo.name == "TableStyleLight9" and table.tableStyleInfo.showRowStripes
        assert [c.name for c in table.tableColumns] == [f.label("zh") for f in sheet.fields]
    assert len(tables["attendance"]) > 1000  # a table stretched past its first row


def test_validations_reach_the_last_excel_row_and_skip_system_columns(demo_home):
    wb = load_workbook(demo_home.master)
    for sheet in load_schemas().master:
        ws = wb[sheet.name("zh")]
        checked = {str(dv.sqref).split(":")[0].rstrip("0123456789") for dv in ws.data_validations.dataValidation}
        for dv in ws.data_validations.dataValidation:
            first, last = str(dv.sqref).split(":")
            assert first.endswith("2") and last.endswith("1048576")
            assert dv.showInputMessage and dv.showErrorMessage and dv.prompt and dv.error
        for index, field in enumerate(sheet.fields, start=1):
            if field.system:
                assert get_column_letter(index) not in checked


def test_header_look_widths_and_system_columns(demo_home):
    from branchbook.workbook import layout

    ws = load_workbook(demo_home.master)["出勤"]
    fields = load_schemas().sheet("attendance").fields
    for index, field in enumerate(fields, start=1):
        cell = ws.cell(row=1, column=index)
        assert (cell.font.name, cell.font.b, cell.font.color.rgb) == ("等线", True, "FFFFFFFF")
        assert cell.fill.fill_type == "solid"
        assert cell.fill.fgColor.rgb == ("FF808080" if field.system else "FFB22222")
        assert (cell.alignment.horizontal, cell.alignment.vertical, cell.alignment.wrap_text) == ("center", "center", True)
        assert cell.border.left.style == cell.border.bottom.style == "thin"
    assert any(f.system for f in fields)
    widths = {}
    for dimension in ws.column_dimensions.values():
        for column in range(dimension.min, dimension.max + 1):
            widths[column] = dimension.width
    for index, field in enumerate(fields, start=1):
        # XlsxWriter stores the width Excel shows plus its cell padding.
        assert layout.column_width(field, "zh") <= widths[index] < layout.column_width(field, "zh") + 1


TRICKY = ["=1+1", '=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)", "#N/A", "a\x0bb", "_x0041_",
          'x & <y> "z"', "tab\tand\nline", " 前后空格 ", "a\rb", "\x1f", "a\ufffeb", "平常的字"]


def test_text_is_written_as_xlsxwriter_writes_inline_strings_never_as_formulas(tmp_path):
    """The rows BranchBook serialises itself are, cell for cell, what XlsxWriter's write_string writes."""
    import re
    import zipfile

    import xlsxwriter

    members = [{"member_id": f"M{i}", "name": text} for i, text in enumerate(TRICKY)]
    write_master(tmp_path / "m.xlsx", {"members": members})
    reference = xlsxwriter.Workbook(tmp_path / "ref.xlsx", {"constant_memory": True})
    ws = reference.add_worksheet()
    for row, member in enumerate(members, start=1):
        ws.write_string(row, 0, member["member_id"])
        ws.write_string(row, 1, member["name"])
    reference.close()

    from branchbook.workbook.fastread import sheet_parts

    def cells(path, sheet):
        with zipfile.ZipFile(path) as archive:
            xml = archive.read(sheet_parts(archive)[sheet]).decode()
        return re.findall(r'<c r="[AB](?:[2-9]|1\d)".*?</c>', xml, re.DOTALL)

    ours = cells(tmp_path / "m.xlsx", "党员")
    assert ours == cells(tmp_path / "ref.xlsx", "Sheet1") and len(ours) == 2 * len(TRICKY)
    assert "<f>" not in "".join(ours)
    ws = load_workbook(tmp_path / "m.xlsx")["党员"]
    assert {ws.cell(row=r, column=2).data_type for r in range(2, 2 + len(TRICKY))} == {"s"}
    back = [m["name"] for m in read_master(tmp_path / "m.xlsx")["members"]]
    # calamine decodes _xHHHH_ (but leaves U+FFFE, which XML cannot hold, as Excel's escape); reading strips blanks
    assert back == [text.strip().replace("\ufffe", "_xFFFE_") or None for text in TRICKY]


def test_numbers_dates_and_times_keep_their_values(tmp_path):
    from datetime import date, datetime

    hours = [0.1 + 0.2, 1 / 3, 2.5, 3, 12]
    selfstudy = [{"member_id": f"M{i}", "date": date(2005, 3, 7 + i), "hours": h, "material": "学习"}
                 for i, h in enumerate(hours)]
    returns = [{"receipt_id": "R1", "week": 3, "result": "merged", "filled_at": datetime(2005, 3, 27, 18, 30, 15)}]
    write_master(tmp_path / "m.xlsx", {"selfstudy": selfstudy, "returns": returns})
    back = read_master(tmp_path / "m.xlsx")
    assert [r["hours"] for r in back["selfstudy"]] == hours  # exact: fingerprints compare them as text
    assert [r["date"] for r in back["selfstudy"]] == [r["date"] for r in selfstudy]
    wb = load_workbook(tmp_path / "m.xlsx")
    cell = wb["自学"]["B2"]
    assert cell.is_date and cell.number_format == "yyyy-mm-dd" and cell.value == datetime(2005, 3, 7)
    moment = wb["周报"]["J2"]
    assert moment.is_date and moment.value == datetime(2005, 3, 27, 18, 30, 15)
    assert wb["周报"]["D2"].value == 3 and wb["周报"]["D2"].data_type == "n"


def test_an_empty_master_has_every_sheet_with_a_two_row_table(tmp_path):
    from branchbook.workbook.master import row_counts

    write_master(tmp_path / "m.xlsx", {})
    wb = load_workbook(tmp_path / "m.xlsx")
    assert wb.sheetnames[0] == "说明" and wb["说明"]["A1"].font.b
    for sheet in load_schemas().master:
        assert wb[sheet.name("zh")].tables[f"tbl_{sheet.key}"].ref.endswith("2")
    assert set(row_counts(tmp_path / "m.xlsx").values()) == {0}


def test_an_xlsxwriter_that_skips_the_row_hook_is_refused(tmp_path, monkeypatch):
    from xlsxwriter.worksheet import Worksheet

    from branchbook.workbook.master import StreamedSheet

    monkeypatch.setattr(StreamedSheet, "_write_sheet_data", Worksheet._write_sheet_data)
    import pytest

    with pytest.raises(RuntimeError, match="not supported"):
        write_master(tmp_path / "m.xlsx", {"members": [{"member_id": "M1", "name": "甲"}]})
    assert not (tmp_path / "m.xlsx").exists()


def test_the_bodies_go_into_the_zip_as_bytes_or_no_master_is_left(tmp_path, monkeypatch):
    """Each sheet's body stands as a marker in its part's text until the zip puts the bytes in its place
    (xlsx_zip.body_marker): no marker is left in a master, and an XlsxWriter that zips its parts another way is
    refused, with no file left."""
    import zipfile

    import pytest

    from branchbook.workbook import xlsx_zip

    tables = {"members": [{"member_id": f"M{n}", "name": "甲", "branch_id": "B01"} for n in range(3)]}
    write_master(tmp_path / "m.xlsx", tables)
    with zipfile.ZipFile(tmp_path / "m.xlsx") as archive:
        assert not any(b"\x00" in archive.read(name) for name in archive.namelist())
    assert [r["member_id"] for r in read_master(tmp_path / "m.xlsx")["members"]] == ["M0", "M1", "M2"]
    monkeypatch.setattr(xlsx_zip.FastDeflateZip, "writestr", zipfile.ZipFile.writestr)
    with pytest.raises(RuntimeError, match="not supported"):
        write_master(tmp_path / "n.xlsx", tables)
    assert not (tmp_path / "n.xlsx").exists()


def test_a_failing_painter_leaves_no_file(tmp_path):
    import pytest

    def broken(workbook, tables, lang):
        workbook.add_worksheet("看板")
        raise ValueError("painter failed")

    with pytest.raises(ValueError):
        write_master(tmp_path / "m.xlsx", {}, painters=(broken,))
    assert not (tmp_path / "m.xlsx").exists()


def test_a_big_sheet_shares_its_plain_text_as_xlsxwriter_writes_it(tmp_path, monkeypatch):
    """From SHARED_TEXT_ROWS rows on, the biggest sheet's plain text is written as shared strings (calamine reads those
    faster), each cell and each <si> what XlsxWriter's write_string writes in its default mode; text that needs
    escaping stays inline, as XlsxWriter's constant_memory mode writes it (above), and so do fingerprints."""
    import re
    import zipfile

    import xlsxwriter

    from branchbook.workbook import master
    from branchbook.workbook.provenance import stamp

    monkeypatch.setattr(master, "SHARED_TEXT_ROWS", 1)
    texts = [*TRICKY, "<r>富文本？</r>", "a&b", "M0", "学生"]
    members = [{"member_id": f"M{i}", "name": text, "category": "student", "standing": "full"}
               for i, text in enumerate(texts)]
    attendance = [stamp(load_schemas().sheet("attendance"), {"session_id": "S1", "member_id": f"M{i}",
                                                             "status": "present", "hours": 3}, "B01-W01")
                  for i in range(3)]
    write_master(tmp_path / "m.xlsx", {"members": members, "attendance": attendance})
    fields = load_schemas().sheet("members")
    labels = [fields.field(key).codes.label(code, "zh") for key, code in (("category", "student"), ("standing", "full"))]
    references = {}
    for mode in ("shared", "inline"):
        references[mode] = tmp_path / f"{mode}.xlsx"
        book = xlsxwriter.Workbook(references[mode], {"constant_memory": mode == "inline"})
        ws = book.add_worksheet()
        for row, member in enumerate(members, start=1):
            for column, text in ((0, member["member_id"]), (1, member["name"]), (4, labels[0]), (5, labels[1])):
                ws.write_string(row, column, text)
        book.close()

    from branchbook.workbook.fastread import sheet_parts

    def read(path):
        with zipfile.ZipFile(path) as archive:
            parts = sheet_parts(archive)
            sheets = {name: archive.read(part).decode() for name, part in parts.items()}
            sst = archive.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in archive.namelist() else ""
        return sheets, re.findall(r"<si>.*?</si>", sst, re.DOTALL), sst

    def cells(xml, columns="ABEF"):
        return re.findall(rf'<c r="([{columns}](?:[2-9]|1\d|2[0-9]))"(.*?)</c>', xml, re.DOTALL)

    ours, our_sst, our_sst_xml = read(tmp_path / "m.xlsx")
    shared_sheets, shared_sst, _ = read(references["shared"])
    inline_cells = dict(cells(read(references["inline"])[0]["Sheet1"]))
    shared_cells = dict(cells(shared_sheets["Sheet1"]))
    found = cells(ours["党员"])
    assert len(found) == 4 * len(texts)
    kept_inline = []
    for ref, body in found:
        if ' t="s"><v>' in body:
            theirs = shared_cells[ref]
            assert our_sst[int(re.search(r"<v>(\d+)</v>", body).group(1))] == \
                shared_sst[int(re.search(r"<v>(\d+)</v>", theirs).group(1))]
        elif "&lt;r&gt;" in body:  # XlsxWriter would write it as rich text, raw: escaped here, as any other text
            kept_inline.append(ref)
        else:
            assert body == inline_cells[ref], ref
            kept_inline.append(ref)
    plain = [text for text in texts if not master._NOT_PLAIN.search(text)]
    assert len(kept_inline) == len(texts) - len(plain) and all(ref[0] == "B" for ref in kept_inline)
    assert "M0" in plain and our_sst.count("<si><t>M0</t></si>") == 1  # an id and a name alike: one string
    fingerprints = [c for c in cells(ours["出勤"], "F") if "<v>" not in c[1]]
    assert len(fingerprints) == 3 and all('t="inlineStr"' in body for _, body in fingerprints)
    # Only the biggest sheet shares its text: the smaller attendance sheet keeps it inline.
    assert [body for _, body in cells(ours["出勤"], "C")] == [' t="inlineStr"><is><t>出席</t></is>'] * 3
    assert "<si><t>出席</t></si>" not in our_sst
    # The table's counts: every shared cell of every sheet, every string once.
    total = sum(xml.count(' t="s"><v>') for xml in ours.values())
    assert f'count="{total}" uniqueCount="{len(our_sst)}"' in our_sst_xml and len(set(our_sst)) == len(our_sst)
    back = read_master(tmp_path / "m.xlsx")
    assert [m["name"] for m in back["members"]] == [text.strip().replace("\ufffe", "_xFFFE_") or None
                                                    for text in texts]
    assert [r["row_fingerprint"] for r in back["attendance"]] == [r["row_fingerprint"] for r in attendance]
    ws = load_workbook(tmp_path / "m.xlsx")["党员"]
    assert [ws.cell(row=r, column=2).value for r in range(2, 2 + len(texts))][-4:] == texts[-4:]


def test_only_the_sharing_sheet_puts_text_in_the_shared_strings(tmp_path, monkeypatch):
    """The big sheet's shared string numbers must not depend on other sheets' text, which changes with every
    merge (the dashboard's 未交 turns 已交): body_cache reuses its XML only when the shared strings before its body
    are as they were. So the readme, the other sheets' headers and the painters' words are inline strings,
    escaped as the body's inline text, and two masters whose dashboards differ share the same strings."""
    import re
    import zipfile

    from python_calamine import CalamineWorkbook

    from branchbook.workbook import master
    from branchbook.workbook.fastread import sheet_parts

    monkeypatch.setattr(master, "SHARED_TEXT_ROWS", 2)
    members = [{"member_id": f"M{i}", "name": name, "category": "student", "standing": "full"}
               for i, name in enumerate(["张三", "李四", "张三"])]
    tricky = ["<r>富文本？</r>", "_x0041_", " 前后空格 ", "控制\x01字符", "a&b", "张三"]

    def painter(words):
        def paint(wb, tables, lang):
            ws = wb.add_worksheet("看板")
            for row, word in enumerate(words):
                ws.write(row, 0, word)
        return paint

    def parts(path):
        with zipfile.ZipFile(path) as archive:
            named = {name: archive.read(part).decode() for name, part in sheet_parts(archive).items()}
            return {**named, "xl/sharedStrings.xml": archive.read("xl/sharedStrings.xml").decode()}

    one, two = tmp_path / "one.xlsx", tmp_path / "two.xlsx"
    write_master(one, {"members": members}, painters=(painter(["未交", *tricky]),))
    write_master(two, {"members": members}, painters=(painter(["已交", "已交", "新的标题", *tricky]),))
    first, second = parts(one), parts(two)
    assert first["xl/sharedStrings.xml"] == second["xl/sharedStrings.xml"]
    members_part = "党员"
    assert first[members_part] == second[members_part] and ' t="s"><v>' in first[members_part]
    shared = re.findall(r"<si><t>([^<]*)</t></si>", first["xl/sharedStrings.xml"])
    header = [f.label("zh") for f in load_schemas().sheet("members").fields]
    assert shared[:len(header)] == header  # the members' header, then its body's text
    assert "张三" in shared and "李四" in shared and not {"未交", "已交"} & set(shared)
    dashboard = "看板"
    assert ' t="s"' not in first[dashboard] and first[dashboard].count('t="inlineStr"') == 1 + len(tricky)
    assert "&lt;r&gt;富文本？&lt;/r&gt;" in first[dashboard]  # text shaped like rich text stays text
    for path, words in ((one, ["未交", *tricky]), (two, ["已交", "已交", "新的标题", *tricky])):
        book = CalamineWorkbook.from_path(str(path))  # openpyxl does not undo Excel's _x005F escape
        assert book.get_sheet_by_name("看板").to_python() == [[word] for word in words]
        assert [row[1] for row in book.get_sheet_by_name("党员").to_python()[1:]] == ["张三", "李四", "张三"]
        assert load_workbook(path)["看板"]["A"][-1].value == "张三"


def test_a_moment_is_read_as_strptime_reads_it():
    """cells.moment_of reads timestamp_text's shape by its digits: the same moment as strptime, or None, for every
    text tried (days that do not exist, one-digit fields, other digits, other shapes)."""
    from datetime import datetime

    from branchbook.workbook.cells import moment_of, timestamp_text

    def by_strptime(text):
        try:
            return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None

    texts = [timestamp_text(datetime(2005, 3, 30, 9, 5, 7)), "2005-02-29 10:00:00", "2004-02-29 23:59:59",
             "2005-13-01 00:00:00", "2005-03-30 24:00:00", "2005-03-30 10:00:60", "2005-3-30 1:2:3",
             "２００５-03-30 10:00:00", "2005-03-30T10:00:00", "2005-03-30 10:00:00 ", "2005-03-30", "", "0000-01-01 00:00:00"]
    for text in texts:
        assert moment_of(text) == by_strptime(text), text
    assert moment_of(texts[0]) == datetime(2005, 3, 30, 9, 5, 7)


def test_formulas_are_prepared_as_xlsxwriter_prepares_them():
    """InlineTextSheet keeps XlsxWriter's prepared formulas for the next writes: the same text, with and without
    the newer functions' prefixes, however many times asked."""
    from xlsxwriter.worksheet import Worksheet

    from branchbook.workbook.sheet_text import InlineTextSheet

    formulas = ["=COUNTIFS(A:A,A2)<=1", "{=SUM(B2:B9)}", "=XLOOKUP(A1,B:B,C:C)", "=CONCAT(A1,B1)", "=_xlfn.STDEV.S(A:A)"]
    for future in (False, True):
        for expand in (False, True):
            ours, theirs = InlineTextSheet(), Worksheet()
            ours.use_future_functions = theirs.use_future_functions = future
            for _ in range(2):
                assert [ours._prepare_formula(f, expand) for f in formulas] == \
                       [theirs._prepare_formula(f, expand) for f in formulas]
