"""A session as a 组织生活会记录本 keeps it (docs/domain.md, "Records"): 地点, 主持人, 主讲人, 记录人, 列席人员, 讨论要点
are typed in the return's 学习活动, validated, merged and written to the master; a return made before the columns
existed is read as before, and a session merged before them is not taken for an office edit."""
from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from returns_factory import edit, filled_return, set_saved_time
from sync_helpers import pinned_home
from test_live_checks import Mistake, _area, _put_helpers

from branchbook.cli import main
from branchbook.sync.pipeline import incoming, process
from branchbook.workbook.flags import Facts, compute_flags
from branchbook.workbook.intake import load_submission
from branchbook.workbook.master import read_master
from branchbook.workbook.merge import merge
from branchbook.workbook.offered_sessions import earlier_listed, missed_elsewhere
from branchbook.workbook.provenance import edited_by_hand, stamp
from branchbook.workbook.reports.progress import compute_progress
from branchbook.workbook.schema import load_schemas
from branchbook.workbook.validation import validate_path

RECORD_BOOK = ("地点", "主持人", "主讲人", "记录人", "列席人员", "讨论要点")
ADDED = ("党小组", "补学活动", *RECORD_BOOK)  # 学习活动's columns after 学时, added since the first template
SENT = datetime(2005, 3, 27, 9)


def _headers(ws) -> list:
    return [cell.value for cell in ws[1]]


def _set(ws, row: int, label: str, value) -> None:
    ws.cell(row, _headers(ws).index(label) + 1).value = value


def test_the_return_offers_the_record_book_columns_after_the_old_ones(demo_home):
    wb = load_workbook(demo_home.folder("outbox") / "院机关支部_第3周.xlsx")
    assert _headers(wb["学习活动"]) == ["活动序号", "日期", "形式", "主题", "学时", *ADDED]


def test_a_return_made_before_the_columns_validates_and_merges(demo_home, tmp_path):
    def drop_record_book(wb):
        ws = wb["学习活动"]
        ws.delete_cols(_headers(ws).index("党小组") + 1, len(ADDED))
        wb["自学"].delete_cols(_headers(wb["自学"]).index("补学活动") + 1)

    old = edit(filled_return(demo_home, tmp_path / "old.xlsx"), drop_record_book)
    assert _headers(load_workbook(old)["学习活动"]) == ["活动序号", "日期", "形式", "主题", "学时"]
    report = validate_path(old)
    assert report.findings == [], [f.code for f in report.findings]
    tables = read_master(demo_home.master)
    merged, [outcome] = merge(tables, [load_submission(old, tables)])
    assert outcome.result == "merged" and outcome.added["sessions"] == 2
    rows = [r for r in merged["sessions"] if r["session_id"].startswith("B08-W03")]
    assert [r["kind"] for r in rows] == ["central", "orglife"]
    assert all(r[key] is None for r in rows for key in ("party_group", "makes_up", "place", "chair", "speaker",
                                                        "recorder", "attendees", "discussion"))
    assert all(r.get("makes_up") is None for r in merged["selfstudy"] if r["source_return"].startswith("B08-W03"))


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
    assert headers[6:14] == list(ADDED)  # after 活动编号, 支部编号 and the four typed before
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
    read_now = {**before, "party_group": None, "makes_up": None, "place": None, "chair": "", "speaker": None, "recorder": None, "attendees": None,
                "discussion": None, "source_return": "B01-W01@x", "row_fingerprint": old_print}
    assert not edited_by_hand(sheet, read_now)
    assert edited_by_hand(sheet, {**read_now, "place": "会议室"})  # typed into a new column since: an edit
    placed = stamp(sheet, {**before, "place": "会议室"}, "B01-W01@x")
    moved = {**placed, "place": None, "chair": "会议室"}  # the same text in another new column is an edit too
    assert not edited_by_hand(sheet, placed) and edited_by_hand(sheet, moved)


# 党小组 sessions (docs/domain.md, "Records"): the demo's 生医系硕士生党支部 (B03), 48 members in 4 groups of 12.
GROUPED = "生医系硕士生党支部_第3周.xlsx"
GROUP_STUDY = "党小组学习"


def _opened_b03(home, target) -> tuple:
    """B03's week-3 template copied to `target` and opened: the workbook, its week's first day, the roster's groups."""
    shutil.copyfile(home.folder("outbox") / GROUPED, target)
    wb = load_workbook(target)
    week_start = next(row[1] for row in wb["_元数据"].iter_rows(values_only=True) if row[0] == "week_start")
    roster = wb["党员名单"]
    group_column = _headers(roster).index("党小组")
    return wb, week_start, {row[0]: row[group_column] for row in roster.iter_rows(min_row=2, values_only=True) if row[0]}


def _grid_places(wb) -> tuple:
    """The attendance grid, its columns by session number and its rows by member."""
    grid = wb["出勤"]
    return grid, {cell.value: cell.column for cell in grid[1]}, {grid.cell(row, 1).value: row
                                                                  for row in range(2, grid.max_row + 1)}


def _grouped_return(home, target, changes=()) -> tuple:
    """B03's week 3 as its secretary fills it when the branch studies in 党小组: S1–S4 one group's study each, every
    member marked (出席) in his own group's column only; then `changes`: ((member, session), status). Returns the
    file, the roster's groups by member and the group of each session."""
    wb, week_start, groups = _opened_b03(home, target)
    names = sorted(set(groups.values()))
    assert len(groups) == 48 and len(names) == 4 and all(list(groups.values()).count(g) == 12 for g in names)
    sessions = wb["学习活动"]
    held = {f"S{n}": name for n, name in enumerate(names, start=1)}
    for row, (number, group) in enumerate(held.items(), start=2):
        for label, value in (("活动序号", number), ("日期", week_start + timedelta(days=row - 1)), ("形式", GROUP_STUDY),
                             ("主题", "学习党章"), ("学时", 2), ("党小组", group)):
            _set(sessions, row, label, value)
    grid, columns, rows = _grid_places(wb)
    own = {group: number for number, group in held.items()}
    for member, group in groups.items():
        grid.cell(rows[member], columns[own[group]]).value = "出席"
    for (member, session), status in changes:
        grid.cell(rows[member], columns[session]).value = status
    wb.save(target)
    return target, groups, held


def _blank_cells(path) -> int:
    grid = load_workbook(path)["出勤"]
    return sum(grid.cell(row, column).value is None for row in range(2, grid.max_row + 1) for column in range(3, 7))


def test_a_party_group_session_expects_only_its_groups_members(demo_home, tmp_path):
    path, groups, held = _grouped_return(demo_home, tmp_path / GROUPED)
    assert _blank_cells(path) == 144  # each member is blank in the 3 sessions of the other groups: 48 x 3
    report = validate_path(path)
    assert report.findings == [], [f.message() for f in report.findings]

    # The same return without the 党小组 column filled: the 144 blanks are warned of, as before 党小组 sessions.
    def whole_branch(wb):
        for row in range(2, 6):
            _set(wb["学习活动"], row, "党小组", None)

    plain = edit(shutil.copyfile(path, tmp_path / "plain.xlsx"), whole_branch)
    blanks = [f for f in validate_path(plain).findings if f.code == "status-blank"]
    # One warning a run of side-by-side blanks (a member of group 1 is blank in S2–S4), counted here by its cells.
    cells = [((ord(f.last_column) if f.last_column else ord(f.column)) - ord(f.column) + 1)
             * ((f.last_row or f.row) - f.row + 1) for f in blanks]
    assert sum(cells) == 144

    # A group member left blank in his own group's session is still warned of; another group's member is not.
    first = next(m for m, g in groups.items() if g == held["S1"])
    other = next(m for m, g in groups.items() if g == held["S2"])
    path2, _, _ = _grouped_return(demo_home, tmp_path / "two.xlsx", [((first, "S1"), None), ((other, "S1"), "缺席")])
    [blank] = [f for f in validate_path(path2).findings]
    assert (blank.code, blank.column_label) == ("status-blank", "S1")


def test_a_party_group_that_no_member_is_in_is_an_error(demo_home, tmp_path):
    path, _, _ = _grouped_return(demo_home, tmp_path / GROUPED)
    edit(path, lambda wb: _set(wb["学习活动"], 3, "党小组", "第九党小组"))
    [finding] = validate_path(path).findings
    assert (finding.code, finding.sheet, finding.row, finding.column) == ("unknown-party-group", "学习活动", 3, "F")
    assert "第九党小组" in finding.message() and finding.message().startswith("学习活动 第3行 「党小组」")
    roster = load_workbook(path)["党员名单"]
    column = _headers(roster).index("党小组")
    in_roster_order = list(dict.fromkeys(row[column] for row in roster.iter_rows(min_row=2, values_only=True) if row[0]))
    assert "、".join(in_roster_order) in finding.message()  # as the roster lists them, not by character codes


def _always_present_before(tables, members) -> list[str]:
    """Members present at every session merged so far (so their week-3 absences alone make a run)."""
    missed = {row["member_id"] for row in tables["attendance"] if row["status"] != "present"}
    return [member for member in members if member not in missed]


def test_a_party_group_session_counts_for_its_group_only_in_the_flags(demo_home, tmp_path):
    tables = read_master(demo_home.master)
    _, groups, held = _grouped_return(demo_home, tmp_path / "probe.xlsx")
    first = _always_present_before(tables, [m for m, g in groups.items() if g == held["S1"]])
    second = _always_present_before(tables, [m for m, g in groups.items() if g == held["S2"]])
    assert first and second, "the demo has no member of groups 1 and 2 present at every earlier session"
    absentee, outsider = first[0], second[0]
    # S1 (group 1): the absentee missed it, and the secretary marked the outsider (group 2) 缺席 there too; S2 (his
    # group's) he missed. S5, the whole branch's 集中学习 a day later: the absentee missed it, every other was there.
    changes = [((absentee, "S1"), "缺席"), ((outsider, "S1"), "缺席"), ((outsider, "S2"), "缺席")]
    path, _, _ = _grouped_return(demo_home, tmp_path / GROUPED, changes)

    def whole_branch_session(wb):
        for label, value in (("活动序号", "S5"), ("日期", wb["学习活动"]["B5"].value + timedelta(days=1)),
                             ("形式", "集中学习"), ("主题", "学习十六大报告"), ("学时", 3)):
            _set(wb["学习活动"], 6, label, value)
        grid = wb["出勤"]
        for row in range(2, grid.max_row + 1):
            grid.cell(row, 7).value = "缺席" if grid.cell(row, 1).value == absentee else "出席"

    edit(path, whole_branch_session)
    set_saved_time(path, SENT)
    assert validate_path(path).findings == []
    merged, [outcome] = merge(tables, [load_submission(path, tables)])
    assert outcome.result == "merged"
    flags = compute_flags(merged, date(2005, 3, 27))
    in_row = {f.subject_id: f.values["count"] for f in flags if f.rule == "absent-in-row"}
    # The absentee: S1 (his group's) and S5, two in a row. The outsider: S2 only; S1 was not his group's session,
    # though marked 缺席 there (counted, he would have two in a row, S1 and S2).
    assert in_row.get(absentee) == 2 and outsider not in in_row
    # The 缺席 at S1 is kept as recorded; it is only not held against him.
    assert {(r["session_id"], r["status"]) for r in merged["attendance"] if r["member_id"] == outsider
            and r["session_id"].startswith("B03-W03")} == {("B03-W03-S1", "absent"), ("B03-W03-S2", "absent"),
                                                            ("B03-W03-S5", "present")}


# 补学 (docs/domain.md, "Falling behind"): the demo's 院机关支部 (B08), week 3: S1 集中学习, S2 组织生活会.
def _b08_with_absences(home, target, absentee_rows, makeups=()):
    """B08's week 3 as the demo's secretary fills it, the absentee 缺席 at S1 and S2, and `makeups` added to 自学:
    (member, material, 补学活动)."""
    def change(wb):
        grid, study = wb["出勤"], wb["自学"]
        row = next(r for r in range(2, grid.max_row + 1) if grid.cell(r, 1).value == absentee_rows)
        grid.cell(row, 3).value = grid.cell(row, 4).value = "缺席"
        first_free = next(r for r in range(2, 300) if study.cell(r, 1).value is None)
        day = wb["学习活动"]["B3"].value  # S2's day: after S1
        for offset, (member, material, session) in enumerate(makeups):
            for label, value in (("党员编号", member), ("日期", day), ("学时", 2), ("学习内容", material),
                                 ("补学活动", session)):
                _set(study, first_free + offset, label, value)

    return set_saved_time(edit(filled_return(home, target), change), SENT)


def _absentee(home) -> str:
    tables = read_master(home.master)
    roster = [row[0] for row in load_workbook(home.folder("outbox") / "院机关支部_第3周.xlsx")["党员名单"]
              .iter_rows(min_row=2, values_only=True) if row[0]]
    [first, *_] = _always_present_before(tables, roster)
    return first


def test_a_makeup_study_row_names_the_session_and_breaks_a_run_of_absences(demo_home, tmp_path):
    absentee = _absentee(demo_home)
    tables = read_master(demo_home.master)
    as_of = date(2005, 3, 27)

    def flags_after(path, warned=()):
        report = validate_path(path)
        assert [f.code for f in report.findings] == list(warned), [f.message() for f in report.findings]
        merged, [outcome] = merge(tables, [load_submission(path, tables)])
        assert outcome.result == "merged", outcome.problems
        return merged, {f.rule: f for f in compute_flags(merged, as_of) if f.subject_id == absentee}

    # Absent from S1 and S2, nothing made up: two in a row (present at every session before).
    _, flags = flags_after(_b08_with_absences(demo_home, tmp_path / "absent.xlsx", absentee))
    assert flags["absent-in-row"].values["count"] == 2
    # S1 made up by a self-study row naming it (as this week's S1): one absence is left, no run.
    path = _b08_with_absences(demo_home, tmp_path / "made_up.xlsx", absentee, [(absentee, "补学：十六大报告", "S1")])
    merged, flags = flags_after(path)
    assert "absent-in-row" not in flags
    [row] = [r for r in merged["selfstudy"] if r["member_id"] == absentee and r.get("makes_up")]
    assert (row["makes_up"], row["material"]) == ("B08-W03-S1", "补学：十六大报告")  # the session's full ID
    # His 缺席 stays as recorded: 补学 is not attendance.
    assert {r["session_id"]: r["status"] for r in merged["attendance"] if r["member_id"] == absentee
            and r["session_id"].startswith("B08-W03")} == {"B08-W03-S1": "absent", "B08-W03-S2": "absent"}
    # Another week's session by its ID, typed in lower case: the ledger's spelling is kept.
    path = _b08_with_absences(demo_home, tmp_path / "by_id.xlsx", absentee,
                              [(absentee, "补学：十六大报告", "S1"), (absentee, "补学：党章", "b08-w02-s1")])
    merged, _ = flags_after(path, ["makeup-not-missed"])  # he was present at week 2's S1: a note, the row stands
    assert sorted(r["makes_up"] for r in merged["selfstudy"] if r["member_id"] == absentee and r.get("makes_up")) \
        == ["B08-W02-S1", "B08-W03-S1"]


def test_a_makeup_naming_no_session_of_the_branch_is_refused(demo_home, tmp_path):
    absentee = _absentee(demo_home)
    tables = read_master(demo_home.master)
    meta = {row[0]: row[1] for row in load_workbook(demo_home.folder("outbox") / "院机关支部_第3周.xlsx")["_元数据"]
            .iter_rows(values_only=True)}
    earlier = set(earlier_listed(meta).values())  # what the template knows B08 may make up
    assert {"B08-W02-S1", "ALL-W02-S1"} <= earlier and not any(s.startswith("B08-W03") for s in earlier)
    # S5 is not in this week's 学习活动: the return itself says so; its example is a session B08 may make up.
    path = _b08_with_absences(demo_home, tmp_path / "s5.xlsx", absentee, [(absentee, "补学", "S5")])
    [finding] = validate_path(path).findings
    assert (finding.code, finding.sheet, finding.column) == ("makeup-unknown", "自学", "E")
    assert finding.params["example"] in earlier and finding.params["example"] in finding.message()
    # Free text, another branch's session (B01's week 2), a later week's, one never held in an earlier week: the
    # return's own check refuses each (the template lists the earlier sessions), as the merge does, with an example
    # that is a session B08 may make up, not this week's own.
    for session in ("第2周集中学习", "B01-W02-S1", "B08-W09-S1", "B08-W02-S7"):
        path = _b08_with_absences(demo_home, tmp_path / f"{len(session)}{session[-1]}.xlsx", absentee,
                                  [(absentee, "补学", session)])
        [finding] = validate_path(path).findings
        assert (finding.code, finding.sheet, finding.column) == ("makeup-unknown", "自学", "E"), session
        sub = load_submission(path, tables)
        [refused] = [f for f in sub.findings if f.code == "makeup-unknown"]
        assert not sub.acceptable and refused.params["example"] in earlier
        _, [outcome] = merge(tables, [sub])
        assert outcome.result == "rejected"
    # A template made before `_元数据` listed the earlier sessions: only the merge can tell, and its example is the
    # latest session B08 may make up.
    def without_the_list(wb):
        meta = wb["_元数据"]
        meta.delete_rows(next(c.row for c in meta["A"] if c.value == "missed"))

    path = _b08_with_absences(demo_home, tmp_path / "old.xlsx", absentee, [(absentee, "补学", "第2周集中学习")])
    path = set_saved_time(edit(path, without_the_list), SENT)
    assert validate_path(path).findings == []
    [refused] = load_submission(path, tables).findings
    assert refused.code == "makeup-unknown" and refused.params["example"] in earlier


def test_a_makeup_of_a_week_the_template_had_no_session_of_is_left_to_the_merge():
    """A week merged after the template was made is not listed: the return cannot tell, the merge decides; a week
    listed, and any other branch's session, it can (checks/makeup.py)."""
    from branchbook.workbook.checks.makeup import check_makeup_numbers
    from branchbook.workbook.sheetio import SheetRead

    read = SheetRead(title="自学", columns={"makes_up": 5})
    earlier = {"b08-w02-s1": "B08-W02-S1"}
    for value, refused in (("B08-W02-S1", False), ("b08-w02-s1", False), ("B08-W02-S2", True), ("B08-W01-S1", False),
                           ("B08-W03-S9", True), ("B01-W01-S1", True), ("第2周集中学习", True), ("ALL-W01-S1", True)):
        found = list(check_makeup_numbers({"selfstudy": read}, {"selfstudy": [(2, {"makes_up": value})]}, {"S1"},
                                          "B08-W03", 8, earlier))
        assert bool(found) == refused, value


def test_a_makeup_of_an_earlier_weeks_session_is_merged_by_the_command(fresh_demo, tmp_path, capsys):
    """The real path: `branchbook merge` checks the return against the ledger's sessions, read for each batch
    (they change with every merge), not only against the roster it keeps between batches."""
    absentee = _absentee(fresh_demo)
    path = _b08_with_absences(fresh_demo, tmp_path / "院机关支部_第3周.xlsx", absentee,
                              [(absentee, "补学：党章", "B08-W02-S1")])
    assert main(["merge", str(fresh_demo.root), str(path)]) == 0, capsys.readouterr().out
    assert "已合并" in capsys.readouterr().out
    stored = [r["makes_up"] for r in read_master(fresh_demo.master)["selfstudy"]
              if r["member_id"] == absentee and r.get("makes_up")]
    assert stored == ["B08-W02-S1"]


# Any number of sessions a week (docs/domain.md, "Records"): B03's grid offers S1–S8 and two numbers for each of its
# four 党小组 (schemas/returns.yaml), S1–S16; here each group meets twice (S1–S8) and the branch four times (S9–S12).
TWELVE = 12


def _twelve_sessions(home, target, blanks=()) -> tuple:
    """B03's week 3 with 12 sessions, every member 出席 at his group's two and at the branch's four; then the grid
    cells of `blanks` ((member, session)) cleared. Returns the file and the roster's groups by member."""
    wb, week_start, groups = _opened_b03(home, target)
    names = list(dict.fromkeys(groups.values()))
    held = {}  # session number -> its group (None: the whole branch)
    for index, group in enumerate(names):
        held[f"S{2 * index + 1}"], held[f"S{2 * index + 2}"] = group, group
    for number in range(2 * len(names) + 1, TWELVE + 1):
        held[f"S{number}"] = None
    sessions = wb["学习活动"]
    for row, (number, group) in enumerate(held.items(), start=2):
        kind = GROUP_STUDY if group else ("辅导报告" if number == "S12" else "集中学习")
        for label, value in (("活动序号", number), ("日期", week_start + timedelta(days=(row - 2) % 7)), ("形式", kind),
                             ("主题", "学习党章"), ("学时", 2), ("党小组", group)):
            _set(sessions, row, label, value)
    grid, columns, rows = _grid_places(wb)
    for member, group in groups.items():
        for number, session_group in held.items():
            if session_group in (None, group):
                grid.cell(rows[member], columns[number]).value = "出席"
    for member, number in blanks:
        grid.cell(rows[member], columns[number]).value = None
    wb.save(target)
    return set_saved_time(target, SENT), groups


def test_the_grid_offers_two_more_numbers_for_each_party_group(demo_home):
    grouped = load_workbook(demo_home.folder("outbox") / GROUPED)
    assert [cell.value for cell in grouped["出勤"][1]][2:] == [f"S{n}" for n in range(1, 17)]
    [number_list] = [dv for dv in grouped["学习活动"].data_validations.dataValidation if str(dv.sqref).startswith("A2")]
    assert number_list.formula1 == '"' + ",".join(f"S{n}" for n in range(1, 17)) + '"'
    assert any("S1–S16" in str(row[0]) for row in grouped["填表说明"].iter_rows(values_only=True) if row[0])
    # Its 填报检查 still fits Excel's 8,192 characters a formula: sixteen columns, and who missed week 2's sessions.
    formulas = [c.value for row in grouped["填表说明"].iter_rows() for c in row if str(c.value).startswith("=")]
    formulas += [rule.formula[0] for ws in grouped.worksheets for cf in ws.conditional_formatting for rule in cf.rules]
    assert any("COUNTIF('_元数据'!$E$1" in formula for formula in formulas)
    assert max(map(len, formulas)) < 8192
    plain = load_workbook(demo_home.folder("outbox") / "院机关支部_第3周.xlsx")  # no 党小组: S1–S8, as before
    assert [cell.value for cell in plain["出勤"][1]][2:] == [f"S{n}" for n in range(1, 9)]


def test_twelve_sessions_in_a_week_validate_and_merge(demo_home, tmp_path):
    path, groups = _twelve_sessions(demo_home, tmp_path / GROUPED)
    report = validate_path(path)
    assert report.findings == [], [f.message() for f in report.findings]
    tables = read_master(demo_home.master)
    merged, [outcome] = merge(tables, [load_submission(path, tables)])
    assert outcome.result == "merged" and outcome.added["sessions"] == TWELVE
    assert outcome.added["attendance"] == len(groups) * 6  # his group's two and the branch's four
    assert {r["session_id"] for r in merged["sessions"] if r["session_id"].startswith("B03-W03")} \
        == {f"B03-W03-S{n}" for n in range(1, TWELVE + 1)}
    # A blank at S12 (the 12th column) is warned of by its column, as at S1.
    member = next(iter(groups))
    path, _ = _twelve_sessions(demo_home, tmp_path / "blank.xlsx", [(member, "S12")])
    [blank] = validate_path(path).findings
    assert (blank.code, blank.column_label, blank.column) == ("status-blank", "S12", "N")
    # A template made before the grid grew (S1–S8 for every branch) validates and merges as it did.
    path = edit(_twelve_sessions(demo_home, tmp_path / "old.xlsx")[0], lambda wb: (
        wb["出勤"].delete_cols(3 + 8, 8), [wb["学习活动"].cell(row, column).__setattr__("value", None)
                                        for row in range(10, 14) for column in range(1, 8)]))
    assert [cell.value for cell in load_workbook(path)["出勤"][1]][2:] == [f"S{n}" for n in range(1, 9)]
    assert validate_path(path).findings == []
    _, [outcome] = merge(tables, [load_submission(path, tables)])
    assert outcome.result == "merged" and outcome.added["sessions"] == 8




def test_a_session_numbered_beyond_the_grid_is_an_error_at_its_number(demo_home, tmp_path):
    """B08 (no 党小组) has S1–S8; S9 typed in 学习活动 (the drop-down would refuse it, another program does not) has
    nowhere for its attendance: an error naming 学习活动's row and column, in validation and so at the merge."""
    def ninth(wb):
        sessions = wb["学习活动"]
        day = sessions["B2"].value
        for label, value in (("活动序号", "S9"), ("日期", day), ("形式", "集中学习"), ("主题", "学习党章"), ("学时", 2)):
            _set(sessions, 4, label, value)

    path = set_saved_time(edit(filled_return(demo_home, tmp_path / "nine.xlsx"), ninth), SENT)
    [finding] = validate_path(path).findings
    assert (finding.code, finding.sheet, finding.row, finding.column) == ("session-no-column", "学习活动", 4, "A")
    assert "出勤表没有 S9 这一列" in finding.message() and "--sessions 9" in finding.message()
    tables = read_master(demo_home.master)
    sub = load_submission(path, tables)
    assert "session-no-column" in [f.code for f in sub.findings] and not sub.acceptable


def test_returns_with_more_session_columns_on_request(fresh_demo, capsys):
    """A branch that holds 10 sessions in a week: `branchbook returns --sessions 10` gives its grid S1–S10; a branch
    whose 党小组 already give it more (B03: S1–S16) keeps them."""
    assert main(["returns", str(fresh_demo.root), "--week", "3", "--sessions", "10"]) == 0, capsys.readouterr()
    plain = load_workbook(fresh_demo.folder("outbox") / "院机关支部_第3周.xlsx")
    assert [cell.value for cell in plain["出勤"][1]][2:] == [f"S{n}" for n in range(1, 11)]
    grouped = load_workbook(fresh_demo.folder("outbox") / GROUPED)
    assert [cell.value for cell in grouped["出勤"][1]][2:] == [f"S{n}" for n in range(1, 17)]


BLANK_LINE = "出勤：已开展的活动中出勤未填（请核对，不算问题）"


# A 补学 session expects only those who missed the session it makes up (docs/domain.md, "Records"): B08's week 3 as the
# demo's secretary fills it (S1 集中学习, S2 组织生活会), and S3, two days after S1, held to make S1 up.
MAKEUP_ROW = 4  # 学习活动's row of S3
MISSED = ("缺席", "请假")


def _makeup_return(home, target, makes_up="S1", marks=None, blanks=()) -> tuple:
    """B08's week 3 with S3 making up `makes_up`; at S3 those who missed S1 (缺席/请假 there) are 出席 and everyone
    else blank, or as `marks` says ({member: status}, the others blank); then the S3 cells of `blanks` cleared. Returns the
    file and who missed S1."""
    path = filled_return(home, target)
    missed_s1 = []

    def add_makeup(wb):
        sessions = wb["学习活动"]
        day = sessions["B2"].value + timedelta(days=2)
        for label, value in (("活动序号", "S3"), ("日期", day), ("形式", "集中学习"), ("主题", "补学：十六大报告"),
                             ("学时", 2), ("补学活动", makes_up)):
            _set(sessions, MAKEUP_ROW, label, value)
        grid, columns, rows = _grid_places(wb)
        for member, row in rows.items():
            if grid.cell(row, columns["S1"]).value in MISSED:
                missed_s1.append(member)
            status = marks.get(member) if marks is not None else "出席" if member in missed_s1 else None
            grid.cell(row, columns["S3"]).value = None if member in blanks else status

    edit(path, add_makeup)
    assert missed_s1, "the demo's secretary marked everybody present at S1"
    return set_saved_time(path, SENT), missed_s1


def test_a_makeup_session_of_this_week_expects_only_those_who_missed(demo_home, tmp_path):
    path, missed = _makeup_return(demo_home, tmp_path / "makeup.xlsx")
    report = validate_path(path)
    assert report.findings == [], [f.message() for f in report.findings]  # 16 members, only len(missed) expected
    # One of those who missed S1, blank at S3: warned of, at his cell; the others' blanks are not.
    path, _ = _makeup_return(demo_home, tmp_path / "blank.xlsx", blanks=missed[:1])
    [blank] = validate_path(path).findings
    assert (blank.code, blank.column_label, blank.column) == ("status-blank", "S3", "E")
    row = next(r for r, member in enumerate(_roster_ids(path), start=2) if member == missed[0])
    assert blank.row == row


def _roster_ids(path) -> list[str]:
    return [row[0] for row in load_workbook(path)["党员名单"].iter_rows(min_row=2, values_only=True) if row[0]]


def _missed_earlier(home, session: str) -> set[str]:
    """B08's members the ledger has 缺席 or 请假 at an earlier session."""
    roster = set(_roster_ids(home.folder("outbox") / "院机关支部_第3周.xlsx"))
    missed = {r["member_id"] for r in read_master(home.master)["attendance"] if r["session_id"] == session
              and r["status"] in ("absent", "excused") and r["member_id"] in roster}
    assert missed and missed != roster
    return missed


def test_a_makeup_of_an_earlier_weeks_session_expects_those_the_template_lists(demo_home, tmp_path):
    """The return cannot see week 2's attendance: the template carries who missed each earlier session (in
    `_元数据`), read from the ledger when it was made."""
    tables = read_master(demo_home.master)
    roster = set(_roster_ids(demo_home.folder("outbox") / "院机关支部_第3周.xlsx"))
    missed = _missed_earlier(demo_home, "B08-W02-S1")
    meta = {row[0]: row[1] for row in load_workbook(demo_home.folder("outbox") / "院机关支部_第3周.xlsx")["_元数据"]
            .iter_rows(values_only=True)}
    listed = dict(part.split(":") for part in meta["missed"].split(";"))
    assert set(listed["B08-W02-S1"].split()) == missed
    path, _ = _makeup_return(demo_home, tmp_path / "earlier.xlsx", makes_up="B08-W02-S1",
                             marks={member: "出席" for member in missed})
    report = validate_path(path)
    assert report.findings == [], [f.message() for f in report.findings]
    merged, [outcome] = merge(tables, [load_submission(path, tables)])
    assert outcome.result == "merged" and outcome.added["attendance"] == 2 * len(roster) + len(missed)


def test_a_makeup_session_counts_in_the_flags_for_those_who_missed_only(demo_home, tmp_path):
    """A member present at S1 is not expected at its 补学 (S3): marked 缺席 there, it is not held against him."""
    tables = read_master(demo_home.master)
    roster = _roster_ids(demo_home.folder("outbox") / "院机关支部_第3周.xlsx")
    # Present at every session so far; here present at S1, absent at S2 and, by mistake, 缺席 at S3.
    member = _always_present_before(tables, roster)[0]

    def absent_at_s2(wb):
        grid, columns, rows = _grid_places(wb)
        grid.cell(rows[member], columns["S1"]).value, grid.cell(rows[member], columns["S2"]).value = "出席", "缺席"

    path, missed = _makeup_return(demo_home, tmp_path / "makeup.xlsx", marks={member: "缺席"})
    edit(path, absent_at_s2)
    set_saved_time(path, SENT)
    assert member not in missed
    merged, [outcome] = merge(tables, [load_submission(path, tables)])
    assert outcome.result == "merged", outcome.problems
    assert ("B08-W03-S3", "absent") in {(r["session_id"], r["status"]) for r in merged["attendance"]
                                        if r["member_id"] == member}  # kept as recorded
    flags = {f.rule for f in compute_flags(merged, date(2005, 3, 27)) if f.subject_id == member}
    assert "absent-in-row" not in flags  # S2 and S3 would be two in a row
    progress = compute_progress(merged, date(2005, 3, 28))
    b08 = next(b for b in progress.branches if b.branch_id == "B08")
    everyone = compute_progress({**merged, "sessions": [{**s, "makes_up": None} for s in merged["sessions"]]},
                                date(2005, 3, 28))
    assert b08.attendance_rate > next(b for b in everyone.branches if b.branch_id == "B08").attendance_rate


@pytest.mark.libreoffice
def test_the_live_checks_see_twelve_sessions_and_whom_a_makeup_expects(demo_home, tmp_path, recalculate):
    """The 填报检查 covers every column of the grid (the twelve sessions read 可以提交; a blank at S12 is one cell to
    check), and at a 补学 of this week's S1 expects only those who missed S1, as validation says."""
    member = next(iter(_twelve_sessions(demo_home, tmp_path / "probe.xlsx")[1]))
    _, missed = _makeup_return(demo_home, tmp_path / "probe2.xlsx")
    earlier = _missed_earlier(demo_home, "B08-W02-S1")  # week 2's: the template's `_元数据` says who missed it
    files = {"twelve": _twelve_sessions(demo_home, tmp_path / "twelve.xlsx")[0],
             "blank": _twelve_sessions(demo_home, tmp_path / "blank.xlsx", [(member, "S12")])[0],
             "makeup": _makeup_return(demo_home, tmp_path / "makeup.xlsx")[0],
             "makeup_blank": _makeup_return(demo_home, tmp_path / "makeup_blank.xlsx", blanks=missed[:1])[0],
             "earlier": _makeup_return(demo_home, tmp_path / "earlier.xlsx", makes_up="b08-w02-s1",
                                       marks={member: "出席" for member in earlier})[0],
             "earlier_blank": _makeup_return(demo_home, tmp_path / "earlier_blank.xlsx", makes_up="B08-W02-S1",
                                             marks={member: "出席" for member in sorted(earlier)[1:]})[0]}
    assert [len(validate_path(path).findings) for path in files.values()] == [0, 1, 0, 1, 0, 1]
    # The yellow marks, evaluated beside the grid: S3 blank for one who missed S1 (marked) and for one who did not.
    rows = {member: row for row, member in enumerate(_roster_ids(files["makeup_blank"]), start=2)}
    present = next(member for member in rows if member not in missed)
    edit(files["makeup_blank"], lambda wb: _put_helpers(wb, [(1, Mistake("出勤", f"E{rows[missed[0]]}", None, "", "")),
                                                             (2, Mistake("出勤", f"E{rows[present]}", None, "", ""))]))
    made = recalculate(list(files.values()), tmp_path / "out")
    assert [_area(made["makeup_blank"])[3][("出勤", index)] for index in (1, 2)] == [1, 0]
    for name, blanks in (("twelve", 0), ("blank", 1), ("makeup", 0), ("makeup_blank", 1), ("earlier", 0),
                         ("earlier_blank", 1)):
        status, total, lines, _ = _area(made[name])
        ready = "可以提交" if not blanks else "可以提交。提交前请核对标黄的 1 处，在：出勤。"
        assert (status, total, lines[BLANK_LINE]) == (ready, 0, blanks), (name, lines)


# A college-wide session (docs/domain.md, "Records"): the office types it once in the master's 学习活动, 支部编号 blank;
# every branch's return for its week lists it, and the attendance each branch marks is recorded against it.
LECTURE = {"活动编号": "ALL-W03-S1", "日期": datetime(2005, 3, 23), "形式": "辅导报告", "主题": "十六大报告辅导", "学时": 3}
B03_FILE = GROUPED


def _office_types_a_college_session(home) -> None:
    wb = load_workbook(home.master)
    ws = wb["学习活动"]
    header = _headers(ws)
    ws.append([LECTURE.get(label) for label in header])
    wb.save(home.master)


def _college_week(fresh_demo, capsys):
    """The office's lecture typed in the master, then the week's returns made again (`branchbook returns`)."""
    home = pinned_home(fresh_demo)
    _office_types_a_college_session(home)
    assert main(["returns", str(home.root), "--week", "3"]) == 0, capsys.readouterr().out
    return home


def _lecture_rows(home) -> list[dict]:
    return [r for r in read_master(home.master)["attendance"] if r["session_id"] == LECTURE["活动编号"]]


def test_a_college_session_is_offered_in_every_return_and_recorded_once(fresh_demo, tmp_path, capsys):
    # B09's return was sent before the office typed the lecture: it has no column for it, and merges as it is.
    old = set_saved_time(filled_return(fresh_demo, tmp_path / "old.xlsx", name="生医教工党支部_第3周.xlsx"), SENT)
    home = _college_week(fresh_demo, capsys)
    for name in ("院机关支部_第3周.xlsx", B03_FILE):
        wb = load_workbook(home.folder("outbox") / name)
        sessions, grid = wb["学习活动"], wb["出勤"]
        assert [sessions.cell(2, column).value for column in range(1, 6)][:1] == ["ALL-W03-S1"]
        assert (sessions["C2"].value, sessions["D2"].value, sessions["E2"].value) == ("辅导报告", "十六大报告辅导", 3)
        [kept] = [dv for dv in sessions.data_validations.dataValidation if str(dv.sqref).startswith("A2")]
        assert kept.type == "custom" and kept.formula1 == "FALSE"  # typing over it is refused
        assert [c.value for c in grid[1]][-1] == "ALL-W03-S1"  # after S1–S8 (S1–S16 at B03)
        assert any("全院" in str(row[0]) for row in wb["填表说明"].iter_rows(values_only=True) if row[0])
    # Both branches fill theirs (the demo's secretary marks the lecture's column too) and send them.
    b08 = set_saved_time(filled_return(home, tmp_path / "院机关支部_第3周.xlsx"), SENT)
    b03 = set_saved_time(filled_return(home, tmp_path / B03_FILE, name=B03_FILE), SENT)
    for path in (b08, b03):
        report = validate_path(path)
        assert report.errors == [], [f.message() for f in report.errors]
    assert main(["merge", str(home.root), str(b08), str(b03), str(old)]) == 0, capsys.readouterr().out
    tables = read_master(home.master)
    assert {r["branch_id"] for r in tables["returns"] if r["week"] == 3 and r["result"] == "merged"} == {"B03", "B08", "B09"}
    assert [s["session_id"] for s in tables["sessions"]].count("ALL-W03-S1") == 1  # the office's row, no copy
    assert not [s for s in tables["sessions"] if s["session_id"].endswith("ALL-W03-S1") and s["branch_id"]]
    rows = _lecture_rows(home)
    members = {m["member_id"]: m["branch_id"] for m in tables["members"]}
    by_branch = {branch: sorted(r["member_id"] for r in rows if members[r["member_id"]] == branch) for branch in ("B08", "B03")}
    assert len(by_branch["B08"]) == 16 and len(by_branch["B03"]) == 48 and len(rows) == 64  # once a member
    assert {r["hours"] for r in rows if r["status"] == "present"} == {3}
    assert {r["source_return"].split("@")[0] for r in rows} == {"B08-W03", "B03-W03"}
    # B08 corrects its return: its lecture rows are replaced, B03's are as they were.
    b03_before = [r for r in rows if r["source_return"].startswith("B03")]
    first = by_branch["B08"][0]

    def correct(wb):
        grid, columns, places = _grid_places(wb)
        grid.cell(places[first], columns["ALL-W03-S1"]).value = "请假"

    corrected = set_saved_time(edit(shutil.copyfile(b08, tmp_path / "院机关支部_第3周(更正).xlsx"), correct),
                               SENT + timedelta(hours=2))
    assert main(["merge", str(home.root), str(corrected)]) == 0, capsys.readouterr().out
    rows = _lecture_rows(home)
    assert len(rows) == 64 and [r for r in rows if r["source_return"].startswith("B03")] == b03_before
    assert next(r for r in rows if r["member_id"] == first)["status"] == "excused"
    # A rebuild from the journal and archive/ reads the returns against the sessions as a merge does: the same rows.
    assert main(["rebuild", str(home.root)]) == 0, capsys.readouterr().out
    assert "不同" not in capsys.readouterr().out
    assert sorted(map(str, _lecture_rows(home))) == sorted(map(str, rows))
    # The flags and the dashboard count it once a member: his central sessions are one more than before it.
    facts = Facts(read_master(home.master), date(2005, 3, 30), load_schemas())
    assert sum(r["session_id"] == "ALL-W03-S1" for r in facts.attendance[first]) == 1


def test_a_college_session_removed_after_the_returns_went_out_is_said_and_not_recorded(fresh_demo, tmp_path, capsys):
    home = _college_week(fresh_demo, capsys)
    path = set_saved_time(filled_return(home, tmp_path / "院机关支部_第3周.xlsx"), SENT)
    tables = read_master(home.master)
    tables["sessions"] = [s for s in tables["sessions"] if s["session_id"] != "ALL-W03-S1"]  # the office deleted it
    sub = load_submission(path, tables)
    [gone] = [f for f in sub.findings if f.code == "college-session-gone"]
    assert gone.severity == "warning" and (gone.sheet, gone.cell) == ("出勤", "K1")
    assert gone.message() == "出勤 第1行 「ALL-W03-S1」：学院已从台账中删除或改动了这项全院活动，这一列登记的出勤不予记录，无需修改。"
    merged, [outcome] = merge(tables, [sub])
    assert outcome.result == "merged" and not [r for r in merged["attendance"] if r["session_id"] == "ALL-W03-S1"]


@pytest.mark.libreoffice
def test_a_college_sessions_column_is_checked_live_and_its_row_is_not_her_typing(fresh_demo, tmp_path, capsys,
                                                                                    recalculate):
    """In LibreOffice: the template with the lecture pre-filled is still 尚未填写; filled, 可以提交; its column left
    unmarked, a problem, as validation says (session-unmarked)."""
    home = _college_week(fresh_demo, capsys)
    untouched = shutil.copyfile(home.folder("outbox") / "院机关支部_第3周.xlsx", tmp_path / "untouched.xlsx")
    filled = filled_return(home, tmp_path / "filled.xlsx")

    def clear_lecture(wb):
        grid, columns, rows = _grid_places(wb)
        for row in rows.values():
            grid.cell(row, columns["ALL-W03-S1"]).value = None

    unmarked = edit(shutil.copyfile(filled, tmp_path / "unmarked.xlsx"), clear_lecture)
    assert [f.code for f in validate_path(unmarked).errors] == ["session-unmarked"]
    assert "empty-return" in [f.code for f in validate_path(untouched).errors]
    made = recalculate([untouched, filled, unmarked], tmp_path / "out")
    assert _area(made["untouched"])[0] == "尚未填写，填好后这里会显示检查结果。"
    assert _area(made["filled"])[:2] == ("可以提交", 0)
    assert _area(made["unmarked"])[:2] == ("还有 1 处问题，在：出勤。出错的单元格已标红，改正后再提交。", 1)


def test_a_member_who_did_not_miss_the_session_made_up_is_noted_at_his_cell(demo_home, tmp_path):
    """出席 at a 补学 session (S3 makes up S1) by a member who was present at S1: a 【提示】 at his S3 cell; the
    return still merges."""
    roster = _roster_ids(filled_return(demo_home, tmp_path / "peek.xlsx"))
    path, missed = _makeup_return(demo_home, tmp_path / "probe.xlsx")
    present = next(member for member in roster if member not in missed)
    path, _ = _makeup_return(demo_home, tmp_path / "extra.xlsx", marks={**dict.fromkeys(missed, "出席"), present: "出席"})
    [note] = validate_path(path).findings
    assert (note.code, note.sheet, note.row, note.column, note.severity) == \
        ("makeup-not-missed", "出勤", roster.index(present) + 2, "E", "warning")
    assert present in note.message() and "S1" in note.message()


def test_a_makeup_made_again_in_a_later_week_is_noted_at_its_cell(fresh_demo, tmp_path, capsys):
    """B08-W02-S1 made up in week 3's return, then again in week 4's: the merge notes it (【提示】, the row and
    column of 补学活动) and merges the return."""
    root = str(fresh_demo.root)
    absentee = _absentee(fresh_demo)
    path = _b08_with_absences(fresh_demo, tmp_path / "院机关支部_第3周.xlsx", absentee,
                              [(absentee, "补学：党章", "B08-W02-S1")])
    assert main(["merge", root, str(path)]) == 0
    assert "已经补学过" not in capsys.readouterr().out
    assert main(["returns", root, "--week", "4", "--branch", "B08"]) == 0
    # `returns` lists who missed each earlier session from the ledger: the absentee at week 3's S1 and S2.
    meta = {row[0]: row[1] for row in load_workbook(fresh_demo.folder("outbox") / "院机关支部_第4周.xlsx")["_元数据"]
            .iter_rows(values_only=True)}
    assert {session for session, members in missed_elsewhere(meta).items() if absentee in members} >= \
        {"b08-w03-s1", "b08-w03-s2"}
    week4 = filled_return(fresh_demo, tmp_path / "院机关支部_第4周.xlsx", name="院机关支部_第4周.xlsx")
    row = {}

    def again(wb):
        study = wb["自学"]
        row["at"] = next(r for r in range(2, 300) if study.cell(r, 1).value is None)
        for label, value in (("党员编号", absentee), ("日期", wb["学习活动"]["B2"].value), ("学时", 2),
                             ("学习内容", "补学：党章"), ("补学活动", "B08-W02-S1")):
            _set(study, row["at"], label, value)

    path = set_saved_time(edit(week4, again), SENT + timedelta(days=7))
    result = process(fresh_demo, incoming(fresh_demo, [path]))  # what `branchbook merge` and the service run
    [outcome], [sub] = result.outcomes, result.submissions
    assert outcome.result == "merged"
    [note] = [f for f in sub.findings if f.code == "makeup-again"]  # the reply to the return says it
    assert (note.sheet, note.row, note.column, note.severity) == ("自学", row["at"], "E", "warning")
    assert "已经补学过 B08-W02-S1（见周报表 B08-W03）" in note.message()


def test_makes_up_offers_a_drop_down_of_the_sessions_the_branch_may_make_up(demo_home):
    """补学活动 (学习活动 and 自学) lists this week's numbers and the earlier sessions the template knows, from the hidden
    `_元数据`; another typed is warned of, not stopped (a week merged since is not listed)."""
    book = load_workbook(demo_home.folder("outbox") / "院机关支部_第3周.xlsx")
    meta = book["_元数据"]
    target = book.defined_names["list_makeup"].attr_text
    assert target.startswith("'_元数据'!$F$1:$F$")
    offered = [c.value for c in meta["F"] if c.value]
    listed = earlier_listed({row[0]: row[1] for row in meta.iter_rows(values_only=True)})
    assert offered == [f"S{n}" for n in range(1, 9)] + list(listed.values())
    assert "B08-W02-S1" in offered and len(offered) == int(target.rsplit("$", 1)[1])
    for sheet in ("学习活动", "自学"):
        column = get_column_letter(_headers(book[sheet]).index("补学活动") + 1)
        [dv] = [dv for dv in book[sheet].data_validations.dataValidation if str(dv.sqref).startswith(column)]
        assert (dv.formula1, dv.errorStyle) == ("list_makeup", "warning")
