"""The charts' Chinese font is found from the font files themselves, whatever matplotlib's font cache says:
an empty cache, and a cache written before the CJK font was installed (matplotlib never looks again)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib import font_manager

from branchbook.workbook.reports import fonts

# Draws both bulletin charts of the demo college in a fresh interpreter and says what it used.
DRAW = r"""
import json, sys, warnings
from datetime import date
from pathlib import Path

from matplotlib import font_manager
from branchbook.workbook.reports import fonts

before = sorted({e.name for e in font_manager.fontManager.ttflist if e.name in fonts.CANDIDATES})
if sys.argv[2] == "folders-only":
    fonts.fontconfig_files = lambda: []
elif sys.argv[2] == "fontconfig-only":
    fonts.font_folders = lambda: []
from branchbook.workbook.master import read_master
from branchbook.workbook.reports.charts import chart_texts, hours_chart, trend_chart
from branchbook.workbook.reports.progress import compute_progress

progress = compute_progress(read_master(Path(sys.argv[1])), date(2005, 3, 30))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    pngs = [hours_chart(progress), trend_chart(progress)]
family, font_file = fonts.chinese_font()
drawn_with = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
print(json.dumps({"before": before, "family": family, "file": str(font_file), "drawn_with": drawn_with,
                  "missing": sorted(fonts.covers(Path(drawn_with), chart_texts(progress))),
                  "pngs": [len(p) for p in pngs if p.startswith(b"\x89PNG")],
                  "warnings": [str(w.message) for w in caught]}))
"""

# Writes matplotlib's font cache into MPLCONFIGDIR while no system font is visible: neither to fontconfig
# (FONTCONFIG_FILE names an empty folder) nor to matplotlib's own scan of the font folders.
STALE = r"""
import os, sys
from matplotlib import font_manager

font_manager.X11FontDirectories[:] = []
font_manager.OSXFontDirectories[:] = []
os.environ["FONTCONFIG_FILE"] = sys.argv[1]
font_manager._get_fontconfig_fonts.cache_clear()
font_manager._load_fontmanager(try_read_cache=False)
"""


def _hidden_fontconfig(folder: Path) -> Path:
    """A fontconfig configuration that knows one empty font folder."""
    (folder / "fonts").mkdir(parents=True)
    conf = folder / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>{folder / "fonts"}</dir><cachedir>{folder / "fc-cache"}</cachedir></fontconfig>
""", encoding="utf-8")
    return conf


def _env(mplconfigdir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FONTCONFIG_FILE", "FONTCONFIG_PATH")}
    return {**env, "MPLCONFIGDIR": str(mplconfigdir), **extra}


@pytest.fixture(scope="module")
def stale_cache(tmp_path_factory):
    """A matplotlib config folder whose font cache was written before any CJK font was visible."""
    root = tmp_path_factory.mktemp("stale")
    conf = _hidden_fontconfig(root / "hidden")
    mpl = root / "mpl"
    mpl.mkdir()
    subprocess.run([sys.executable, "-c", STALE, str(conf)], env=_env(mpl), check=True, timeout=240)
    caches = list(mpl.glob("fontlist-*.json"))
    assert len(caches) == 1
    cached = json.loads(caches[0].read_text(encoding="utf-8"))["ttflist"]
    assert cached and not [e for e in cached if e["name"] in fonts.CANDIDATES]  # CJK fonts hidden when written
    return mpl, conf


def _draw(demo_home, mplconfigdir: Path, mode: str = "all", **env) -> dict:
    run = subprocess.run([sys.executable, "-c", DRAW, str(demo_home.master), mode], capture_output=True, text=True,
                         env=_env(mplconfigdir, **env), timeout=240)
    assert run.returncode == 0, run.stderr
    assert "找不到中文字体" not in run.stderr
    drawn = json.loads(run.stdout.strip().splitlines()[-1])
    assert drawn["family"] in fonts.CANDIDATES and drawn["missing"] == []
    assert Path(drawn["drawn_with"]).resolve() == Path(drawn["file"]).resolve()  # the chart's font is the CJK one
    assert len(drawn["pngs"]) == 2 and min(drawn["pngs"]) > 10_000
    assert not [w for w in drawn["warnings"] if "missing from font" in w]  # no boxes for Chinese characters
    return drawn


def test_charts_find_the_chinese_font_with_an_empty_matplotlib_cache(demo_home, tmp_path):
    empty = tmp_path / "mpl"
    empty.mkdir()
    _draw(demo_home, empty)


@pytest.mark.parametrize("mode", ["all", "fontconfig-only", "folders-only"])
def test_charts_find_the_chinese_font_despite_a_stale_matplotlib_cache(demo_home, stale_cache, tmp_path, mode):
    cached, conf = stale_cache
    mpl = tmp_path / "mpl"
    shutil.copytree(cached, mpl)
    # The font is revealed: fontconfig sees the system's fonts again, except in the folder-scan-only case,
    # where fontconfig still sees none and the font folders alone must be enough.
    env = {"FONTCONFIG_FILE": str(conf)} if mode == "folders-only" else {}
    drawn = _draw(demo_home, mpl, mode, **env)
    assert drawn["before"] == []  # matplotlib went by the stale cache, which has no CJK font


def test_folder_scan_knows_cjk_fonts_by_name(tmp_path):
    real = Path(fonts.chinese_font()[1])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "NotoSansCJK-Regular.ttc").symlink_to(real)
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"")
    (tmp_path / "wqy-readme.txt").write_bytes(b"")
    assert fonts.folder_files([tmp_path, tmp_path / "absent"]) == [tmp_path / "sub" / "NotoSansCJK-Regular.ttc"]


def test_the_chosen_font_is_registered_with_matplotlib_and_draws_every_sample_character():
    family, font_file = fonts.chinese_font()
    assert font_file.is_file() and fonts.covers(font_file, fonts.SAMPLE) == set()
    assert any(Path(e.fname).resolve() == font_file.resolve() and e.name == family
               for e in font_manager.fontManager.ttflist)
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert Path(found).resolve() == font_file.resolve()


def test_fonttools_is_a_declared_dependency():
    from importlib.metadata import requires

    declared = {r.split(";")[0].split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
                for r in requires("branchbook") or [] if "extra ==" not in r}
    assert "fonttools" in declared
