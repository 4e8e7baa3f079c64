"""The merge engine on real return files: identity, authorisation, idempotence, resubmission, hand edits."""
from __future__ import annotations

from datetime import datetime

from returns_factory import edit, filled_return, set_saved_time

from branchbook.workbook.intake import load_submission
from branchbook.workbook.master import read_master
from branchbook.workbook.merge import merge

INTAKE_CODES = {"not-a-return", "identity-unknown", "identity-guessed", "other-branch", "unknown-branch"}
EARLY, LATE = datetime(2005, 3, 27, 10, 0), datetime(2005, 3, 28, 10, 0)


def _tables(home):
    return read_master(home.master)


def _merge(tables, *paths):
    return merge(tables, [load_submission(p, tables) for p in paths])


def _codes(sub):
    return {f.code for f in sub.findings}


def test_a_clean_return_adds_its_rows_with_provenance(demo_home, tmp_path):
    tables = _tables(demo_home)
    path = set_saved_time(filled_return(demo_home, tmp_path / "院机关支部_第3周.xlsx"), LATE)
    merged, [outcome] = _merge(tables, path)
    assert outcome.result == "merged" and outcome.added["attendance"] == 32
    new = [r for r in merged["attendance"] if r["source_return"].startswith("B08-W03@")]
    assert len(new) == 32 and all(r["row_fingerprint"] for r in new)
    assert {r["session_id"] for r in new} == {"B08-W03-S1", "B08-W03-S2"}
    [receipt] = [r for r in merged["returns"] if r["return_id"] == "B08-W03"]
    assert receipt["result"] == "merged" and receipt["file_name"] == path.name and len(receipt["sha256"]) == 64
    assert receipt["filled_at"].startswith("2005-03-28")
    assert len(merged["attendance"]) == len(tables["attendance"]) + 32


def test_the_same_file_twice_changes_nothing(demo_home, tmp_path):
    path = filled_return(demo_home, tmp_path / "a.xlsx")
    once, _ = _merge(_tables(demo_home), path)
    twice, [outcome] = _merge(once, path)
    assert outcome.result == "duplicate" and twice == once


def test_a_resubmission_replaces_the_earlier_rows(demo_home, tmp_path):
    first = set_saved_time(filled_return(demo_home, tmp_path / "first.xlsx"), EARLY)
    merged, _ = _merge(_tables(demo_home), first)
    second = edit(filled_return(demo_home, tmp_path / "second.xlsx"), lambda wb: wb["出勤"].__setitem__("C2", "请假"))
    set_saved_time(second, LATE)
    again, [outcome] = _merge(merged, second)
    assert outcome.result == "merged" and outcome.removed["attendance"] == 32
    rows = [r for r in again["attendance"] if r["source_return"].startswith("B08-W03@")]
    assert len(rows) == 32  # replaced, not added
    first_member = rows[0]["member_id"]
    assert next(r for r in rows if r["member_id"] == first_member and r["session_id"].endswith("S1"))["status"] == "excused"
    assert sorted(r["result"] for r in again["returns"] if r["return_id"] == "B08-W03") == ["merged", "replaced"]


def test_an_older_return_after_a_newer_does_not_overwrite(demo_home, tmp_path):
    newer = set_saved_time(edit(filled_return(demo_home, tmp_path / "newer.xlsx"),
                                lambda wb: wb["出勤"].__setitem__("C2", "请假")), LATE)
    older = set_saved_time(filled_return(demo_home, tmp_path / "older.xlsx"), EARLY)
    merged, _ = _merge(_tables(demo_home), newer)
    after, [outcome] = _merge(merged, older)
    assert outcome.result == "superseded"
    assert [r for k in ("attendance", "selfstudy") for r in after[k]] == [r for k in ("attendance", "selfstudy") for r in merged[k]]


def test_both_in_one_batch_the_newer_stands_whatever_the_order(demo_home, tmp_path):
    newer = set_saved_time(edit(filled_return(demo_home, tmp_path / "n.xlsx"),
                                lambda wb: wb["出勤"].__setitem__("C2", "请假")), LATE)
    older = set_saved_time(filled_return(demo_home, tmp_path / "o.xlsx"), EARLY)
    tables = _tables(demo_home)
    first_member = next(m["member_id"] for m in tables["members"] if m["branch_id"] == "B08")
    merged, outcomes = _merge(tables, newer, older)
    assert [o.result for o in outcomes] == ["merged", "merged"]  # older first, then replaced by newer
    statuses = {r["status"] for r in merged["attendance"] if r["source_return"].startswith("B08-W03@")
                and r["session_id"].endswith("S1") and r["member_id"] == first_member}
    assert statuses == {"excused"}


def test_hand_edits_in_the_master_are_kept_and_reported(demo_home, tmp_path):
    first = set_saved_time(filled_return(demo_home, tmp_path / "first.xlsx"), EARLY)
    merged, _ = _merge(_tables(demo_home), first)
    edited = next(r for r in merged["attendance"] if r["source_return"].startswith("B08-W03@"))
    edited["status"] = "excused"  # the office corrects it by hand
    second = set_saved_time(filled_return(demo_home, tmp_path / "second.xlsx", seed=8), LATE)
    again, [outcome] = _merge(merged, second)
    from branchbook.workbook.reports.summaries import conflict_text

    assert outcome.result == "merged" and len(outcome.conflicts) == 1
    [conflict] = outcome.conflicts
    assert conflict.sheet == "attendance" and conflict.key == (edited["session_id"], edited["member_id"])
    assert "手工修改" in conflict_text("zh", conflict.sheet, conflict.key)
    assert "edited by hand" in conflict_text("en", conflict.sheet, conflict.key)
    kept = [r for r in again["attendance"] if (r["session_id"], r["member_id"]) == (edited["session_id"], edited["member_id"])]
    assert len(kept) == 1 and kept[0]["status"] == "excused"


def test_a_return_naming_another_branchs_member_is_rejected(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "x.xlsx"), lambda wb: wb["征求意见"].__setitem__("A2", "M0001"))
    tables = _tables(demo_home)
    sub = load_submission(path, tables)
    assert "other-branch" in _codes(sub) and not sub.acceptable
    merged, [outcome] = merge(tables, [sub])
    assert outcome.result == "rejected" and any("博士生党支部" in p.message("zh") for p in outcome.problems)
    assert merged["attendance"] == tables["attendance"]


def test_a_retyped_return_is_identified_by_name_and_roster(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "院机关支部_第3周.xlsx"), lambda wb: wb.remove(wb["_元数据"]))
    sub = load_submission(path, _tables(demo_home))
    assert (sub.branch_id, sub.week) == ("B08", 3) and "identity-guessed" in _codes(sub) and sub.acceptable


def test_a_retyped_return_with_an_unknown_name_is_rejected_with_the_reason(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "周报.xlsx"), lambda wb: wb.remove(wb["_元数据"]))
    sub = load_submission(path, _tables(demo_home))
    assert "identity-unknown" in _codes(sub) and not sub.acceptable
    assert "文件名" in sub.problems()[0]


def test_unknown_branch_and_not_a_return(demo_home, tmp_path):
    def to_b99(wb):
        for row in wb["_元数据"].iter_rows():
            if row[0].value == "branch_id":
                row[1].value = "B99"
    sub = load_submission(edit(filled_return(demo_home, tmp_path / "b99.xlsx"), to_b99), _tables(demo_home))
    assert "unknown-branch" in _codes(sub)
    master = load_submission(demo_home.master, _tables(demo_home))
    assert _codes(master) == {"not-a-return"} and "不是支部周报表" in master.problems()[0]


def test_merge_dry_run_previews_and_writes_nothing(fresh_demo, tmp_path, capsys):
    import shutil

    from sync_helpers import filled_returns

    from branchbook.cli import main

    made = filled_returns(fresh_demo, tmp_path / "made", weeks=(3,), limit=6)
    bad = edit(filled_return(fresh_demo, tmp_path / "院机关支部_第3周.xlsx"), lambda wb: wb["自学"].__setitem__("C2", 30))
    for path in [*made[:5], bad]:
        shutil.copyfile(path, fresh_demo.folder("inbox") / path.name)
    outside = made[5]  # B06's, left where it was made
    before = {p: p.read_bytes() for p in fresh_demo.root.rglob("*") if p.is_file()}
    assert main(["merge", str(fresh_demo.root), "--dry-run"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("预览（未写入任何文件）：")
    assert captured.out.count("将合并，新增 学习活动 2 行") == 5 and "院机关支部_第3周.xlsx：将退回：自学 第2行" in captured.out
    assert "[6/6] 读取" in captured.err  # a long batch shows its progress
    assert {p: p.read_bytes() for p in fresh_demo.root.rglob("*") if p.is_file()} == before
    # A file given from elsewhere is read where it is: not copied into inbox/, where the service would take it
    assert main(["merge", str(fresh_demo.root), str(outside), "--dry-run"]) == 0
    assert "将合并" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in fresh_demo.root.rglob("*") if p.is_file()} == before


def test_a_late_returns_receipt_says_late_with_its_due_day(demo_home, tmp_path):
    """Week 3 ends on 3/27 and is due, with the grace days, by 3/29: a return first sent on 4/5 is 迟交, and its
    receipt's 处理说明 says so, as the flags and the dashboard do (return_states.late_after)."""
    tables = _tables(demo_home)
    tables["returns"] = [r for r in tables["returns"] if r.get("return_id") != "B08-W03"]
    path = filled_return(demo_home, tmp_path / "院机关支部_第3周.xlsx")
    merged, [outcome] = merge(tables, [load_submission(path, tables, received_at=datetime(2005, 4, 5, 9))])
    [receipt] = [r for r in merged["returns"] if r["return_id"] == "B08-W03"]
    assert outcome.result == "merged" and receipt["note"].code == "late"
    from branchbook.workbook.reports.summaries import receipt_note
    assert receipt_note("zh", receipt["note"]) == "迟交：晚于本周周报的截止日3月29日。"
    on_time, _ = merge(tables, [load_submission(path, tables, received_at=datetime(2005, 3, 28, 9))])
    assert [r["note"] for r in on_time["returns"] if r["return_id"] == "B08-W03"] == [None]
