"""One size limit for a return, whichever path meets it: `validate` and the service (real observer, rescan
off) refuse a return over `limits.max_file_mb` with the same sentence, which says what to do."""
from __future__ import annotations

import os
import shutil
import zipfile

from returns_factory import BRANCH_FILE, filled_return
from sync_helpers import FAST_SYNC, inbox_names, wait_until

from branchbook.cli import main
from branchbook.sync.service import SyncService
from branchbook.workbook.home import Home

LIMIT_MB = 20  # schemas/rules.yaml limits.max_file_mb
PICTURE_MB = 21  # a return carrying a picture of this size (random bytes do not compress)


def _with_a_picture(source, target):
    shutil.copyfile(source, target)
    with zipfile.ZipFile(target, "a", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/media/image1.png", os.urandom(PICTURE_MB * 2**20))
    return target


def _sentence(name: str, path) -> str:
    size = f"{path.stat().st_size / 2**20:.1f}"
    return (f"“{name}”太大（{size} MB，上限 {LIMIT_MB} MB），未打开。请删去多余的内容（图片、多余的工作表、数据下方远处的行）"
            f"后另存为新文件再发送，或分拆成几个文件。")


def test_validate_and_serve_refuse_an_oversized_return_alike(fresh_demo, tmp_path, capsys):
    big = _with_a_picture(filled_return(fresh_demo, tmp_path / "good.xlsx"), tmp_path / BRANCH_FILE)
    assert main(["validate", str(big)]) == 2
    said = capsys.readouterr().err.strip()
    assert said == _sentence(BRANCH_FILE, big)
    assert "300" not in said

    home = Home(fresh_demo.root, {**fresh_demo.config, "sync": {**FAST_SYNC, "rescan_seconds": 600.0}})
    service = SyncService(home)
    service.start()
    try:
        shutil.copyfile(big, home.folder("inbox") / BRANCH_FILE)
        report = home.folder("rejected") / f"{BRANCH_FILE}.错误报告.txt"
        wait_until(lambda: report.exists() and not inbox_names(home), 30, "the return sent back")
    finally:
        service.stop()
    assert f"1. {_sentence(BRANCH_FILE, big)}" in report.read_text(encoding="utf-8").splitlines()


def test_the_office_master_is_held_to_its_own_limit(demo_home, tmp_path, capsys):
    """The master is not a return: validate holds it to limits.max_master_mb (300), not to a return's."""
    big = _with_a_picture(demo_home.master, tmp_path / "master.xlsx")
    code = main(["validate", str(big)])
    captured = capsys.readouterr()
    assert "太大" not in captured.out + captured.err and code in (0, 1)
