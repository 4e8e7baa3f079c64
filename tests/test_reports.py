"""The dashboard, the bulletin and the reminders, checked against figures computed here from the raw sheets."""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sync_helpers import filled_returns

from branchbook.cli import main
from branchbook.sync.pipeline import Incoming, process
from branchbook.workbook.home import CONFIG_NAME, Home
from branchbook.workbook.master import read_master
from branchbook.workbook.reports.bulletin import build_bulletin, write_bulletin
from branchbook.workbook.reports.charts import chart_texts
from branchbook.workbook.reports.fonts import chinese_font, covers
from branchbook.workbook.reports.progress import compute_progress
from branchbook.workbook.reports.reminders import reminders
from branchbook.workbook.schema import load_schemas

WEEK3, WEEK4 = date(2005, 3, 30), date(2005, 4, 6)


@pytest.fixture(scope="module")
def merged_home(demo_home, tmp_path_factory):
    """The demo college with weeks 3 and 4 returned by most branches, merged by the real pipeline."""
    root = tmp_path_factory.mktemp("reports") / "home"
    shutil.copytree(demo_home.root, root)
    home = Home.open(root)
    made = filled_returns(home, root.parent / "made", weeks=(3, 4), branch_ids=["B01", "B02", "B04", "B08"])
    import os
    from datetime import datetime

    for number, path in enumerate(made):
        target = home.folder("inbox") / f"{path.stem}_{number}.xlsx"
        shutil.copyfile(path, target)
        arrived = datetime(2005, 3, 28, 10) if "第3周" in path.name else datetime(2005, 4, 4, 10)
        os.utime(target, (arrived.timestamp(), arrived.timestamp()))  # received the Monday after its week
    config = (root / CONFIG_NAME).read_text(encoding="utf-8") + f"as_of: '{WEEK4}'\n"
    (root / CONFIG_NAME).write_text(config, encoding="utf-8")
    home = Home.open(root)
    result = process(home, [Incoming.at(p) for p in sorted(home.folder("inbox").glob("*.xlsx"))])
    assert all(o.result == "merged" for o in result.outcomes)
    return home


def _cutoff(tables, branch_id: str, report_week_end: date) -> date | None:
    """The end of the branch's last merged week (week 1 starts 3/7), at most the report week's end (issue 12)."""
    weeks = [r["week"] for r in tables["returns"] if r["branch_id"] == branch_id and r["result"] == "merged"]
    return min(date(2005, 3, 6) + timedelta(days=7 * max(weeks)), report_week_end) if weeks else None


def _independent(tables, as_of, report_week_end):
    """Per-branch figures straight from the raw sheets, without the report code; hours to each branch's cut-off."""
    phase_start, phase_end = date(2005, 3, 7), date(2005, 4, 24)
    sessions = {s["session_id"]: s for s in tables["sessions"] if s["date"] <= as_of}
    figures = {}
    for branch in tables["branches"]:
        members = [m for m in tables["members"] if m["branch_id"] == branch["branch_id"]
                   and (m["joined"] is None or m["joined"] <= as_of)]
        ids = {m["member_id"] for m in members}
        cutoff = _cutoff(tables, branch["branch_id"], report_week_end) or phase_start - timedelta(days=1)
        hours = sum(a["hours"] or 0 for a in tables["attendance"] if a["member_id"] in ids and a["session_id"] in sessions
                    and phase_start <= sessions[a["session_id"]]["date"] <= min(phase_end, cutoff))
        hours += sum(r["hours"] for r in tables["selfstudy"] if r["member_id"] in ids and r["date"] <= cutoff)
        rows = [a for a in tables["attendance"] if a["member_id"] in ids and a["session_id"] in sessions]
        present = sum(a["status"] == "present" for a in rows)
        absent = sum(a["status"] == "absent" for a in rows)
        inspected = len({r["member_id"] for r in tables["inspections"] if r["member_id"] in ids and r["date"] <= as_of})
        opinions = sum(r["people"] for r in tables["opinions"] if r["member_id"] in ids and r["date"] <= as_of)
        # Averaged over the members who had joined by the cut-off: a later joiner has no hours to it.
        started = [m for m in members if m["joined"] is None or m["joined"] <= cutoff]
        measured = _cutoff(tables, branch["branch_id"], report_week_end) is not None
        figures[branch["name"]] = {"members": len(members), "avg": round(hours / len(started), 1) if measured else None,
                                   "rate": present / (present + absent), "inspected": inspected, "opinions": opinions}
    return figures


@pytest.mark.parametrize("as_of,week", [(WEEK3, 3), (WEEK4, 4)])
def test_dashboard_figures_match_the_raw_sheets(merged_home, tmp_path, as_of, week):
    import xlsxwriter

    from branchbook.workbook.reports.dashboard import write_dashboard

    tables = read_master(merged_home.master)
    progress = compute_progress(tables, as_of)
    assert progress.week == week
    wb = xlsxwriter.Workbook(tmp_path / "d.xlsx")
    write_dashboard(wb, progress, "zh")
    wb.close()
    sheet = load_workbook(tmp_path / "d.xlsx")["进度看板"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=4, max_row=3 + len(tables["branches"]), values_only=True)}
    expected = _independent(tables, as_of, date(2005, 3, 6) + timedelta(days=7 * week))
    returned = {r["branch_id"] for r in tables["returns"] if r["week"] == week and r["result"] == "merged"}
    names = {b["branch_id"]: b["name"] for b in tables["branches"]}
    for name, figures in expected.items():
        row = rows[name]
        assert row[2] == figures["members"] and row[5] == figures["avg"]
        assert row[8] == pytest.approx(figures["rate"]) and row[9] == figures["inspected"] and row[12] == figures["opinions"]
    assert {name for name, row in rows.items() if row[3] == "已交"} == {names[b] for b in returned}
    trend = {r[0]: r[1] for r in sheet.iter_rows(min_row=8 + len(rows), max_row=7 + len(rows) + week, values_only=True)}
    assert trend[week] == len(returned)


@pytest.mark.parametrize("as_of", [WEEK3 - timedelta(days=9), WEEK3, WEEK4, WEEK4 + timedelta(days=3)])
def test_attendance_counts_of_each_branch_and_week_match_the_raw_sheets(merged_home, as_of):
    """The dashboard counts each member's and each week's attendance in one pass over the rows (progress.py):
    the same counts as a plain count of the centralised sessions held by the day."""
    tables = read_master(merged_home.master)
    for row in tables["attendance"][::7]:
        row["status"] = "absent"  # absences in every week and branch
    progress = compute_progress(tables, as_of)
    kinds = load_schemas().codes["session_kind"].codes_where("central")
    central = {s["session_id"]: s["date"] for s in tables["sessions"] if s["date"] <= as_of and s["kind"] in kinds}
    held = [a for a in tables["attendance"] if a["session_id"] in central]
    for branch in progress.branches:
        ids = {m["member_id"] for m in tables["members"] if m["branch_id"] == branch.branch_id
               and (m["joined"] is None or m["joined"] <= as_of)}
        mine = [a["status"] for a in held if a["member_id"] in ids]
        assert (branch.present, branch.absent) == (mine.count("present"), mine.count("absent"))
    for week in progress.weeks:
        start = date(2005, 3, 7) + timedelta(days=7 * (week.week - 1))
        statuses = [a["status"] for a in held if start <= central[a["session_id"]] < start + timedelta(days=7)]
        assert (week.present, week.absent) == (statuses.count("present"), statuses.count("absent"))
    assert sum(w.absent for w in progress.weeks) > 0 and sum(b.present for b in progress.branches) > 0


@pytest.mark.libreoffice
def test_the_master_carries_the_dashboard_and_its_charts_survive_libreoffice(merged_home, libreoffice, tmp_path):
    wb = load_workbook(merged_home.master)
    assert "进度看板" in wb.sheetnames and len(wb["进度看板"]._charts) == 2
    assert wb["进度看板"].conditional_formatting
    again = libreoffice(merged_home.master, "xlsx", tmp_path / "lo")
    with zipfile.ZipFile(again) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        sheets = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
    assert len(charts) == 2
    assert b"dataBar" in sheets and b"colorScale" in sheets  # the conditional formatting came through too
    import warnings

    with warnings.catch_warnings():
        # LibreOffice adds x14 extensions (data-bar details) that openpyxl reads past with a warning.
        warnings.filterwarnings("ignore", ".* extension is not supported and will be removed", UserWarning)
        reread = load_workbook(again)
    assert len(reread["进度看板"]._charts) == 2


@pytest.mark.libreoffice
def test_bulletin_becomes_pdf_and_pages_with_chinese_fonts(merged_home, tmp_path):
    tables = read_master(merged_home.master)
    bulletin = build_bulletin(tables, WEEK4, "生仪学院")
    pdf = write_bulletin(bulletin, tmp_path / "简报.pdf", "pdf")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts  # the Chinese text is set in a CJK font, not in boxes
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.replace("\n", "")
    assert "生仪学院保持共产党员先进性教育活动简报" in text and "四、各支部本周概况与存在问题" in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages and all(p.stat().st_size > 2000 for p in pages)


def test_chart_images_are_not_blank_and_their_font_has_every_character(merged_home):
    import io

    from matplotlib import image

    tables = read_master(merged_home.master)
    bulletin = build_bulletin(tables, WEEK4)
    for png in bulletin.charts.values():
        pixels = image.imread(io.BytesIO(png))
        assert pixels.shape[0] > 200 and pixels.std() > 0.05  # not one flat colour
        colours = {tuple(p) for p in pixels[::7, ::7, :3].reshape(-1, 3).round(2).tolist()}
        assert len(colours) > 10
    _, font_file = chinese_font()
    assert covers(font_file, chart_texts(compute_progress(tables, WEEK4))) == set()


@pytest.mark.parametrize("as_of,week", [(WEEK3, 3), (WEEK4, 4)])
def test_bulletin_content_at_two_weeks(merged_home, as_of, week):
    tables = read_master(merged_home.master)
    bulletin = build_bulletin(tables, as_of)
    returned = {r["branch_id"] for r in tables["returns"] if r["week"] == week and r["result"] == "merged"}
    names = {b["branch_id"]: b["name"] for b in tables["branches"]}
    assert bulletin.week == week
    states = {row[0]: row[3] for row in bulletin.table}
    assert {name for name, state in states.items() if state == "已交"} == {names[b] for b in returned}
    assert states["生医系硕士生党支部"] == "未交" and states["院机关支部"] == "已交"
    assert [note.heading for note in bulletin.notes] == [f"{b['name']}（第{week}周周报：{states[b['name']]}）"
                                                         for b in tables["branches"]]
    assert bulletin.issue_line == "第1期" and bulletin.editor_line == "党委办公室编"
    assert not [m["name"] for m in tables["members"] if m["name"] in bulletin.text()]


def test_cli_bulletin_formats(merged_home, tmp_path, capsys):
    home = shutil.copytree(merged_home.root, tmp_path / "home")
    for fmt in ("docx", "html"):
        assert main(["bulletin", str(home), "--format", fmt]) == 0
    out = capsys.readouterr().out.split()
    assert out[0].endswith("简报第1期_第4周.docx") and out[1].endswith("简报第1期_第4周.html")  # one issue, two formats
    from docx import Document

    document = Document(out[0])
    assert document.paragraphs[0].text == "学院保持共产党员先进性教育活动简报" and document.paragraphs[1].text == "第1期"
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert len(document.inline_shapes) == 2 and len(document.tables) == 2


def test_reminders_say_what_each_member_still_needs(merged_home):
    texts = {r.branch: r for r in reminders(read_master(merged_home.master), WEEK4)}
    office = texts["院机关支部"]
    assert office.email == "b08.secretary@bme.example.edu.cn"
    assert office.text.startswith(office.secretary + "同志：")
    # 生医系硕士生 sent no return for weeks 3-4: its members' hours wait for them, the branch line says why.
    assert "待周报收到后再统计" in texts["生医系硕士生党支部"].text and "周报未交。第3–4周。" in texts["生医系硕士生党支部"].text
    # What a member behind on hours lacks, and what clears it: the same hours.
    behind = next(r.text for r in texts.values() if "学时落后于进度。" in r.text)
    gap = re.search(r"学时落后于进度。.*，差 ([\d.]+)。", behind).group(1)
    assert f"（再学 {gap} 学时）后消除" in behind


def _chart_sizes_cm(path, sheet_name):
    """Each chart's width and height on a sheet, in cm, from its drawing anchor: the cells it spans
    (column widths and row heights as the sheet declares them) and its offsets in the first and last."""
    from defusedxml import ElementTree

    from branchbook.workbook.fastread import sheet_parts

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    xdr = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(path) as archive:
        part = sheet_parts(archive)[sheet_name]
        sheet = ElementTree.fromstring(archive.read(part))
        folder, name = part.rsplit("/", 1)
        rels = ElementTree.fromstring(archive.read(f"{folder}/_rels/{name}.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        drawing_id = sheet.find(f"{main}drawing").get(rel)
        drawing = ElementTree.fromstring(archive.read("xl/" + targets[drawing_id].replace("../", "")))
    column_px = {}
    for col in sheet.iter(f"{main}col"):
        for index in range(int(col.get("min")) - 1, int(col.get("max"))):
            column_px[index] = round(float(col.get("width")) * 7)  # Calibri 11: 7 pixels a digit, padding included
    row_px = {int(r.get("r")) - 1: float(r.get("ht")) * 96 / 72 for r in sheet.iter(f"{main}row") if r.get("ht")}
    sizes = []
    for anchor in drawing.iter(f"{xdr}twoCellAnchor"):
        start, end = anchor.find(f"{xdr}from"), anchor.find(f"{xdr}to")

        def marker(element, name):
            return int(element.find(f"{xdr}{name}").text)

        width = sum(column_px.get(c, 64) for c in range(marker(start, "col"), marker(end, "col")))
        width += (marker(end, "colOff") - marker(start, "colOff")) / 9525
        height = sum(row_px.get(r, 20) for r in range(marker(start, "row"), marker(end, "row")))
        height += (marker(end, "rowOff") - marker(start, "rowOff")) / 9525
        sizes.append((width * 2.54 / 96, height * 2.54 / 96))
    return sizes


def test_dashboard_charts_have_their_size_and_the_sheet_its_formats(merged_home):
    tables = read_master(merged_home.master)
    hours, trend = _chart_sizes_cm(merged_home.master, "进度看板")
    assert trend == pytest.approx((18, 8), abs=0.05)
    assert hours == pytest.approx((18, 9 + 0.35 * (len(tables["branches"]) - 1)), abs=0.05)
    sheet = load_workbook(merged_home.master)["进度看板"]
    rules = {(str(cf.sqref), rule.type, rule.operator) for cf in sheet.conditional_formatting for rule in cf.rules}
    last = 3 + len(tables["branches"])
    assert {(f"F4:F{last}", "dataBar", None), (f"H4:H{last}", "colorScale", None), (f"I4:I{last}", "colorScale", None),
            (f"D4:D{last}", "cellIs", "equal"), (f"L4:L{last}", "cellIs", "greaterThan"),
            (f"N4:N{last}", "dataBar", None)} == rules
    assert sheet.freeze_panes == "B4"
    setup = sheet.page_setup
    assert (int(setup.paperSize), setup.orientation, setup.fitToHeight or 1, setup.fitToWidth or 1) == (9, "landscape", 1, 1)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    charts = sheet._charts
    assert [c.tagname for c in charts] == ["barChart", "lineChart"]
    assert len(charts[1].series) == 1 and len(charts[1]._charts) == 2  # the attendance rate on a second axis
    # the header row is one line high: each header fits its column (CJK characters two wide), none is cut
    from branchbook.workbook.layout import display_width

    for cell in sheet[3]:
        if cell.value:
            assert sheet.column_dimensions[cell.column_letter].width >= display_width(cell.value), cell.value


CJK = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ENGLISH = re.compile("[A-Za-z]+ [A-Za-z]+ [A-Za-z]+")  # a run of three English words: a sentence, not a code


def _html_text(path):
    """What a reader of the html sees: its text and image descriptions, without the style sheet and the tags."""
    import html

    source = re.sub(r"<style>.*?</style>", "", path.read_text(encoding="utf-8"), flags=re.S)
    alts = re.findall(r"alt='([^']*)'", source)
    return [html.unescape(part) for part in [*re.split(r"<[^>]*>", source), *alts] if part.strip()]


def _dashboard_text(tables, as_of, lang, path):
    """The dashboard's words: its cells' strings and its charts' titles."""
    import xlsxwriter

    from branchbook.workbook.reports.dashboard import write_dashboard

    wb = xlsxwriter.Workbook(path)
    write_dashboard(wb, compute_progress(tables, as_of), lang)
    wb.close()
    with zipfile.ZipFile(path) as archive:
        return [text for name in archive.namelist() if name.endswith(".xml") and ("sharedStrings" in name or "chart" in name)
                for text in re.findall(r"<(?:a:t|t)(?: [^>]*)?>([^<]*)<", archive.read(name).decode())]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_homes_reports_are_in_its_language(tmp_path, lang):
    """Every word the reports make, in the HOME's language: no Chinese character in an English HOME's
    reminders, dashboard, bulletin and file names, no English sentence in a Chinese HOME's."""
    from branchbook.demo import demo_home
    from branchbook.sync.reports import publish_bulletin
    from branchbook.workbook.reports.charts import chart_texts
    from branchbook.workbook.reports.publish import write_digests, write_reminders

    home = demo_home(tmp_path / "home", lang)
    (home.root / CONFIG_NAME).write_text((home.root / CONFIG_NAME).read_text(encoding="utf-8") + f"as_of: '{WEEK3}'\n",
                                         encoding="utf-8")
    home = Home.open(home.root)
    tables = read_master(home.master)
    bulletin = publish_bulletin(home, week=3, fmt="html")
    written, digests = write_reminders(home, tables), write_digests(home, tables)
    texts = [r.text for r, _ in written + digests] + _html_text(bulletin) + _dashboard_text(tables, WEEK3, lang, tmp_path / "d.xlsx")
    texts += [chart_texts(compute_progress(tables, WEEK3), lang)]
    assert len(written) == len(tables["branches"]) and any("\n  " in r.text for r, _ in written)
    if lang == "en":
        assert bulletin.name == "bulletin_1_week3.html" and written[0][1].parent.name == "reminders"
        assert digests[0][1].parent.name == "digests"
        assert not [text for text in texts + [bulletin.name] + [p.name for _, p in written + digests] if CJK.search(text)]
        assert "30 Mar" in written[0][0].text and any("(21 Mar–27 Mar)" in text for text in texts)
    else:
        assert bulletin.name == "简报第1期_第3周.html" and written[0][1].parent.name == "提醒"
        assert digests[0][1].parent.name == "联系委员摘要"
        assert not [text for text in texts if ENGLISH.search(text)]
        assert "截至3月30日" in written[0][0].text and any("（3月21日—3月27日）" in text for text in texts)
