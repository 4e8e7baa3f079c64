"""The demo HOME lives in 2005 (as_of: 2005-06-08, `branchbook demo`) and behaves like a real HOME: a return the user merges
by hand there is received on the demo's day, so the dashboard and the flags count it; 周报 keeps its times
as Excel dates."""
from __future__ import annotations

import json
import shutil
from datetime import date, datetime

from openpyxl import load_workbook

from branchbook.cli import Exit, main
from branchbook.demo.fill import Secretary, fill_return
from branchbook.workbook.books import open_ledger

SILENT = "生医本科生第一党支部"  # B06 sends nothing in the demo's week 13 (2005-05-30 to 6-05, due by 6-07)


def _dashboard_row(master, branch):
    ws = load_workbook(master)["进度看板"]
    header = [cell.value for cell in ws[3]]
    for row in ws.iter_rows(min_row=4, values_only=True):
        if row[0] == branch:
            return dict(zip(header, row))
    raise AssertionError(f"{branch} is not on the dashboard")


def _flags(capsys, home):
    assert main(["flags", str(home), "--json"]) == Exit.OK
    return [(f["code"], f["subject_id"], f["values"].get("week")) for f in json.loads(capsys.readouterr().out)]


def test_a_return_merged_by_hand_in_the_demo_counts(fresh_demo_run, tmp_path, capsys):
    home = fresh_demo_run().home
    assert _dashboard_row(home.master, SILENT)["本周周报表"] == "未交"
    assert ("return-missing", "B06", 13) in _flags(capsys, home.root)

    # The user fills B06's week 13 and merges it by hand, today (in 2026): the file's own time is now.
    dropped = tmp_path / f"{SILENT}_第13周.xlsx"
    shutil.copyfile(home.folder("outbox") / dropped.name, dropped)
    fill_return(dropped, Secretary(), seed=6)
    assert main(["merge", str(home.root), str(dropped)]) == Exit.OK
    capsys.readouterr()

    with open_ledger(home) as ledger:
        [receipt] = [r for r in ledger.tables(["returns"])["returns"] if r["branch_id"] == "B06" and r["week"] == 13]
    received = datetime.strptime(receipt["received_at"], "%Y-%m-%d %H:%M:%S")
    saved = datetime.fromtimestamp(dropped.stat().st_mtime)  # today, in 2026
    assert received == datetime.combine(date(2005, 6, 8), saved.time().replace(microsecond=0))  # on the demo's day
    assert _dashboard_row(home.master, SILENT)["本周周报表"] == "迟交"  # received, after 6/7 (return_states.py)
    flags = _flags(capsys, home.root)
    assert ("return-missing", "B06", 13) not in flags
    assert ("return-late", "B06", 13) in flags  # received on 6/8, after 6/7: late, but received


def test_a_file_dated_before_the_demos_day_keeps_its_time(demo_run):
    home = demo_run().home
    with open_ledger(home) as ledger:
        received = {r["branch_id"]: r["received_at"] for r in ledger.tables(["returns"])["returns"]
                    if r.get("week") == 13}
    assert received["B01"] == "2005-06-06 17:30:00" and received["B07"] == "2005-06-08 09:00:00"


def test_the_returns_sheet_keeps_times_as_excel_dates(demo_run):
    home = demo_run().home
    ws = load_workbook(home.master)["周报"]
    header = [cell.value for cell in ws[1]]
    rows = [dict(zip(header, (cell for cell in row))) for row in ws.iter_rows(min_row=2) if row[0].value]
    b01 = next(r for r in rows if r["支部编号"].value == "B01" and r["周次"].value == 3)
    for label in ("填报时间", "收到时间", "处理时间"):
        assert isinstance(b01[label].value, datetime), label
        assert "hh:mm" in b01[label].number_format
    assert b01["收到时间"].value == datetime(2005, 3, 28, 17, 30)


def test_a_moment_is_an_excel_date_in_a_cell_and_text_in_the_ledger():
    from branchbook.workbook.cells import BadValue, parse, to_cell
    from branchbook.workbook.schema import load_schemas

    field = load_schemas().sheet("returns").field("received_at")
    assert to_cell(field, "2005-03-28 17:30:00", "zh") == datetime(2005, 3, 28, 17, 30)  # the xlwings writer's too
    assert parse(field, datetime(2005, 3, 28, 17, 30)) == "2005-03-28 17:30:00"
    assert parse(field, "2005-03-28 17:30:00") == "2005-03-28 17:30:00"
    assert parse(field, "2005-03-28") == "2005-03-28 00:00:00"
    try:
        parse(field, "昨天下午")
    except BadValue as bad:
        assert bad.kind == "type"
    else:
        raise AssertionError("text that is no moment must not parse")
