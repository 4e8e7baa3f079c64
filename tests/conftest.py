"""Shared fixtures: a demo HOME built once, the whole-campaign demo run once, LibreOffice for real, and a guard
against leaked threads."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

# xlwings' remote engine (the Book API of xlwings Lite/Server) is xlwings PRO, free for
# noncommercial use under the PolyForm Noncommercial licence; set for the tests only.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

from branchbook.cli import main
from branchbook.demo import demo_home as make_demo_home
from branchbook.workbook.home import Home
from branchbook.workbook.office import make_returns

DEMO_WEEK = 3


@pytest.fixture(autouse=True)
def no_leaked_threads():
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory):
    """A HOME with the demo college and week 3's return templates. Read-only for tests."""
    root = tmp_path_factory.mktemp("demo") / "台账"
    home = make_demo_home(root)
    make_returns(home, DEMO_WEEK)
    return home


@pytest.fixture
def fresh_demo(tmp_path, demo_home):
    """A private copy of the demo HOME that a test may change."""
    target = tmp_path / "home"
    shutil.copytree(demo_home.root, target)
    return Home.open(target)


@dataclass(frozen=True)
class DemoRun:
    """A HOME `branchbook demo HOME --lang L` made, and what the command printed (stdout, stderr)."""

    home: Home
    out: str
    err: str


def _shared_folder(tmp_path_factory) -> Path:
    """A folder of this pytest run that all its xdist workers see (each worker's own base is inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _demo_run_once(tmp_path_factory, lang: str) -> tuple[Path, str, str]:
    """`branchbook demo` merges the whole campaign (half a minute): run for real once per pytest run and language,
    by the first worker that asks; the others wait on the lock and take its HOME and output."""
    shared = _shared_folder(tmp_path_factory) / f"demo-run-{lang}"
    shared.mkdir(exist_ok=True)
    said = shared / "said.json"
    with FileLock(str(shared.with_suffix(".lock"))):
        if not said.exists():
            home = shared / "branchbook-demo"
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main(["demo", str(home), "--lang", lang])
            assert code == 0, err.getvalue()
            said.write_text(json.dumps([out.getvalue(), err.getvalue()]), encoding="utf-8")
    out, err = json.loads(said.read_text(encoding="utf-8"))
    return shared / "branchbook-demo", out, err


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """demo_run(lang) -> the whole-campaign demo (`branchbook demo`) in that language, this worker's copy of the
    one run (read-only for tests; copy it with shutil.copytree to change it)."""
    copies: dict[str, DemoRun] = {}

    def copy(lang: str = "zh") -> DemoRun:
        if lang not in copies:
            built, out, err = _demo_run_once(tmp_path_factory, lang)
            target = tmp_path_factory.mktemp(f"demo-{lang}") / built.name
            shutil.copytree(built, target)
            copies[lang] = DemoRun(Home.open(target), out, err)
        return copies[lang]

    return copy


@pytest.fixture
def fresh_demo_run(tmp_path, demo_run):
    """fresh_demo_run(lang) -> a private copy of the whole-campaign demo HOME that a test may change."""

    def copy(lang: str = "zh") -> DemoRun:
        run = demo_run(lang)
        target = tmp_path / f"demo-{lang}" / run.home.root.name
        shutil.copytree(run.home.root, target)
        return DemoRun(Home.open(target), run.out, run.err)

    return copy


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        pytest.fail("LibreOffice is missing: run the tests through `bash tools/dev.sh test`, which installs it")
    return found


@pytest.fixture(scope="session")
def soffice() -> str:
    """The LibreOffice program, for a test that drives it itself (tools/build_addin.py)."""
    return _soffice()


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory):
    """convert(path, fmt) -> converted file, by headless LibreOffice with a private profile."""
    soffice = _soffice()
    profile = tmp_path_factory.mktemp("lo-profile")

    def convert(path: Path, fmt: str, outdir: Path | None = None) -> Path:
        outdir = outdir or path.parent / "converted"
        outdir.mkdir(exist_ok=True)
        run = subprocess.run(
            [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), str(path)],
            capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(profile)},
        )
        target = outdir / (path.stem + "." + fmt.split(":")[0])
        assert run.returncode == 0 and target.exists(), f"LibreOffice failed on {path.name}: {run.stdout} {run.stderr}"
        return target

    return convert


# Making LibreOffice recalculate on load: its own setting (Tools > Options > Calc > Formula, "Excel 2007 and
# newer": Always recalculate). Without it a file with values stored is shown as stored; it ignores fullCalcOnLoad.
ALWAYS_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


@pytest.fixture(scope="module")
def recalculate(soffice, tmp_path_factory):
    """recalculate(paths, outdir) -> {stem: LibreOffice's copy}: one LibreOffice run for all the files, each
    opened (and so recalculated) and saved as a new .xlsx. One profile for the module, set to recalculate."""
    profile = tmp_path_factory.mktemp("lo-recalculating")
    (profile / "user").mkdir()
    (profile / "user" / "registrymodifications.xcu").write_text(ALWAYS_RECALCULATE, encoding="utf-8")

    def run(paths: list[Path], outdir: Path) -> dict[str, Path]:
        done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                               "--convert-to", "xlsx", "--outdir", str(outdir), *map(str, paths)],
                              capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(profile)})
        made = {p.stem: outdir / p.name for p in paths}
        assert done.returncode == 0 and all(p.exists() for p in made.values()), done.stdout + done.stderr
        return made

    return run
