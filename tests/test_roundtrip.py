"""Write -> read round trips of the master, for any text, number and date a field may hold (Hypothesis)."""
from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branchbook.workbook.master import read_master, write_master

# Any printable text, including what Excel would take for a formula or an error (=, +, -, @, #).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).map(str.strip) \
    .filter(bool)
HOURS = st.floats(min_value=0.5, max_value=12, allow_nan=False).map(lambda h: round(h, 2))
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TEXT, HOURS, DAYS, st.sampled_from(["present", "absent", "excused"])), min_size=1,
                max_size=8))
def test_what_is_written_reads_back_the_same(rows):
    selfstudy = [{"member_id": f"M{i}", "date": day, "hours": hours, "material": text, "makes_up": None}
                 for i, (text, hours, day, _) in enumerate(rows)]
    attendance = [{"session_id": f"S{i}", "member_id": f"M{i}", "status": status, "hours": hours}
                  for i, (_, hours, _, status) in enumerate(rows)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.xlsx"
        write_master(path, {"selfstudy": selfstudy, "attendance": attendance})
        back = read_master(path)
    strip = [{k: v for k, v in r.items() if k not in ("source_return", "row_fingerprint")} for r in back["selfstudy"]]
    assert strip == selfstudy
    assert [r["status"] for r in back["attendance"]] == [r["status"] for r in attendance]
