"""What the office and the secretaries read about received files, as the stranger read it: the service's log
for a correction and its original in one batch, rejection reports, `flags` and `rebuild`. Each through the
real commands (and the real service, with the rescan off), read from what they print and write."""
from __future__ import annotations

import shutil
import time
from datetime import datetime

from returns_factory import BRANCH_FILE, edit, filled_return, set_saved_time
from sync_helpers import FAST_SYNC, archived_names, pinned_home, wait_until

from branchbook.cli import main
from branchbook.demo.fill import Secretary
from branchbook.sync.logs import close_logging, configure_logging
from branchbook.sync.service import SyncService
from branchbook.workbook.home import Home

NO_RESCAN = {**FAST_SYNC, "rescan_seconds": 600.0}  # only the observer's events bring files in
ORIGINAL, CORRECTION = "院机关支部_第3周.xlsx", "院机关支部_第3周(更正).xlsx"


def _home(home: Home) -> Home:
    return Home(home.root, {**home.config, "sync": NO_RESCAN, "as_of": "2005-03-30"})


def test_the_log_says_the_original_was_replaced_by_the_correction_that_came_with_it(fresh_demo, tmp_path):
    home = _home(fresh_demo)
    original = set_saved_time(filled_return(home, tmp_path / "a.xlsx", seed=7), datetime(2005, 3, 27, 18, 0))
    correction = set_saved_time(filled_return(home, tmp_path / "b.xlsx", seed=8), datetime(2005, 3, 28, 9, 0))
    configure_logging(home)
    try:
        service = SyncService(home)
        service.start()
        try:
            inbox = home.folder("inbox")
            shutil.copyfile(correction, inbox / CORRECTION)  # the newer first: the order of arrival does not matter
            shutil.copyfile(original, inbox / ORIGINAL)
            wait_until(lambda: sorted(archived_names(home)) == sorted([ORIGINAL, CORRECTION]), 30, "both archived")
            time.sleep(0.5)
        finally:
            service.stop()
    finally:
        close_logging()
    log = (home.root / "logs" / "sync.log").read_text(encoding="utf-8").splitlines()
    said_of_original = [line for line in log if f" {ORIGINAL}：" in line]
    said_of_correction = [line for line in log if f" {CORRECTION}：" in line]
    assert len(said_of_original) == 1 and len(said_of_correction) == 1
    assert said_of_original[0].endswith(f"{ORIGINAL}：已被同批收到的较新版本 {CORRECTION} 取代，其数据未保留（文件已归档）")
    assert "已合并" not in said_of_original[0]
    assert f"{CORRECTION}：已合并，新增 " in said_of_correction[0]


def test_a_rejection_report_names_the_branch_and_does_not_repeat_forged_metadata(fresh_demo, tmp_path, capsys):
    home = fresh_demo
    bad = filled_return(home, tmp_path / "bad.xlsx", secretary=Secretary(diligence=1.0, mistakes=("bad-status",)))
    shutil.copyfile(bad, home.folder("inbox") / BRANCH_FILE)
    forged_name = "院机关支部_第1周.xlsx"

    def forge(wb):  # week 3's return edited to pass for week 1 (the seal no longer matches)
        for row in wb["_元数据"].iter_rows():
            if row[0].value == "week":
                row[1].value = 1

    forged = edit(filled_return(home, tmp_path / "forged.xlsx"), forge)
    shutil.copyfile(forged, home.folder("inbox") / forged_name)
    assert main(["merge", str(home.root)]) == 1
    capsys.readouterr()
    report = (home.folder("rejected") / f"{BRANCH_FILE}.错误报告.txt").read_text(encoding="utf-8").splitlines()
    assert "支部：院机关支部（B08）　周次：3" in report
    report = (home.folder("rejected") / f"{forged_name}.错误报告.txt").read_text(encoding="utf-8")
    assert "周次：1" not in report and "周次" in report and "B08" not in report
    assert "支部和周次：无法确认（记录它们的隐藏元数据被改动过，或无法核验），文件里写的支部和周次不可信" in report
    assert "被改动过" in report


def test_flags_word_an_empty_list_and_a_return_sent_back_for_two_reasons(fresh_demo, tmp_path, capsys):
    home = pinned_home(fresh_demo)  # received on the HOME's day, 2005-03-30
    assert main(["flags", str(home.root), "--as-of", "2005-03-01"]) == 0  # the campaign's first day: nothing yet
    assert capsys.readouterr().out.splitlines() == ["没有进度提醒：没有党员或支部落后。"]

    bad = filled_return(home, tmp_path / "bad.xlsx",
                        secretary=Secretary(diligence=1.0, mistakes=("date-outside-week", "bad-status")))
    shutil.copyfile(bad, home.folder("inbox") / BRANCH_FILE)
    assert main(["merge", str(home.root)]) == 1
    capsys.readouterr()
    assert main(["flags", str(home.root), "--as-of", "2005-03-30"]) == 0
    printed = capsys.readouterr().out
    line = next(line for line in printed.splitlines() if "[院机关支部]【督促】周报退回待更正" in line)
    assert "。，" not in printed
    assert "其他周的记录请填在那一周的周报表中。出勤 第" in line, line


def test_rebuild_words_a_result_that_changed(fresh_demo, tmp_path, capsys):
    home = fresh_demo
    shutil.copyfile(filled_return(home, tmp_path / "good.xlsx"), home.folder("inbox") / BRANCH_FILE)
    assert main(["merge", str(home.root)]) == 0
    archived = next(path for path in home.folder("archive").iterdir() if path.name.endswith("__" + BRANCH_FILE))
    archived.write_bytes(b"not a workbook any more")  # the archived copy damaged: its replay is sent back
    capsys.readouterr()
    assert main(["rebuild", str(home.root)]) == 1
    printed = capsys.readouterr().out
    assert f"{BRANCH_FILE}：原为 已合并，重放为 退回" in printed
    assert "merged" not in printed and "rejected" not in printed


def test_a_duplicate_is_logged_as_a_duplicate_only_not_with_the_notes_of_its_first_merge(fresh_demo, tmp_path, caplog):
    from branchbook.sync.pipeline import incoming, process

    home = _home(fresh_demo)
    sent = edit(filled_return(home, tmp_path / "院机关支部_第3周.xlsx"), lambda wb: wb["自学"].__setitem__("B2", "3月22日"))
    with caplog.at_level("INFO", logger="branchbook.sync"):
        for _ in range(2):
            shutil.copyfile(sent, home.folder("inbox") / sent.name)
            process(home, incoming(home))
    first, again = [record.getMessage() for record in caplog.records if sent.name in record.getMessage()]
    assert "请留意" in first and "没有写年份" in first
    assert again == f"{sent.name}：重复（已合并过，未作改动）"


def test_a_rejected_return_moves_to_corrected_once_its_correction_is_merged(fresh_demo, tmp_path, caplog):
    from branchbook.sync.pipeline import incoming, process
    from branchbook.workbook.names import marked_copy, report_suffix

    home = _home(fresh_demo)
    rejected = home.folder("rejected")
    bad = edit(filled_return(home, home.folder("inbox") / ORIGINAL), lambda wb: wb["自学"].__setitem__("C2", 30))
    other = edit(filled_return(home, home.folder("inbox") / "生医教工党支部_第3周.xlsx", name="生医教工党支部_第3周.xlsx",
                               seed=3), lambda wb: wb["自学"].__setitem__("C2", 30))
    assert [o.result for o in process(home, incoming(home)).outcomes] == ["rejected", "rejected"]
    sent_back = rejected / bad.name
    beside = [sent_back.with_name(sent_back.name + report_suffix("zh")), marked_copy(sent_back, "zh")]
    assert sent_back.exists() and all(path.exists() for path in beside)
    filled_return(home, home.folder("inbox") / CORRECTION, seed=8)
    with caplog.at_level("INFO", logger="branchbook.sync"):
        assert [o.result for o in process(home, incoming(home)).outcomes] == ["merged"]
    corrected = rejected / "已更正"
    assert not sent_back.exists() and not any(path.exists() for path in beside)
    assert sorted(path.name for path in corrected.iterdir()) == sorted([sent_back.name, *(p.name for p in beside)])
    assert (rejected / other.name).exists()  # another branch's return still waits for its correction
    assert f"{ORIGINAL} 已由合并的更正（院机关支部 第3周）取代，已移到 rejected/已更正/" in caplog.text


def test_a_correction_is_merged_even_when_the_rejected_file_cannot_be_set_aside(fresh_demo, caplog):
    """Setting aside is tidying after the commit: a folder it cannot make costs a warning, never the merge."""
    from branchbook.sync.pipeline import incoming, process

    home = _home(fresh_demo)
    edit(filled_return(home, home.folder("inbox") / ORIGINAL), lambda wb: wb["自学"].__setitem__("C2", 30))
    assert [o.result for o in process(home, incoming(home)).outcomes] == ["rejected"]
    (home.folder("rejected") / "已更正").write_text("a file where the folder would go", encoding="utf-8")
    filled_return(home, home.folder("inbox") / CORRECTION, seed=8)
    with caplog.at_level("INFO", logger="branchbook.sync"):
        result = process(home, incoming(home))
    assert [o.result for o in result.outcomes] == ["merged"] and result.committed
    assert (home.folder("rejected") / ORIGINAL).exists()  # left where it was
    assert "已更正的退回文件未能移入“已更正”文件夹" in caplog.text
