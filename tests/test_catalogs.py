"""Every message in the code has its Chinese, and the compiled catalogs are the ones the .po files make."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_message_has_chinese_and_every_catalog_is_compiled():
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "catalogs.py"), "--check"], capture_output=True,
                         text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_message_is_rendered_in_each_language():
    from branchbook.workbook.i18n import text

    assert text("zh", "reports", "{count} flags: {by_rule}", count=3, by_rule="x") == "进度提醒共 3 条：x"
    assert text("en", "reports", "{count} flags: {by_rule}", count=3, by_rule="x") == "3 flags: x"
