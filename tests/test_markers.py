"""Every test that needs LibreOffice or the IMAP server carries its marker, so `-m "not libreoffice"` and
`-m "not imap"` leave out exactly those tests."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent

# The fixtures behind each marker (pytest's fixture closure of a test includes those it uses indirectly,
# such as mail_home, which starts the IMAP server through dovecot).
NEEDS = {"libreoffice": {"libreoffice", "soffice"}, "imap": {"dovecot"}}

COLLECT = r"""
import json, sys
import pytest

class Report:
    def pytest_collection_finish(self, session):
        self.items = [{"id": item.nodeid, "fixtures": list(item.fixturenames),
                       "markers": sorted({m.name for m in item.iter_markers()})} for item in session.items]

report = Report()
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", sys.argv[1]], plugins=[report])
print("ITEMS " + json.dumps(report.items))
sys.exit(code)
"""


def _collected() -> list[dict]:
    run = subprocess.run([sys.executable, "-c", COLLECT, str(TESTS)], capture_output=True, text=True, timeout=240,
                         cwd=TESTS.parent)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    line = next(line for line in run.stdout.splitlines() if line.startswith("ITEMS "))
    return json.loads(line[len("ITEMS "):])


def test_tests_using_libreoffice_or_the_imap_server_carry_their_markers():
    items = _collected()
    assert len(items) > 100
    for marker, fixtures in NEEDS.items():
        users = {i["id"] for i in items if fixtures & set(i["fixtures"])}
        assert users, f"no test uses {fixtures}: the check has gone stale"
        unmarked = sorted(i["id"] for i in items if i["id"] in users and marker not in i["markers"])
        assert not unmarked, f"tests that need {marker} without @pytest.mark.{marker}: {unmarked}"
    # The markers are not scattered over tests that need neither.
    for marker in NEEDS:
        marked = {i["id"] for i in items if marker in i["markers"]}
        assert marked, marker
        extra = sorted(i["id"] for i in items if i["id"] in marked and not NEEDS[marker] & set(i["fixtures"]))
        assert all("bulletin_becomes_pdf" in test for test in extra), extra  # makes its PDF with LibreOffice
