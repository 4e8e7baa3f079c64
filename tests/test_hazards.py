"""One test per known hazard of openpyxl, watchdog and mail not already covered elsewhere (docs/hazards.md)."""
from __future__ import annotations

import os
import re
import shutil
import zipfile

import pytest
from openpyxl import load_workbook
from returns_factory import edit, filled_return
from sync_helpers import archived_names, fast_home, wait_until

from branchbook.sync.service import SyncService
from branchbook.workbook.annotate import annotate
from branchbook.workbook.master import read_master
from branchbook.workbook.safe_open import UnreadableFile, inspect
from branchbook.workbook.validation import validate_path

RETURN = "院机关支部_第3周.xlsx"


def test_3_a_save_through_a_temp_name_and_rename_is_taken(fresh_demo, tmp_path):
    home = fast_home(fresh_demo)
    service = SyncService(home)
    service.start()
    try:
        temp = home.folder("inbox") / "A1B2C3D4"  # Excel's extensionless temp name
        shutil.copyfile(filled_return(home, tmp_path / "r.xlsx"), temp)
        os.rename(temp, home.folder("inbox") / RETURN)
        wait_until(lambda: archived_names(home) == [RETURN], 60, "the renamed file merged")
    finally:
        service.stop()


def test_4_and_5_lost_events_are_caught_by_the_rescan_and_a_stalled_watcher_is_noticed(fresh_demo, tmp_path):
    home = fast_home(fresh_demo)
    service = SyncService(home)
    service.start()
    try:
        assert service.healthy()
        service.observer.stop()  # as if the event buffer overflowed: no more events arrive
        service.observer.join()
        assert not service.healthy()
        shutil.copyfile(filled_return(home, tmp_path / "r.xlsx"), home.folder("inbox") / RETURN)
        wait_until(lambda: archived_names(home) == [RETURN], 60, "the rescan to find the file")
    finally:
        service.stop()


def test_5_the_polling_observer_for_network_shares(fresh_demo, tmp_path):
    home = fast_home(fresh_demo)
    service = SyncService(home, polling=True)
    service.start()
    try:
        assert type(service.observer).__name__ == "PollingObserver"
        shutil.copyfile(filled_return(home, tmp_path / "r.xlsx"), home.folder("inbox") / RETURN)
        wait_until(lambda: archived_names(home) == [RETURN], 60, "the polled file merged")
    finally:
        service.stop()


def test_10_an_annotated_copy_keeps_what_the_return_carries(demo_home, tmp_path):
    bad = edit(filled_return(demo_home, tmp_path / "bad.xlsx"), lambda wb: wb["自学"].__setitem__("C2", 30))
    out = annotate(bad, validate_path(bad), tmp_path / "marked.xlsx")
    before, after = load_workbook(bad), load_workbook(out)
    for name in before.sheetnames:
        assert len(after[name].data_validations.dataValidation) == len(before[name].data_validations.dataValidation)
        assert after[name].protection.sheet == before[name].protection.sheet
        assert after[name].sheet_state == before[name].sheet_state
    with zipfile.ZipFile(bad) as a, zipfile.ZipFile(out) as b:
        lost = {n for n in a.namelist() if not n.startswith(("xl/worksheets/_rels", "xl/comments", "xl/drawings"))} - \
            set(b.namelist())
    assert lost == set()


def test_11_a_wrong_declared_dimension_does_not_hide_rows(demo_home, tmp_path):
    path = tmp_path / "wrong-dimension.xlsx"
    with zipfile.ZipFile(demo_home.master) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:A1"/>', data)
            target.writestr(info, data)
    assert read_master(path)["attendance"] == read_master(demo_home.master)["attendance"]


def test_12_an_uncalculated_formula_is_reported_not_merged_as_blank(demo_home, tmp_path):
    path = edit(filled_return(demo_home, tmp_path / "f.xlsx"), lambda wb: wb["自学"].__setitem__("C2", "=1+2"))
    report = validate_path(path)
    assert report.errors[0].code == "formula-uncalculated" and (report.errors[0].sheet, report.errors[0].cell) == (
        "自学", "C2")
    assert not report.valid


def _zip_with(path, name, data, compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compress) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr(name, data)
    return path


def test_14_an_xml_bomb_is_refused(demo_home, tmp_path):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><worksheet>&lol3;</worksheet>')
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(demo_home.folder("outbox") / RETURN) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            target.writestr(info, bomb if info.filename == "xl/worksheets/sheet2.xml" else source.read(info.filename))
    from defusedxml import EntitiesForbidden
    from defusedxml.ElementTree import fromstring

    from branchbook.workbook.fastread import sheet_parts

    with pytest.raises(EntitiesForbidden):
        fromstring(bomb)  # what openpyxl and our own XML reading go through
    with zipfile.ZipFile(path) as archive:
        assert sheet_parts(archive)  # the package itself still opens
    with pytest.raises(UnreadableFile) as refused:
        validate_path(path)
    assert refused.value.kind == "corrupt" and "XML 实体声明" in refused.value.message()


def test_15_a_zip_bomb_is_refused_before_parsing(tmp_path):
    path = _zip_with(tmp_path / "zipbomb.xlsx", "xl/worksheets/sheet1.xml", b"\0" * (600 * 1024 * 1024))
    with pytest.raises(UnreadableFile) as refused:
        inspect(path)
    assert refused.value.kind == "zip-bomb" and "解压后过大" in refused.value.message()


def test_24_a_new_uidvalidity_does_not_merge_twice(tmp_path):
    from branchbook.sync.mail_ledger import MailLedger

    ledger = MailLedger(tmp_path)
    ledger.uidvalidity = 111
    ledger.took(1)
    ledger.took(2)
    reloaded = MailLedger(tmp_path)
    assert reloaded.uids == {1, 2}
    reloaded.reset_folder(222)  # the server renumbered the folder: old UIDs mean nothing now
    assert MailLedger(tmp_path).uids == set() and MailLedger(tmp_path).uidvalidity == 222
