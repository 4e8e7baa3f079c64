"""The fault suite of intake: hostile or strange received files, each beside valid returns, on real
files through the real pipeline and the real service (watchdog observer, rescan out of reach). Each
ends with the valid returns merged, the bad one in rejected/ with its report, nothing left in .work/,
and the service still answering (docs/design.md, "Reading received files")."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from returns_factory import BRANCH_FILE, edit, filled_return
from sync_helpers import FAST_SYNC, archived_names, filled_returns, inbox_names, master_current, wait_until

from branchbook.sync.pipeline import incoming, process
from branchbook.sync.service import SyncService
from branchbook.sync.status import heartbeat_of
from branchbook.workbook.home import CONFIG_NAME, Home
from branchbook.workbook.isolation import IsolatedReader, ReaderFailed, ReaderLimits
from branchbook.workbook.master import read_master
from branchbook.workbook.names import NAME_BYTES, report_suffix, stored_name
from branchbook.workbook.seal import KEY_NAME, home_seal
from branchbook.workbook.validation import validate_path

# The finding codes this suite covers (test_validation checks every code has a case somewhere).
FAULT_CODES = {"text-cleaned", "text-too-long", "meta-forged", "meta-foreign", "meta-unsealed",
               "meta-unsealed-accepted"}
NO_RESCAN = {**FAST_SYNC, "rescan_seconds": 3600.0}  # only the observer's events bring files in
CLASS_NAME = re.compile(r"[A-Z][a-z]+[A-Z]\w*|Error|Exception")  # a library's words never reach a secretary


def _home(home: Home, **intake) -> Home:
    config = {**home.config, "sync": NO_RESCAN, "as_of": "2005-03-30", "intake": intake}
    (home.root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return Home.open(home.root)


def _patched(path: Path, old: bytes, new: bytes) -> Path:
    """The workbook with `old` replaced by `new` in its XML, as another program might have written it."""
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info.filename)) for info in source.infolist()]
    assert any(old in data for _, data in parts), old
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            target.writestr(info, data.replace(old, new))
    return path


def _far_cell(home, target):
    return edit(filled_return(home, target), lambda wb: wb["自学"].__setitem__("XFD1048576", "远"))


def _control_characters(home, target):
    path = edit(filled_return(home, target), lambda wb: wb["学习活动"].__setitem__("D2", "CTRLMARK"))
    # Excel's own escapes: a line break pasted from Word, a bell, a lone surrogate.
    return _patched(path, b"CTRLMARK", "第一行_x000B_第二行_x0007_末_xD800_尾".encode())


def _set_meta(key, value):
    def change(wb):
        for row in wb["_元数据"].iter_rows():
            if row[0].value == key:
                row[1].value = value
    return change


def _rejected_with_report(home, name: str, lang: str = "zh") -> str:
    target = home.folder("rejected") / stored_name(name)
    assert target.exists(), sorted(p.name for p in home.folder("rejected").iterdir())
    return target.with_name(target.name + report_suffix(lang)).read_text(encoding="utf-8")


def _receipts(home) -> dict[str, dict]:
    return {r["file_name"]: r for r in read_master(home.master)["returns"] if r.get("sha256")}


def _nothing_at_work(home) -> bool:
    work = home.root / ".work"
    return not work.exists() or not any(work.iterdir())


# -- through the pipeline, one case each ----------------------------------------------------------------

def test_a_far_away_cell_is_refused_before_calamine_and_the_others_merge(fresh_demo, tmp_path):
    home = _home(fresh_demo)
    [valid] = filled_returns(home, tmp_path / "ok", weeks=(4,), branch_ids=["B01"])
    shutil.copyfile(valid, home.folder("inbox") / valid.name)
    _far_cell(home, home.folder("inbox") / "远处一格.xlsx")
    result = process(home, incoming(home))
    assert sorted(o.result for o in result.outcomes) == ["merged", "rejected"]
    report = _rejected_with_report(home, "远处一格.xlsx")
    assert "XFD1048576" in report and "自学" in report and "Error" not in report
    assert "标注" not in report and "标红" not in report  # no marked copy of an unreadable file is promised (none is made)
    assert not list(home.folder("rejected").glob("*标注*")) and _nothing_at_work(home)
    assert archived_names(home) == [valid.name]


def test_a_far_away_cell_on_the_guide_is_no_hazard_its_reach_is_judged_only_if_it_is_read(fresh_demo, tmp_path):
    """The guide (填表说明: its 填报检查 formulas, most of a return's XML) is never given to calamine, so its cells'
    reach is not scanned and a far cell there does not stop the return (docs/design.md, "Reading received
    files"); read after all, it is judged first and refused, never parsed."""
    from branchbook.workbook import fastread
    from branchbook.workbook.safe_open import UnreadableFile

    home = _home(fresh_demo)
    [valid] = filled_returns(home, tmp_path / "ok", weeks=(4,), branch_ids=["B01"])
    far = edit(Path(shutil.copyfile(valid, tmp_path / "guide.xlsx")), lambda wb: wb["填表说明"].__setitem__("XFD1048576", "远"))
    shutil.copyfile(far, home.folder("inbox") / valid.name)
    # The secretary's own check says what the service will do: no problem.
    assert subprocess.run([sys.executable, "-m", "branchbook", "validate", str(far)], capture_output=True).returncode == 0
    [outcome] = process(home, incoming(home)).outcomes
    assert outcome.result == "merged", _rejected_with_report(home, valid.name)
    guide = next(sheet for sheet in fastread.open_sheets(far, skip=["填表说明"]) if sheet.title == "填表说明")
    with pytest.raises(UnreadableFile) as refused:
        list(guide.iter_rows())
    assert refused.value.kind == "too-far" and "XFD1048576" in refused.value.message("zh")
    with pytest.raises(UnreadableFile) as scanned:  # not skipped: scanned before calamine, as every sheet was
        fastread.open_sheets(far)
    assert scanned.value.kind == "too-far"


def test_the_reach_of_a_sheet_is_read_from_its_xml_whatever_its_references():
    import io

    from branchbook.workbook.extent import MAX_SHEET_CELLS, cells_reach

    def reach(body: bytes):
        return cells_reach(io.BytesIO(b"<worksheet><sheetData>" + body + b"</sheetData></worksheet>"))

    assert reach(b'<row r="3"><c r="B3"><v>1</v></c></row>').cells <= 9_999 * 26  # a return's sheet: near
    far = reach(b'<row r="1"><c r="A1"/></row><row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row>')
    assert (far.rows, far.columns, far.last_cell) == (1_048_576, 16_384, "XFD1048576")
    # Cells without a reference take the next column: 16,384 of them reach XFD however they are written.
    unreferenced = reach(b'<row r="700"><c r="A700"/>' + b"<c><v>1</v></c>" * 16_383 + b"</row>")
    assert unreferenced.columns >= 16_384 and unreferenced.rows >= 700
    assert reach(b'<row r="1048576"><c r="A1048576"/></row>' + b'<row r="1"><c r="ZZ1"/></row>').cells > MAX_SHEET_CELLS
    # Found after any blank, not only a space (a hand-made file may use tabs or line breaks between attributes).
    assert reach(b'<row\tr="1048576"><c\nr="XFD1048576"/></row>').cells > MAX_SHEET_CELLS


def test_the_references_found_are_those_after_a_blank_as_the_two_patterns_find_them():
    """references_in searches the literal r=" and looks at the byte before: the same references as the patterns
    that start with the blank (\\s), on text made of the characters that matter, in every arrangement tried."""
    import random
    import re

    from branchbook.workbook.extent import references_in

    cells, rows = re.compile(rb'\sr="([A-Z]{1,4})[0-9]'), re.compile(rb'\sr="[A-Z]{0,4}([0-9]{1,8})"')
    pieces = [b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"r=\"", b"A", b"XFD", b"ABCDE", b"1", b"123456789",
              b"\"", b"<c", b"s", b"x", b">"]
    chance = random.Random(9)
    for _ in range(3_000):
        text = b"".join(chance.choice(pieces) for _ in range(chance.randint(0, 30)))
        assert references_in(text) == (cells.findall(text), rows.findall(text)), text
    text = b'<row r="7" spans="1:3"><c r="AB7" s="1"><f>A1&amp;" r=\\"Z9\\""</f></c><c sqr="ZZZ99"/></row>'
    assert references_in(text) == ([b"AB"], [b"7", b"7"])


def test_a_reader_that_aborts_takes_down_its_child_only():
    # The safety net under the reach check: calamine itself on a far cell aborts the process it runs in.
    import faulty_readers

    path = Path(__file__).parent / "data" / "far-cell.xlsx"
    with IsolatedReader(ReaderLimits(memory_mb=1024, seconds=60)) as reader:
        with pytest.raises(ReaderFailed) as failed:
            reader.run(faulty_readers.calamine_all, str(path))
        assert failed.value.kind in ("crash", "memory")
        assert reader.run(faulty_readers.echo, "next") == "next"  # a fresh child reads the next file
        with pytest.raises(ReaderFailed) as failed:
            reader.run(faulty_readers.allocate, 3 * 2**30)
        assert failed.value.kind == "memory"
    with IsolatedReader(ReaderLimits(memory_mb=None, seconds=0.5)) as reader:
        with pytest.raises(ReaderFailed) as failed:
            reader.run(faulty_readers.sleep, 30)
        assert failed.value.kind == "timeout"


def test_a_burst_is_read_by_one_child_per_core_and_a_failure_is_its_files_alone():
    """read_in_children: each child reads every other file; the one that dies takes only its file, a fresh child
    reads the rest of its share; each file's start is told with its place in the burst; meanwhile runs here."""
    import threading

    import faulty_readers

    from branchbook.workbook.isolation import read_in_children

    started, meanwhile = [], []
    results = read_in_children(ReaderLimits(memory_mb=1024, seconds=60), faulty_readers.own_pid, {"abort_on": 3},
                               [((number,), {}) for number in range(6)], on_start=started.append, workers=2,
                               meanwhile=lambda: meanwhile.append(threading.current_thread()))
    assert isinstance(results[3], ReaderFailed) and results[3].kind == "crash"
    assert [results[n][0] for n in (0, 1, 2, 4, 5)] == [0, 1, 2, 4, 5]
    pid = {n: results[n][1] for n in (0, 1, 2, 4, 5)}
    assert pid[0] == pid[2] == pid[4] != pid[1] and pid[5] not in (pid[0], pid[1]) and os.getpid() not in pid.values()
    assert sorted(started) == list(range(6)) and meanwhile == [threading.main_thread()]
    assert read_in_children(ReaderLimits(memory_mb=None, seconds=60), faulty_readers.echo, {}, []) == []


def test_a_file_that_kills_its_reader_is_refused_and_the_files_after_it_are_read(fresh_demo, tmp_path, monkeypatch):
    """The child reading a batch dies on the middle file: that file is refused with a report in words, and a
    fresh child reads the one after it."""
    import faulty_readers

    from branchbook.sync import reading

    monkeypatch.setattr(reading, "read_received", faulty_readers.aborting_read)
    home = _home(fresh_demo)
    first, last = filled_returns(home, tmp_path / "ok", weeks=(4,), branch_ids=["B01", "B02"])
    shutil.copyfile(first, home.folder("inbox") / "1.xlsx")
    shutil.copyfile(filled_return(home, tmp_path / "crash.xlsx", seed=5), home.folder("inbox") / "崩溃.xlsx")
    shutil.copyfile(last, home.folder("inbox") / "末.xlsx")
    result = process(home, incoming(home))
    assert {s.file_name: o.result for s, o in zip(result.submissions, result.outcomes)} == {
        "1.xlsx": "merged", "崩溃.xlsx": "rejected", "末.xlsx": "merged"}
    report = _rejected_with_report(home, "崩溃.xlsx")
    assert "读取程序" in report and "不会再自动读取" in report and "标注" not in report
    assert not CLASS_NAME.search(report) and _nothing_at_work(home)
    assert not (home.root / ".branchbook" / "intake-attempts.json").exists()


def test_control_characters_are_cleaned_with_a_warning_and_the_master_is_written(fresh_demo, tmp_path):
    home = _home(fresh_demo)
    _control_characters(home, home.folder("inbox") / "控制字符.xlsx")
    # openpyxl cuts text at 32,767 characters when it writes; another program need not.
    long_text = edit(filled_return(home, tmp_path / "超长.xlsx", seed=8),
                     lambda wb: wb["自学"].__setitem__("D2", "LONGMARK"))
    _patched(long_text, b"LONGMARK", ("长" * 40_000).encode())
    shutil.copyfile(long_text, home.folder("inbox") / long_text.name)
    result = process(home, incoming(home))
    by_name = {s.file_name: o.result for s, o in zip(result.submissions, result.outcomes)}
    assert by_name == {"控制字符.xlsx": "merged", "超长.xlsx": "rejected"}
    [cleaned] = [f for s in result.submissions if s.file_name == "控制字符.xlsx" for f in s.findings]
    assert (cleaned.code, cleaned.sheet, cleaned.cell) == ("text-cleaned", "学习活动", "D2")
    assert "学习活动 第2行 「D」" in cleaned.message("zh")
    report = _rejected_with_report(home, "超长.xlsx")
    assert "自学 第2行 「D」" in report and "40000" in report and "32767" in report
    assert result.written  # the real writer took the cleaned text
    topics = [s["topic"] for s in read_master(home.master)["sessions"]]
    assert "第一行\n第二行末_xD800_尾" in topics  # calamine leaves an escaped lone surrogate as written
    assert validate_path(home.master).valid and _nothing_at_work(home)


def test_what_no_workbook_holds_is_made_safe():
    from branchbook.workbook.safe_values import safe_label, safe_text

    assert safe_text("甲\x0b乙\x0c丙\x00丁\x1f戊\ud800己\uffff") == "甲\n乙\n丙丁戊\ufffd己\ufffd"
    assert safe_text("好的\t\n\r") == "好的\t\n\r"
    name = "附件\udce9" + "名" * 2000  # a raw 8-bit mail header, recovered with surrogateescape
    assert safe_label(name).startswith("附件\ufffd") and len(safe_label(name)) == 1000


def test_a_file_over_the_size_limit_is_refused_before_any_copy_or_read(fresh_demo, tmp_path):
    home = _home(fresh_demo)
    big = home.folder("inbox") / "大文件.xlsx"
    with big.open("wb") as handle:
        handle.write(b"PK\x03\x04")
    os.truncate(big, 2 * 2**30)  # sparse: 2 GiB that takes no disk
    [valid] = filled_returns(home, tmp_path / "ok", weeks=(4,), branch_ids=["B02"])
    shutil.copyfile(valid, home.folder("inbox") / valid.name)
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = process(home, incoming(home))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: never read whole
    assert sorted(o.result for o in result.outcomes) == ["merged", "rejected"]
    assert "2048.0 MB" in _rejected_with_report(home, "大文件.xlsx") and _nothing_at_work(home)


def test_long_names_are_stored_bounded_and_kept_whole_in_the_ledger(fresh_demo, tmp_path):
    home = _home(fresh_demo)
    made = filled_returns(home, tmp_path / "ok", weeks=(5,), branch_ids=["B03", "B04"])
    names = {}
    for length, path in zip((245, 250), made):
        name = "周" * ((length - 5) // 3) + "x" * ((length - 5) % 3) + ".xlsx"
        assert len(name.encode()) == length
        shutil.copyfile(path, home.folder("inbox") / name)
        names[name] = "merged"
    bad = "错" * 83 + "x" + ".xlsx"  # 255 bytes, and a mistake inside
    assert len(bad.encode()) == NAME_BYTES
    edit(filled_return(home, home.folder("inbox") / bad), lambda wb: wb["自学"].__setitem__("C2", 30))
    names[bad] = "rejected"
    result = process(home, incoming(home))
    assert {s.file_name: o.result for s, o in zip(result.submissions, result.outcomes)} == names
    receipts = _receipts(home)
    assert {name: receipts[name]["result"] for name in names} == names  # the whole names, in 周报
    for folder in ("archive", "rejected"):
        assert all(len(p.name.encode()) <= NAME_BYTES for p in home.folder(folder).iterdir())
    sidecars = [json.loads(p.read_text(encoding="utf-8")) for p in home.folder("archive").glob("*.json")]
    assert sorted(s["file_name"] for s in sidecars) == sorted(n for n, r in names.items() if r == "merged")
    rejected = list(home.folder("rejected").iterdir())
    assert len(rejected) == 3  # the file, its report and its marked copy, each under a name that fits
    assert result.written and _nothing_at_work(home) and not inbox_names(home)


@pytest.mark.parametrize("name", ["CON.xlsx", "nul", "com1.report.xlsx", "a:b?c*.xlsx", "末尾. . .", "..\\..\\x.xlsm",
                                  "表" * 120 + ".xlsx", "é" * 200 + ".xlsx"])
def test_stored_names_are_safe_on_windows_and_bounded(name):
    stored = stored_name(name)
    stem = stored.split(".")[0].upper()
    assert stem not in {"CON", "NUL", "COM1"} and not set(stored) & set('<>:"/\\|?*')
    assert stored == stored.rstrip(". ") and stored
    # room for what BranchBook adds: "<receipt>__", " (n)" and the longest suffix
    longest = max(len((stored + report_suffix(lang)).encode()) for lang in ("zh", "en"))
    assert longest + 14 + 8 <= NAME_BYTES
    if len(name.encode()) > 150:
        assert stored != stored_name(name[:-6] + "另.xlsx")  # two long names stay apart


def test_an_edited_week_in_the_metadata_is_refused(fresh_demo, tmp_path):
    home = _home(fresh_demo)
    first = filled_return(home, home.folder("inbox") / "第一次.xlsx")
    process(home, incoming(home))
    before = read_master(home.master)["attendance"]
    # Week 3's return, its week edited to 1 in the hidden sheet: would replace week 1.
    edit(filled_return(home, home.folder("inbox") / "改了周次.xlsx", seed=9), _set_meta("week", 1))
    result = process(home, incoming(home))
    [outcome] = result.outcomes
    assert outcome.result == "rejected" and first.exists() is False
    report = _rejected_with_report(home, "改了周次.xlsx")
    assert "隐藏的元数据" in report and "被改动" in report
    assert read_master(home.master)["attendance"] == before


@pytest.mark.parametrize("key,value", [("branch_id", "B01"), ("week_start", "2005-03-07"), ("week_end", "2005-03-20"),
                                       ("template_version", 2), ("roster_checksum", "0" * 16)])
def test_each_sealed_field_edited_is_refused(fresh_demo, tmp_path, key, value):
    """The week above; the branch (one branch's return passed off as another's), the dates, the template version
    and the roster checksum are under the same seal (docs/design.md "Sealed metadata")."""
    home = _home(fresh_demo)
    sent = {row[0].value: row[1].value for row in load_workbook(home.folder("outbox") / BRANCH_FILE)["_元数据"].iter_rows()}
    assert str(sent[key])[:10] != str(value)  # a change
    edit(filled_return(home, home.folder("inbox") / "改了元数据.xlsx", seed=9), _set_meta(key, value))
    [outcome] = process(home, incoming(home)).outcomes
    assert outcome.result == "rejected" and "被改动" in _rejected_with_report(home, "改了元数据.xlsx")


def test_an_infinite_week_in_the_metadata_is_refused_as_edited_not_as_unreadable(fresh_demo, tmp_path):
    """No Excel writes <v>1e999</v>, another program can: the week is no number, the seal says so."""
    home = _home(fresh_demo)
    path = edit(filled_return(home, home.folder("inbox") / "无穷周次.xlsx", seed=9), _set_meta("week", 987654))
    _patched(path, b"987654", b"1e999")
    [outcome] = process(home, incoming(home)).outcomes
    assert outcome.result == "rejected"
    report = _rejected_with_report(home, "无穷周次.xlsx")
    assert "被改动" in report and "无法读取" not in report


def test_a_return_without_its_metadata_sheet_is_refused_in_a_sealed_home(fresh_demo, tmp_path):
    """Deleting `_元数据` must not get round the seal: the branch and week would be guessed from the file name,
    and week 3's data, named as week 1, would replace week 1."""
    home = _home(fresh_demo)
    before = read_master(home.master)["attendance"]
    edit(filled_return(home, home.folder("inbox") / "院机关支部_第1周.xlsx", seed=9), lambda wb: wb.remove(wb["_元数据"]))
    [outcome] = process(home, incoming(home)).outcomes
    assert outcome.result == "rejected"
    report = _rejected_with_report(home, "院机关支部_第1周.xlsx")
    assert "_元数据" in report and "学院下发的模板" in report
    assert read_master(home.master)["attendance"] == before
    # In a HOME made before seals existed, a retyped return is still taken by its name and roster meanwhile.
    key = home.root / ".branchbook" / KEY_NAME
    key.write_text(json.dumps({**json.loads(key.read_text(encoding="utf-8")), "migrated": True}), encoding="utf-8")
    edit(filled_return(home, home.folder("inbox") / "院机关支部_第3周.xlsx", seed=10), lambda wb: wb.remove(wb["_元数据"]))
    result = process(home, incoming(home))
    assert [o.result for o in result.outcomes] == ["merged"]
    assert "identity-guessed" in [f.code for f in result.submissions[0].findings]


def test_a_template_of_another_home_is_recognised(fresh_demo, tmp_path, caplog):
    """The secretary is told the template is not her college's and to ask for this week's, and nothing else
    (an empty foreign template is not also "empty"); the other ledger's id is for the office's log only."""
    home = _home(fresh_demo)
    other_root = tmp_path / "另一个台账"
    shutil.copytree(home.root, other_root)
    (other_root / ".branchbook" / KEY_NAME).unlink()
    other = Home.open(other_root)
    other_id = home_seal(other_root, new_home=True).home_id
    from branchbook.workbook.office import make_returns

    [blank] = make_returns(other, 3, ["B08"]).values()
    filled_return(other, home.folder("inbox") / "别处的模板.xlsx")
    shutil.copyfile(blank, home.folder("inbox") / "别处的空模板.xlsx")
    [valid] = filled_returns(home, tmp_path / "ok", weeks=(4,), branch_ids=["B06"])
    shutil.copyfile(valid, home.folder("inbox") / valid.name)
    with caplog.at_level("INFO", logger="branchbook.sync"):
        result = process(home, incoming(home))
    assert {s.file_name: o.result for s, o in zip(result.submissions, result.outcomes)} == {
        "别处的模板.xlsx": "rejected", "别处的空模板.xlsx": "rejected", valid.name: "merged"}
    for name in ("别处的模板.xlsx", "别处的空模板.xlsx"):
        report = _rejected_with_report(home, name)
        reasons = [line for line in report.splitlines() if re.match(r"\d+\. ", line)]
        assert reasons == ["1. 这份周报表的模板不是本学院党委办公室下发的：请向学院党委办公室索取本支部本周的周报表模板，"
                           "填写后重新发送。"], report
        assert other_id not in report
    assert other_id in caplog.text  # the office can tell whose ledger made it


def test_returns_without_a_seal(fresh_demo, tmp_path):
    home = _home(fresh_demo)
    edit(filled_return(home, home.folder("inbox") / "无签名.xlsx"), _set_meta("seal", None))
    [outcome] = process(home, incoming(home)).outcomes
    assert outcome.result == "rejected" and "没有防篡改签名" in _rejected_with_report(home, "无签名.xlsx")
    # A HOME made before seals existed: accepted, with a warning, while the returns sent before are out.
    key = home.root / ".branchbook" / KEY_NAME
    data = json.loads(key.read_text(encoding="utf-8"))
    key.write_text(json.dumps({**data, "migrated": True}), encoding="utf-8")
    edit(filled_return(home, home.folder("inbox") / "旧模板.xlsx", seed=11), _set_meta("seal", None))
    result = process(home, incoming(home))
    assert [o.result for o in result.outcomes] == ["merged"]
    assert [f.code for f in result.submissions[0].findings] == ["meta-unsealed-accepted"]
    expired = _home(home, unsealed_grace_days=0)
    edit(filled_return(expired, expired.folder("inbox") / "过期旧模板.xlsx", seed=12), _set_meta("seal", None))
    assert [o.result for o in process(expired, incoming(expired)).outcomes] == ["rejected"]


def test_a_file_whose_reading_keeps_failing_is_refused_after_the_attempts(fresh_demo, tmp_path):
    home = _home(fresh_demo, reader_seconds=0.001, max_attempts=2)
    path = filled_return(home, home.folder("inbox") / "读不完.xlsx")
    first = process(home, incoming(home))
    assert first.outcomes == [] and path.exists()  # timed out once: left for a later pass
    second = process(home, incoming(home))
    assert [o.result for o in second.outcomes] == ["rejected"] and not path.exists()
    assert "读取失败" in _rejected_with_report(home, "读不完.xlsx") or "超过" in _rejected_with_report(home, "读不完.xlsx")
    # A reading that took the service down counts too: after the attempts the file is not read at all.
    home = _home(home, reader_seconds=60, max_attempts=2)
    again = filled_return(home, home.folder("inbox") / "崩溃过.xlsx", seed=5)
    from branchbook.workbook.intake import file_sha256

    (home.root / ".branchbook" / "intake-attempts.json").write_text(json.dumps({file_sha256(again): 2}))
    [outcome] = process(home, incoming(home)).outcomes
    assert outcome.result == "rejected" and "2 次" in _rejected_with_report(home, "崩溃过.xlsx")
    assert _nothing_at_work(home) and not (home.root / ".branchbook" / "intake-attempts.json").exists()


# -- the real service: every bad file beside valid ones ----------------------------------------------------

def _sparse(target: Path) -> Path:
    with target.open("wb") as handle:
        handle.write(b"PK\x03\x04")
    os.truncate(target, 2 * 2**30)  # 2 GiB that takes no disk
    return target


LONG_VALID = "周" * 80 + ".xlsx"  # 245 bytes: it once made every retry write and back up the master again
LONG_BAD = "错" * 83 + "x.xlsx"  # 255 bytes, and a mistake inside
# Each case of the fault suite: how the bad file is made, and whether it is merged (cleaned) or refused.
SERVICE_CASES = {
    "far-away-cell": (lambda home, folder: _far_cell(home, folder / "远处一格.xlsx"), "rejected"),
    "control-character": (lambda home, folder: _control_characters(home, folder / "控制字符.xlsx"), "merged"),
    "2-gib-sparse": (lambda home, folder: _sparse(folder / "大文件.xlsx"), "rejected"),
    "long-names": (lambda home, folder: edit(filled_return(home, folder / LONG_BAD, seed=14),
                                             lambda wb: wb["自学"].__setitem__("C2", 30)), "rejected"),
    "forged-metadata": (lambda home, folder: edit(filled_return(home, folder / "改了周次.xlsx", seed=13),
                                                  _set_meta("week", 1)), "rejected"),
}


@pytest.mark.parametrize("case", SERVICE_CASES)
def test_each_bad_file_beside_valid_returns_in_the_running_service(fresh_demo, tmp_path, case):
    """The real service (watchdog observer, rescan out of reach), one case at a time: the valid returns beside
    the bad file merged (one under a 245-byte name), the bad one refused with its report (or merged, cleaned),
    nothing left in .work/, and the service still answering with a fresh heartbeat (issue 11, "Done when")."""
    from test_faults_service import _ends_well

    home = _home(fresh_demo)
    make, result = SERVICE_CASES[case]
    valid = filled_returns(home, tmp_path / "ok", weeks=(6,), branch_ids=["B01", "B02"])
    valid[1] = valid[1].rename(valid[1].with_name(LONG_VALID))
    (tmp_path / "bad").mkdir()
    bad = make(home, tmp_path / "bad")
    backups = home.root / "backups"
    kept_before = len(list(backups.glob("master-*")))
    service = SyncService(home)
    service.start()
    try:
        time.sleep(1.0)  # past the start-up scan: only the observer's events bring the files in
        for path in [*valid, bad]:
            target = home.folder("inbox") / path.name
            if case == "2-gib-sparse" and path is bad:
                _sparse(target)
            else:
                shutil.copyfile(path, target)
        merged = [p.name for p in valid] + ([bad.name] if result == "merged" else [])
        _ends_well(home, service, merged, [bad.name] if result == "rejected" else [])
        receipts = _receipts(home)
        assert {name: receipts[name]["result"] for name in [*merged, bad.name]} == \
            {**{name: "merged" for name in merged}, bad.name: result}
        # The master backed up once per batch, not again on every retry of a pass that failed after its merge.
        assert len(list(backups.glob("master-*"))) - kept_before <= service.batches
    finally:
        service.stop()


def test_the_service_takes_the_valid_returns_and_refuses_each_bad_file(fresh_demo, tmp_path):
    home = _home(fresh_demo)
    valid = filled_returns(home, tmp_path / "ok", weeks=(6,), limit=3)
    bad = tmp_path / "bad"
    bad.mkdir()
    _far_cell(home, bad / "远处一格.xlsx")
    edit(filled_return(home, bad / "改了周次.xlsx", seed=13), _set_meta("week", 1))
    long_bad = "错" * 83 + "x.xlsx"
    edit(filled_return(home, bad / long_bad, seed=14), lambda wb: wb["自学"].__setitem__("C2", 30))
    cleaned = _control_characters(home, bad / "控制字符.xlsx")
    service = SyncService(home)
    service.start()
    try:
        for path in [*valid, *bad.iterdir()]:
            shutil.copyfile(path, home.folder("inbox") / path.name)
        big = home.folder("inbox") / "大文件.xlsx"
        with big.open("wb") as handle:
            handle.write(b"PK\x03\x04")
        os.truncate(big, 2 * 2**30)
        wait_until(lambda: not inbox_names(home), 60, "the inbox to empty")
        wait_until(lambda: master_current(home), 60, "the master to be written")
        assert service.healthy()
        receipts = _receipts(home)
        expected = {p.name: "merged" for p in valid} | {cleaned.name: "merged", "远处一格.xlsx": "rejected",
                                                        "改了周次.xlsx": "rejected", long_bad: "rejected",
                                                        "大文件.xlsx": "rejected"}
        assert {name: receipts[name]["result"] for name in expected} == expected
        for name in ("远处一格.xlsx", "改了周次.xlsx", long_bad, "大文件.xlsx"):
            assert _rejected_with_report(home, name)
        assert _nothing_at_work(home)
        # Still answering: one more return is merged.
        [late] = filled_returns(home, tmp_path / "late", weeks=(7,), branch_ids=["B05"])
        shutil.copyfile(late, home.folder("inbox") / late.name)
        wait_until(lambda: late.name in _receipts(home), 60, "one more return merged")
        status = json.loads((home.root / "status.json").read_text(encoding="utf-8"))
        assert status["state"] != "error" and service.healthy()
        assert heartbeat_of(status).age < 10  # the worker loops on: a fresh heartbeat
    finally:
        service.stop()

