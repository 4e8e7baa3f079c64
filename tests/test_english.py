"""The whole path in English: a HOME made with --lang en, its returns filled, validated and merged."""
from __future__ import annotations

import shutil

from openpyxl import load_workbook

from branchbook.cli import main
from branchbook.demo.fill import Secretary, fill_return
from branchbook.sync.pipeline import Incoming, process
from branchbook.workbook.home import Home
from branchbook.workbook.master import read_master
from branchbook.workbook.validation import validate_path


def test_an_english_home_end_to_end(tmp_path, capsys):
    assert main(["init", str(tmp_path / "en"), "--demo", "--lang", "en"]) == 0
    home = Home.open(tmp_path / "en")
    assert main(["returns", str(home.root), "--week", "3"]) == 0
    template = home.folder("outbox") / "College office branch_week3.xlsx"
    wb = load_workbook(template)
    assert wb.sheetnames[:3] == ["Instructions", "Roster", "Sessions"] and wb["_meta"].sheet_state == "veryHidden"
    target = home.folder("inbox") / template.name
    shutil.copyfile(template, target)
    fill_return(target, Secretary(mistakes=("bad-status",)), seed=1, lang="en")
    report = validate_path(target, lang="en")
    [finding] = report.errors
    assert finding.message("en").startswith("sheet Attendance row 3 column S1: 'Presnet' is not one of")
    wb = load_workbook(target)
    wb["Attendance"]["C3"] = "Present"
    wb.save(target)
    result = process(home, [Incoming.at(target)])
    assert [o.result for o in result.outcomes] == ["merged"]
    tables = read_master(home.master)
    assert sum(str(r["source_return"]).startswith("B08-W03@") for r in tables["attendance"]) == 32
    assert "Dashboard" in load_workbook(home.master).sheetnames
