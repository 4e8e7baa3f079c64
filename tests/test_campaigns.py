"""A campaign is data, and a HOME runs one after another (docs/design.md, "Campaigns"): the closed campaign is kept
whole and still reported, the next starts from the roster with only its own returns, a return of the closed one is
refused naming it, and the switch is refused while anything else is writing."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from filelock import FileLock
from openpyxl import load_workbook
from returns_factory import BRANCH_FILE, edit, filled_return
from sync_helpers import FAST_SYNC, kill_at, settled

from branchbook.cli import Exit, main
from branchbook.demo.fill import Secretary, fill_return
from branchbook.sync.export import current_flags
from branchbook.sync.service import SyncService
from branchbook.sync.status import LOCK_NAME
from branchbook.sync.writer import SWITCH_NAME, writing
from branchbook.workbook.books import open_ledger
from branchbook.workbook.campaign_definition import CAMPAIGN_FILE, load_definition, packaged_definition
from branchbook.workbook.errors import UserError
from branchbook.workbook.home import CONFIG_NAME, Home
from branchbook.workbook.master import read_master
from branchbook.workbook.office import make_returns
from branchbook.workbook.reports.dashboard import SHEET_NAME

CAMPAIGN_CODES = {"meta-earlier-campaign"}  # the finding codes this suite covers (test_validation)
FIRST = packaged_definition().title("zh")  # the demo runs the packaged campaign
NEXT, START = "2006年保持共产党员先进性教育活动", date(2006, 3, 6)
LEAVER, MOVER = "M0240", "M0001"  # 院机关支部 (B08) lists 陈强国 no more; 邓静 moves there from B01


def _cli(*argv) -> subprocess.CompletedProcess:
    """The command as the office runs it: its own process."""
    return subprocess.run([sys.executable, "-m", "branchbook", *map(str, argv)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "BRANCHBOOK_LANG": "zh"})


def _live_on(root: Path, day: date, **settings) -> Home:
    config = yaml.safe_load((root / CONFIG_NAME).read_text(encoding="utf-8"))
    (root / CONFIG_NAME).write_text(yaml.safe_dump({**config, "as_of": day.isoformat(), **settings},
                                                   allow_unicode=True), encoding="utf-8")
    return Home.open(root)


def _state(root: Path) -> dict:
    """Everything a closed campaign is read by: its ledger's rows (receipts and flags included), its journal, its
    archive, its flags as reported, its master's records and dashboard."""
    home = Home.open(root)
    with open_ledger(home) as ledger:
        tables = ledger.tables()
    dashboard = load_workbook(home.master, read_only=True)[SHEET_NAME["zh"]]
    return {"tables": tables,
            "journal": hashlib.sha256((root / "ledger-journal.jsonl").read_bytes()).hexdigest(),
            "archive": sorted(path.name for path in (root / "archive").iterdir()),
            "flags": [flag.row("zh") for flag in current_flags(home, home.as_of)],
            "master": read_master(home.master),
            "dashboard": [list(row) for row in dashboard.iter_rows(values_only=True)]}


def _roster_change(home: Home, tmp_path: Path) -> None:
    """The office's re-import of 院机关支部: one member has left, one has moved in from another branch."""
    with open_ledger(home) as ledger:
        members = {m["member_id"]: m for m in ledger.tables(("members",))["members"]}
    listed = [m for m in members.values() if m["branch_id"] == "B08" and m["member_id"] != LEAVER] + [members[MOVER]]
    roster = tmp_path / "院机关支部名单.csv"
    roster.write_text("党员编号,姓名,支部编号\n" + "".join(f"{m['member_id']},{m['name']},B08\n" for m in listed),
                      encoding="utf-8")
    assert main(["import", str(home.root), str(roster)]) == Exit.OK


def _filled(home: Home, week: int, folder: Path, seed: int = 5) -> Path:
    template = make_returns(home, week, ["B08"])["B08"]
    target = folder / f"week{week}_{template.name}"
    shutil.copyfile(template, target)
    fill_return(target, Secretary(diligence=1.0), seed=seed)
    return target


def test_a_second_campaign_keeps_the_first_intact_and_reported(fresh_demo, tmp_path, capsys):
    root = fresh_demo.root
    first = _live_on(root, date(2005, 3, 30))  # the demo's day, as `branchbook demo` pins it
    _roster_change(first, tmp_path)
    before = _state(root)
    with open_ledger(first) as ledger:
        roster = ledger.tables(("committee", "branches", "members"))
        last_end = max(phase["end"] for phase in ledger.tables(("phases",))["phases"])

    done = _cli("campaign", "new", root, "--name", NEXT, "--start", START)
    assert done.returncode == 0, done.stderr
    kept = root / "campaigns" / FIRST
    assert f"「{FIRST}」已结束，原样保存在 {kept}" in done.stdout and f"「{NEXT}」从 2006-03-06 开始" in done.stdout
    assert "早于新一期活动的开始日期" in done.stdout  # the demo's pinned day is said, not silently kept
    # Closed on 3/30, before its last phase ends: warned, not refused.
    assert (f"注意：「{FIRST}」尚未结束：最后一个阶段到 {last_end.isoformat()} 为止，本工作文件夹的日期是 2005-03-30"
            in done.stdout), done.stdout

    # The first campaign: the same rows, receipts, flags, journal, archive, master and dashboard, read as before.
    assert _state(kept) == before
    capsys.readouterr()
    assert main(["flags", str(root), "--campaign", FIRST, "--json"]) == Exit.OK
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(before["flags"], ensure_ascii=False, default=str))
    for command in ("merge", "returns", "remind", "export", "rebuild"):  # kept as it was: read, never changed
        assert main([command, str(kept)]) == Exit.UNUSABLE, command
        assert f"是往期活动「{FIRST}」" in capsys.readouterr().err

    # The second: the roster as the office left it (the leaver gone, the mover in his new branch from the start),
    # the packaged phases from its start, no records.
    home = _live_on(root, date(2006, 3, 15))
    assert home.campaign.title("zh") == NEXT
    with open_ledger(home) as ledger:
        tables = ledger.tables()
    assert tables["committee"] == roster["committee"] and tables["branches"] == roster["branches"]
    members = {m["member_id"]: m for m in tables["members"]}
    assert set(members) == {m["member_id"] for m in roster["members"]} - {LEAVER}
    assert (members[MOVER]["branch_id"], members[MOVER]["from_branch"], members[MOVER]["joined"]) == ("B08", None, None)
    assert [(p["phase_id"], p["start"], p["end"]) for p in tables["phases"]] == [
        (p["phase_id"], p["start"], p["end"]) for p in packaged_definition().phase_rows(START, "zh")]
    assert not any(tables[key] for key in ("sessions", "attendance", "selfstudy", "returns", "flags"))

    # A return of the second is merged; one of the first, sent afterwards, is refused naming its campaign.
    first_return = filled_return(Home.open(kept), tmp_path / "上一期_院机关支部_第3周.xlsx", name=BRANCH_FILE)
    week1 = _filled(home, 1, tmp_path)
    assert main(["merge", str(root), str(week1)]) == Exit.OK
    capsys.readouterr()
    assert main(["merge", str(root), str(first_return)]) == Exit.FINDINGS
    said = capsys.readouterr().out
    assert f"这份周报表属于已经结束的上一期活动「{FIRST}」" in said
    # Its report says whose week it is (the earlier campaign's), not that its metadata was tampered with, and
    # promises no red cells: the finding is in none.
    [report] = [path.read_text(encoding="utf-8") for path in home.folder("rejected").iterdir()
                if path.name.endswith("错误报告.txt")]
    assert f"支部和周次：院机关支部，已经结束的上一期活动「{FIRST}」的第3周" in report, report
    assert "无法确认" not in report and "标红" not in report
    with open_ledger(home) as ledger:
        receipts = ledger.tables(("returns",))["returns"]
        attendance = ledger.tables(("attendance",))["attendance"]
    # Its receipt names no week: week 3 of the earlier campaign is not this campaign's week 3 sent back.
    assert [(r["week"], r["branch_id"], r["result"]) for r in receipts] == [(1, "B08", "merged"), (None, "B08", "rejected")]
    assert main(["flags", str(root), "--as-of", "2006-03-30", "--json"]) == Exit.OK
    assert not [f for f in json.loads(capsys.readouterr().out) if f["code"] == "return-rejected"]
    merged = receipts[0]["return_id"]
    assert attendance and all(row["source_return"].startswith(merged) for row in attendance)
    assert [path.name.split("__", 1)[1] for path in home.folder("archive").glob("*.xlsx")] == [week1.name]
    assert _state(kept) == before  # nothing of the second touched the first

    # The new campaign's ledger is rebuilt from its own journal, and its backups restore.
    assert main(["rebuild", str(root)]) == Exit.OK
    assert "完全一致" in capsys.readouterr().out
    backups = sorted(path.name for path in home.folder("backups").glob("ledger-*.sqlite"))
    assert backups and main(["restore", str(root), backups[-1]]) == Exit.OK

    # The service, started again, runs the new campaign: a week-2 return dropped in its inbox is merged there.
    home = _live_on(root, date(2006, 3, 22), sync=FAST_SYNC)
    week2 = _filled(home, 2, tmp_path, seed=6)
    service = SyncService(home)
    service.start()
    try:
        shutil.copyfile(week2, home.folder("inbox") / week2.name)
        settled(home)
    finally:
        service.stop()
    with open_ledger(home) as ledger:
        weeks = sorted(r["week"] for r in ledger.tables(("returns",))["returns"] if r["result"] == "merged")
    assert weeks == [1, 2]
    assert _state(kept) == before


def _new_ledger(root: Path) -> dict:
    """The new campaign's records: its journal's first entry aside (it says when), as the switch left them."""
    with open_ledger(Home.open(root)) as ledger:
        return ledger.tables()


@pytest.fixture(scope="module")
def uninterrupted(demo_home, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("switch") / "home"
    shutil.copytree(demo_home.root, root)
    assert _cli("campaign", "new", root, "--name", NEXT, "--start", START).returncode == 0
    return _new_ledger(root)


# Where a switch is killed: before its intent is on disk, then after each kind of step.
KILL_POINTS = ["campaign-before-intent", "campaign-intent", "campaign-moved-ledger.sqlite", "campaign-moved-archive",
               "campaign-defined", "campaign-started"]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_switch_killed_at_any_step_is_finished_by_the_next_command(fresh_demo, uninterrupted, tmp_path, point,
                                                                     capsys):
    root = fresh_demo.root
    _live_on(root, date(2005, 3, 30))  # the demo's day, as `branchbook demo` pins it
    assert main(["export", str(root)]) == Exit.OK  # as the switch does first: the master as the ledger has it
    before = _state(root)
    log = tmp_path / "switch.log"
    with log.open("w") as out:
        switch = subprocess.Popen([sys.executable, "-m", "branchbook", "campaign", "new", str(root), "--name", NEXT,
                                   "--start", START.isoformat()], stdout=out, stderr=subprocess.STDOUT,
                                  env={**os.environ, "BRANCHBOOK_LANG": "zh", "BRANCHBOOK_PAUSE_AT": f"{point}:60"})
        kill_at(switch, log, point)
    kept = root / "campaigns" / FIRST
    if point == "campaign-before-intent":  # nothing moved: the first campaign is whole in HOME and goes on
        assert not (root / ".branchbook" / SWITCH_NAME).exists() and not kept.exists()
        assert _state(root) == before
        assert main(["flags", str(root), "--json"]) == Exit.OK
        assert main(["campaign", "new", str(root), "--name", NEXT, "--start", START.isoformat()]) == Exit.OK
    else:
        assert (root / ".branchbook" / SWITCH_NAME).is_file()
        capsys.readouterr()
        if point == "campaign-moved-archive":  # the office runs the same command again
            assert main(["campaign", "new", str(root), "--name", NEXT, "--start", START.isoformat()]) == Exit.OK
            assert f"「{FIRST}」已结束，原样保存在 {kept}" in capsys.readouterr().out
        else:  # or any other: it finishes the switch first, then does its own work
            assert main(["flags", str(root), "--campaign", FIRST, "--json"]) == Exit.OK
            out, err = capsys.readouterr()
            assert json.loads(out) == json.loads(json.dumps(before["flags"], ensure_ascii=False, default=str))
            assert f"从「{FIRST}」切换到「{NEXT}」时程序被中断：现已完成" in err
    assert not (root / ".branchbook" / SWITCH_NAME).exists()
    assert _state(kept) == before  # the first campaign's rows, receipts, journal, archive, flags and master, whole
    assert _new_ledger(root) == uninterrupted  # the second as an uninterrupted switch starts it
    assert Home.open(root).campaign.title("zh") == NEXT and not list((root / "archive").iterdir())
    week1 = _filled(_live_on(root, date(2006, 3, 15)), 1, tmp_path)
    assert main(["merge", str(root), str(week1)]) == Exit.OK  # and the next campaign's work goes on


def test_the_university_rolls_up_a_colleges_earlier_campaign_by_its_name(fresh_demo, tmp_path, capsys):
    root = fresh_demo.root
    _live_on(root, date(2005, 3, 30))

    def rolled(*argv) -> dict:
        capsys.readouterr()
        assert main(["rollup", str(tmp_path / "全校汇总.xlsx"), str(root), *argv, "--json"]) == Exit.OK
        [college] = json.loads(capsys.readouterr().out)["colleges"]
        return {key: college[key] for key in ("college", "as_of", "week", "branches", "members", "returns_received",
                                              "flags")}
    assert main(["export", str(root)]) == Exit.OK  # as the switch does first: the master with the day's flags
    before = rolled()
    assert before["flags"] and before["members"]
    assert main(["campaign", "new", str(root), "--name", NEXT, "--start", START.isoformat()]) == Exit.OK
    assert rolled("--campaign", FIRST) == before  # named by its college, its figures as they were
    now = rolled("--campaign", NEXT)
    assert now["college"] == before["college"] and now["returns_received"] == 0 and now == rolled()
    capsys.readouterr()
    assert main(["rollup", str(tmp_path / "全校汇总.xlsx"), str(root), "--campaign", "2004年某活动"]) == Exit.UNUSABLE
    assert f"没有名为「2004年某活动」的往期活动；已有：{FIRST}" in capsys.readouterr().err


def test_the_switch_is_refused_while_the_service_runs_a_writer_works_or_returns_wait(fresh_demo):
    root = fresh_demo.root

    def records() -> dict:  # the flags sheet aside: any export, refused or not, keeps the flags of the day
        with open_ledger(fresh_demo) as ledger:
            return {key: rows for key, rows in ledger.tables().items() if key != "flags"}
    before = records()

    def refused(expected: str) -> None:
        done = _cli("campaign", "new", root, "--name", NEXT, "--start", START)
        assert done.returncode == Exit.UNUSABLE and expected in done.stderr and "Traceback" not in done.stderr
        assert not (root / "campaigns").exists() and records() == before

    service_lock = FileLock(str(root / LOCK_NAME))
    with service_lock:  # `serve` holds it for as long as it runs
        refused("的同步服务正在运行：请先停止它")
    with writing(fresh_demo, "merge"):
        refused("正在写")
    waiting = fresh_demo.folder("inbox") / "院机关支部_第4周.xlsx"
    waiting.write_bytes(b"PK")
    refused("还有 1 个文件等待处理（院机关支部_第4周.xlsx）")
    waiting.unlink()
    master_bytes = fresh_demo.master.read_bytes()

    def wrong_hours(wb):
        sheet = wb["学习活动"]
        column = [cell.value for cell in sheet[1]].index("学时") + 1
        sheet.cell(row=2, column=column, value="三个小时")
    edit(fresh_demo.master, wrong_hours)  # the office's edit BranchBook cannot take in
    refused("master.xlsx 还不能和台账数据库一致")
    fresh_demo.master.write_bytes(master_bytes)
    same = _cli("campaign", "new", root, "--name", FIRST, "--start", START)
    assert same.returncode == Exit.UNUSABLE and "新一期活动要有自己的名称" in same.stderr


CUSTOM = {"name": "2006年学习实践活动",
          "phases": [{"name": "学习调研", "weeks": 2, "target_hours": 200}, {"name": "整改落实", "weeks": 3}],
          "rules": {"thresholds": {"attendance_min_sessions": 1, "attendance_rate_min": 0.99}}}


def _second_campaign(root: Path, tmp_path: Path, definition: dict | None) -> tuple[Home, list]:
    tmp_path.mkdir()
    argv = ["campaign", "new", str(root), "--start", START.isoformat()]
    if definition:
        (tmp_path / CAMPAIGN_FILE).write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
        argv += ["--definition", str(tmp_path / CAMPAIGN_FILE)]
    else:
        argv += ["--name", NEXT]
    assert main(argv) == Exit.OK
    home = _live_on(root, date(2006, 3, 15))
    assert main(["merge", str(root), str(_filled(home, 1, tmp_path))]) == Exit.OK
    return home, current_flags(home, home.as_of)


def test_a_campaign_of_its_own_changes_the_phases_the_titles_and_the_flags(fresh_demo, demo_home, tmp_path):
    plain_root = tmp_path / "plain"
    shutil.copytree(demo_home.root, plain_root)
    plain, plain_flags = _second_campaign(plain_root, tmp_path / "p", None)
    custom, custom_flags = _second_campaign(fresh_demo.root, tmp_path / "c", CUSTOM)

    assert custom.campaign.title("zh") == CUSTOM["name"] and (custom.root / CAMPAIGN_FILE).is_file()
    with open_ledger(custom) as ledger:
        phases = ledger.tables(("phases",))["phases"]
    assert [(p["name"], p["start"], p["end"], p["target_hours"]) for p in phases] == [
        ("学习调研", date(2006, 3, 6), date(2006, 3, 19), 200), ("整改落实", date(2006, 3, 20), date(2006, 4, 9), None)]

    def hours(flags):
        return {f.subject_id: f.values for f in flags if f.rule == "study-hours"}

    def attendance(flags):
        return {f.subject_id: f.values for f in flags if f.rule == "attendance-rate"}

    # Its phase's target: 200 hours in two weeks, half of them due by the end of week 1, where the packaged
    # campaign's phase 1 asks 40 in seven. Every member measured falls behind it.
    assert hours(custom_flags) and all(v["target"] == 200 and v["expected"] == 100 for v in hours(custom_flags).values())
    assert all(v["target"] == 40 for v in hours(plain_flags).values())
    assert set(hours(plain_flags)) < set(hours(custom_flags))
    # Its thresholds: the attendance rate counts from the first central session and must be 99 %.
    with open_ledger(custom) as ledger:
        absent = {row["member_id"] for row in ledger.tables(("attendance",))["attendance"] if row["status"] == "absent"}
    assert absent and set(attendance(custom_flags)) <= absent and attendance(custom_flags)
    assert all(v["minimum"] == 0.99 for v in attendance(custom_flags).values()) and not attendance(plain_flags)

    # Its name where the office and the secretaries read it: the return's guide, the master's dashboard and 说明.
    guide = load_workbook(make_returns(custom, 2, ["B08"])["B08"], read_only=True).worksheets[0]
    assert any(str(row[0] or "").startswith(CUSTOM["name"]) for row in guide.iter_rows(max_row=40, values_only=True))
    master = load_workbook(custom.master, read_only=True)
    assert str(next(master[SHEET_NAME["zh"]].iter_rows(values_only=True))[0]).startswith(CUSTOM["name"] + "进度看板")
    assert next(master["说明"].iter_rows(values_only=True))[0] == f"BranchBook {CUSTOM['name']}台账"


def test_the_docs_example_is_a_valid_campaign_and_a_wrong_one_is_named():
    docs = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```yaml campaign.yaml\n(.*?)```", docs, re.DOTALL)
    campaign = load_definition(yaml.safe_load(example), CAMPAIGN_FILE)
    assert [(p["phase_id"], p["end"], p["target_hours"]) for p in campaign.phase_rows(START, "zh")] == [
        ("P1", date(2006, 3, 19), 12), ("P2", date(2006, 4, 9), None)]
    for change, said in (({"phases": [{"name": "学习调研", "weeks": 0}]}, "phases.1.weeks 的值“0”不对"),
                         ({"rules": {"thresholds": {"hours_tolerence": 3}}}, "是否应为 hours_tolerance？")):
        with pytest.raises(UserError) as refused:
            load_definition({**yaml.safe_load(example), **change}, CAMPAIGN_FILE)
        assert refused.value.message("zh").startswith("campaign.yaml 中的") and said in refused.value.message("zh")


def test_the_phases_sheet_counts_and_where_it_differs_from_the_definition_is_said(tmp_path, capsys):
    root = tmp_path / "台账"
    root.mkdir()
    (root / CAMPAIGN_FILE).write_text(yaml.safe_dump(CUSTOM, allow_unicode=True), encoding="utf-8")
    assert main(["init", str(root), "--start", "2006-03-06"]) == Exit.OK
    assert "「2006年学习实践活动」的各阶段从 2006-03-06 开始" in capsys.readouterr().out
    phases = tmp_path / "阶段.csv"
    phases.write_text("阶段编号,阶段名称,开始日期,结束日期,目标学时\nP1,学习调研,2006-03-06,2006-03-19,16\n"
                      "P2,整改落实,2006-03-20,2006-04-09,\nP3,总结,2006-04-10,2006-04-16,\n", encoding="utf-8")
    assert main(["import", str(root), str(phases)]) == Exit.OK
    said = capsys.readouterr().out
    assert f"“阶段”表有 3 个阶段，活动定义（{root / CAMPAIGN_FILE}）有 2 个：以“阶段”表为准" in said
    assert "第1阶段：“阶段”表中是「学习调研」（目标学时 16），活动定义中是「学习调研」（目标学时 200）" in said
    with open_ledger(Home.open(root)) as ledger:
        assert [p["target_hours"] for p in ledger.tables(("phases",))["phases"]] == [16, None, None]
    # A rule naming a phase by its ordinal that the phases sheet lacks flags nobody, and is said so.
    (root / CAMPAIGN_FILE).write_text(yaml.safe_dump({**CUSTOM, "rules": {"thresholds": {"analysis_phase": 4}}},
                                                     allow_unicode=True), encoding="utf-8")
    assert main(["campaign", "list", str(root)]) == Exit.OK
    said = capsys.readouterr().out
    assert "规则 thresholds.analysis_phase 指的是第4阶段，“阶段”表中没有这个阶段：它不会产生任何提醒。" in said
    assert "opinions_due_phase" not in said


def test_a_missing_home_or_start_is_said_without_a_traceback(tmp_path, capsys):
    missing = tmp_path / "没有这个文件夹"
    for argv in (["list", missing], ["new", missing, "--start", "2006-03-06"]):
        assert main(["campaign", *map(str, argv)]) == Exit.UNUSABLE
        _, err = capsys.readouterr()
        assert "不是 BranchBook 工作文件夹" in err and "Traceback" not in err
    home = tmp_path / "台账"
    assert main(["init", str(home)]) == Exit.OK
    for argv, said in ((["new", home], "请给出新一期活动的开始日期"), (["new", home, "--start", "3月6日"], "3月6日")):
        capsys.readouterr()
        assert main(["campaign", *map(str, argv)]) == Exit.UNUSABLE
        assert said in capsys.readouterr().err
