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
