"""A font that draws Chinese, for the charts: boxes in place of characters are a defect.

Looks for the CJK fonts an office PC or the test machine has (Windows: Microsoft YaHei, SimHei, SimSun;
Debian: Noto Sans CJK, installed by tools/dev.sh); none found is an error that says what to install.

matplotlib's own font list is not trusted: it is cached on disk (fontlist-*.json) the first time matplotlib
runs, and a font installed after that stays invisible to it. So the font files are looked for directly
(fontconfig's `fc-list :lang=zh`, then the usual font folders) and registered with matplotlib's font
manager before use."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from matplotlib import font_manager

CANDIDATES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "Microsoft YaHei",
              "SimHei", "PingFang SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK JP",
              "Noto Serif CJK SC", "Source Han Serif SC", "SimSun")

# Characters every chart draws; a font outside CANDIDATES is used only if it has them all.
SAMPLE = "各支部人均学时与进度目标各周周报表出勤率第"

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
# Parts of a file name that mark a font with Chinese glyphs, for the folder scan (fontconfig knows better
# where it is installed; this covers machines without it).
CJK_NAME_MARKS = ("cjk", "sourcehan", "source-han", "wqy", "wenquanyi", "droidsansfallback", "notosanssc",
                  "notoserifsc", "pingfang", "hiragino sans gb", "stheiti", "msyh", "simhei", "simsun", "ukai",
                  "uming", "fandol", "lxgw")
WINDOWS_FILES = ("msyh.ttc", "msyh.ttf", "simhei.ttf", "simsun.ttc")


def font_folders() -> list[Path]:
    """The usual places of installed fonts on this system."""
    home = Path.home()
    if sys.platform == "win32":
        folders = [Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
        if os.environ.get("LOCALAPPDATA"):
            folders.append(Path(os.environ["LOCALAPPDATA"]) / "Microsoft" / "Windows" / "Fonts")
        return folders
    folders = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".local/share/fonts", home / ".fonts"]
    if sys.platform == "darwin":
        folders += [Path("/System/Library/Fonts"), Path("/Library/Fonts"), home / "Library/Fonts"]
    return folders


class NoChineseFont(RuntimeError):
    pass


def fontconfig_files() -> list[Path]:
    """The font files fontconfig says cover Chinese; none when fontconfig is absent."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return []
    try:
        out = subprocess.run([fc_list, "--format=%{file}\\n", ":lang=zh"], capture_output=True, timeout=30,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [Path(os.fsdecode(line)) for line in out.splitlines() if line.strip()]


def folder_files(folders: list[Path] | None = None) -> list[Path]:
    """Chinese font files in the font folders, known by their names."""
    found = []
    for folder in font_folders() if folders is None else folders:
        if not folder.is_dir():
            continue
        if sys.platform == "win32":
            found += [folder / name for name in WINDOWS_FILES if (folder / name).is_file()]
            continue
        for root, _, names in os.walk(folder):
            for name in sorted(names):
                lowered = name.lower()
                if lowered.endswith(FONT_SUFFIXES) and any(mark in lowered for mark in CJK_NAME_MARKS):
                    found.append(Path(root) / name)
    return found


def cjk_font_files() -> list[Path]:
    """Every Chinese font file found on this machine, fontconfig's first, without repeats."""
    seen, files = set(), []
    for path in fontconfig_files() + folder_files():
        key = os.path.normcase(os.path.realpath(path))
        if key not in seen and path.suffix.lower() in FONT_SUFFIXES and path.is_file():
            seen.add(key)
            files.append(path)
    return files


def _register(path: Path) -> None:
    """Make matplotlib know the font at `path` (every face of a collection), once."""
    manager = font_manager.fontManager
    if any(os.path.realpath(entry.fname) == os.path.realpath(path) for entry in manager.ttflist):
        return
    try:
        manager.addfont(path)
    except (OSError, RuntimeError, ValueError):  # a broken or unreadable file: look further
        pass


def _regular_first(entry) -> tuple:
    weight = entry.weight if isinstance(entry.weight, int) else font_manager.weight_dict.get(entry.weight, 400)
    return (entry.style != "normal", abs(weight - 400))


@functools.lru_cache(maxsize=1)
def _find() -> tuple[str, Path]:
    files = cjk_font_files()
    for path in files:
        _register(path)
    wanted = {os.path.realpath(path) for path in files}
    # Found files first; a cached entry is used only when its file is still there.
    entries = [e for e in font_manager.fontManager.ttflist
               if os.path.realpath(e.fname) in wanted or (e.name in CANDIDATES and os.path.isfile(e.fname))]
    for family in CANDIDATES:
        named = sorted((e for e in entries if e.name == family), key=_regular_first)
        if named:
            return family, Path(named[0].fname)
    for entry in sorted((e for e in entries if os.path.realpath(e.fname) in wanted), key=_regular_first):
        if not covers(Path(entry.fname), SAMPLE):
            return entry.name, Path(entry.fname)
    raise NoChineseFont("找不到中文字体，图表中的汉字会显示成方框。请安装 Noto Sans CJK（Debian：apt-get install "
                        "fonts-noto-cjk，或运行 bash tools/dev.sh demo）或在 Windows 上使用微软雅黑。")


def chinese_font() -> tuple[str, Path]:
    """(family name, font file) of the CJK font the charts use, registered with matplotlib."""
    family, path = _find()
    _register(path)  # again, should matplotlib have rebuilt its list since
    return family, path


@functools.lru_cache(maxsize=32)
def _cmap(font_file: Path) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    collection = font_file.suffix.lower() in (".ttc", ".otc")
    with (TTCollection if collection else TTFont)(str(font_file), lazy=True) as opened:
        mapped = set()
        for font in opened.fonts if collection else [opened]:
            mapped |= set(font.getBestCmap() or {})
    return frozenset(mapped)


def covers(font_file: Path, text: str) -> set[str]:
    """The characters of `text` the font has no glyph for."""
    mapped = _cmap(Path(font_file))
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) not in mapped}
