"""Masters compared part by part and cell by cell with one written whole from the ledger as it is, without any
cached row or kept record (the body cache, tests/test_body_cache.py; the service's kept records,
tests/test_service_kept_records.py)."""
from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import load_workbook

from branchbook.workbook import flag_history
from branchbook.workbook.books import open_ledger
from branchbook.workbook.flags import Facts, compute_flags, flag_rows
from branchbook.workbook.home import Home
from branchbook.workbook.master import write_master
from branchbook.workbook.reports.dashboard import dashboard_painter

VOLATILE_PARTS = {"docProps/core.xml"}  # the time it was written


def _written_whole(home: Home, target: Path) -> Path:
    """The master written from the ledger as it is, without any cached row."""
    with open_ledger(home) as ledger:
        tables = ledger.tables()
        day = home.as_of
        facts = Facts(tables, day, ledger.schemas)
        # With their states against the week before, as the export keeps them (flag_history.py).
        flags, cleared = flag_history.annotate(ledger, tables, compute_flags(tables, day, ledger.schemas, facts), day,
                                               ledger.schemas)
        tables["flags"] = flag_rows(flag_history.by_level([*flags, *cleared]), home.lang)
        write_master(target, tables, lang=home.lang, painters=(dashboard_painter(day, flags, facts),))
    return target


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every part's CRC checks out
        return {name: archive.read(name) for name in archive.namelist() if name not in VOLATILE_PARTS}


def _cells(path: Path) -> dict[str, list[tuple]]:
    book = load_workbook(path)
    out = {ws.title: [tuple((c.value, c.number_format) for c in row) for row in ws.iter_rows()] for ws in book}
    out["__validations__"] = [(ws.title, str(v.sqref), v.type, v.formula1) for ws in book
                              for v in ws.data_validations.dataValidation]
    out["__tables__"] = [(ws.title, t.displayName, t.ref) for ws in book for t in ws.tables.values()]
    return out


def assert_same_master(home: Home, folder: Path) -> None:
    folder.mkdir(parents=True)
    whole = _written_whole(home, folder / "whole.xlsx")
    cached, full = _parts(home.master), _parts(whole)
    assert sorted(cached) == sorted(full)
    for name in full:
        assert cached[name] == full[name], f"{name} differs"
    assert _cells(home.master) == _cells(whole)
