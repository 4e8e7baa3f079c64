"""A session as a 组织生活会记录本 keeps it (docs/domain.md, "Records"): 地点, 主持人, 主讲人, 记录人, 列席人员, 讨论要点
are typed in the return's 学习活动, validated, merged and written to the master; a return made before the columns
existed is read as before, and a session merged before them is not taken for an office edit."""
from __future__ import annotations

from datetime import datetime

from openpyxl import load_workbook
from returns_factory import edit, filled_return, set_saved_time
from sync_helpers import pinned_home

from branchbook.cli import main
from branchbook.workbook.intake import load_submission
from branchbook.workbook.master import read_master
from branchbook.workbook.merge import merge
from branchbook.workbook.provenance import edited_by_hand, stamp
from branchbook.workbook.schema import load_schemas
from branchbook.workbook.validation import validate_path

RECORD_BOOK = ("地点", "主持人", "主讲人", "记录人", "列席人员", "讨论要点")
SENT = datetime(2005, 3, 27, 9)


def _headers(ws) -> list:
    return [cell.value for cell in ws[1]]


def _set(ws, row: int, label: str, value) -> None:
    ws.cell(row, _headers(ws).index(label) + 1).value = value


def test_the_return_offers_the_record_book_columns_after_the_old_ones(demo_home):
    wb = load_workbook(demo_home.folder("outbox") / "院机关支部_第3周.xlsx")
    assert _headers(wb["学习活动"]) == ["活动序号", "日期", "形式", "主题", "学时", *RECORD_BOOK]


def test_a_return_made_before_the_columns_validates_and_merges(demo_home, tmp_path):
    def drop_record_book(wb):
        ws = wb["学习活动"]
        ws.delete_cols(_headers(ws).index("地点") + 1, len(RECORD_BOOK))

    old = edit(filled_return(demo_home, tmp_path / "old.xlsx"), drop_record_book)
    assert _headers(load_workbook(old)["学习活动"]) == ["活动序号", "日期", "形式", "主题", "学时"]
    report = validate_path(old)
    assert report.findings == [], [f.code for f in report.findings]
    tables = read_master(demo_home.master)
    merged, [outcome] = merge(tables, [load_submission(old, tables)])
    assert outcome.result == "merged" and outcome.added["sessions"] == 2
    rows = [r for r in merged["sessions"] if r["session_id"].startswith("B08-W03")]
    assert [r["kind"] for r in rows] == ["central", "orglife"]
    assert all(r[key] is None for r in rows for key in ("place", "chair", "speaker", "recorder", "attendees",
                                                        "discussion"))


def test_a_return_with_the_record_book_fields_round_trips_into_the_master(fresh_demo, tmp_path, capsys):
    home = pinned_home(fresh_demo)

    def keep_the_book(wb):
        ws = wb["学习活动"]
        _set(ws, 2, "地点", "  生医楼 301 ")  # stripped, as every text is
        _set(ws, 2, "主讲人", "楼正国")
        _set(ws, 3, "列席人员", "楼正国（联系委员）、组织员")
        _set(ws, 3, "讨论要点", "对照8个思考题逐一发言。\n查摆问题5条。")

    sent = set_saved_time(edit(filled_return(home, tmp_path / "院机关支部_第3周.xlsx"), keep_the_book), SENT)
    roster = [row[1] for row in load_workbook(sent)["党员名单"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert main(["validate", str(sent)]) == 0, capsys.readouterr().out
    assert main(["merge", str(home.root), str(sent)]) == 0, capsys.readouterr().out
    master = load_workbook(home.master)["学习活动"]
    headers = _headers(master)
    assert headers[6:12] == list(RECORD_BOOK)  # after 活动编号, 支部编号 and the five typed before
    rows = {row[0]: dict(zip(headers, row)) for row in master.iter_rows(min_row=2, values_only=True)}
    first, second = rows["B08-W03-S1"], rows["B08-W03-S2"]
    # The demo's secretary writes the room, herself (the roster's first) as chair, its last member as recorder.
    assert (first["地点"], first["主持人"], first["主讲人"], first["记录人"]) == ("生医楼 301", roster[0], "楼正国", roster[-1])
    assert first["列席人员"] is None and first["讨论要点"] is None
    assert (second["地点"], second["主持人"], second["主讲人"], second["记录人"]) == ("支部活动室", roster[0], None, roster[-1])
    assert second["列席人员"] == "楼正国（联系委员）、组织员"
    assert second["讨论要点"] == "对照8个思考题逐一发言。\n查摆问题5条。"
    # The master, its new columns and all, reads back as the ledger has it.
    again = {r["session_id"]: r for r in read_master(home.master)["sessions"]}
    assert again["B08-W03-S2"]["attendees"] == "楼正国（联系委员）、组织员"


def test_a_session_merged_before_the_columns_is_not_an_office_edit():
    sheet = load_schemas().sheet("sessions")
    before = {"session_id": "B01-W01-S1", "branch_id": "B01", "date": "2005-03-10", "kind": "central",
              "topic": "学习党章", "hours": 3}
    # The fingerprint a row had when merged before the columns were there: the old fields' text, joined.
    old_print = stamp(sheet, before, "B01-W01@x")["row_fingerprint"]
    import hashlib
    assert old_print == hashlib.sha256("\x1f".join(["B01-W01-S1", "B01", "2005-03-10", "central", "学习党章", "3"])
                                       .encode()).hexdigest()[:16]
    read_now = {**before, "place": None, "chair": "", "speaker": None, "recorder": None, "attendees": None,
                "discussion": None, "source_return": "B01-W01@x", "row_fingerprint": old_print}
    assert not edited_by_hand(sheet, read_now)
    assert edited_by_hand(sheet, {**read_now, "place": "会议室"})  # typed into a new column since: an edit
    placed = stamp(sheet, {**before, "place": "会议室"}, "B01-W01@x")
    moved = {**placed, "place": None, "chair": "会议室"}  # the same text in another new column is an edit too
    assert not edited_by_hand(sheet, placed) and edited_by_hand(sheet, moved)
