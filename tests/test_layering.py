"""The core knows nothing of xlwings or watchdog; one import name is installed, no generic top-level modules."""
from __future__ import annotations

import subprocess
import sys


def test_the_core_imports_neither_xlwings_nor_watchdog():
    code = ("import pkgutil, importlib, sys, branchbook.workbook as w\n"
            "for m in pkgutil.walk_packages(w.__path__, 'branchbook.workbook.'): importlib.import_module(m.name)\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('xlwings', 'watchdog')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_core_imports_nothing_above_it_and_the_merge_reads_no_files():
    code = ("import pkgutil, importlib, sys, branchbook.workbook as w\n"
            "for m in pkgutil.walk_packages(w.__path__, 'branchbook.workbook.'): importlib.import_module(m.name)\n"
            "print(sorted(n for n in sys.modules if n.startswith(('branchbook.sync', 'branchbook.addin', "
            "'branchbook.demo', 'branchbook.cli', 'email'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # no service, no buttons, no demo data and no mail policy in the core
    code = "import sys, branchbook.workbook.merge\nprint(sorted(n for n in sys.modules if n.endswith(('intake', 'fastread'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_generic_top_level_modules_are_importable():
    code = ("import importlib.util\n"
            "print([n for n in ('workbook', 'sync', 'addin', 'schemas') if importlib.util.find_spec(n)])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/").stdout
    assert out.strip() == "[]"


def test_merging_a_clean_return_from_the_command_imports_only_what_it_uses(demo_home, tmp_path):
    """`branchbook merge` starts in a fraction of a second: openpyxl (and numpy under it) only when a file is
    refused and marked, the offline-bundle builder (pip, packaging) only for `bundle` (docs/design.md)."""
    from returns_factory import filled_return

    path = filled_return(demo_home, tmp_path / "院机关支部_第3周.xlsx")
    code = ("import runpy, sys\n"
            f"sys.argv = ['branchbook', 'merge', {str(demo_home.root)!r}, {str(path)!r}]\n"
            "try:\n    runpy.run_module('branchbook', run_name='__main__')\nexcept SystemExit as end:\n"
            "    assert not end.code, end.code\n"
            "print('MODULES', sorted({n.split('.')[0] for n in sys.modules} | "
            "{n for n in sys.modules if n.startswith('branchbook.bundle')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = eval(out.split("MODULES", 1)[1])  # noqa: S307 - the list this very test printed
    assert "已合并" in out
    assert not {"openpyxl", "numpy", "pandas", "packaging"} & set(loaded), loaded
    assert not {"branchbook.bundle.build", "branchbook.bundle.closure"} & set(loaded), loaded  # the parser names
    # the bundle's targets (branchbook.bundle.targets), which import nothing beyond the standard library
