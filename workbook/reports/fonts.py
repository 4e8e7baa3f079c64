"""A font that draws Chinese, for the charts: boxes in place of characters are a defect.

Looks for the CJK fonts an office PC or the test machine has (Windows: Microsoft YaHei, SimHei;
Debian: Noto Sans CJK, installed by tools/dev.sh); none found is an error that says what to install."""
from __future__ import annotations

import functools
from pathlib import Path

from matplotlib import font_manager

CANDIDATES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Microsoft YaHei", "SimHei",
              "PingFang SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Serif CJK SC")


class NoChineseFont(RuntimeError):
    pass


@functools.lru_cache(maxsize=1)
def chinese_font() -> tuple[str, Path]:
    """(family name, font file) of the first CJK font found."""
    available = {font.name: Path(font.fname) for font in font_manager.fontManager.ttflist}
    for family in CANDIDATES:
        if family in available:
            return family, available[family]
    raise NoChineseFont("找不到中文字体，图表中的汉字会显示成方框。请安装 Noto Sans CJK（Debian：apt-get install "
                        "fonts-noto-cjk）或在 Windows 上使用微软雅黑。")


def covers(font_file: Path, text: str) -> set[str]:
    """The characters of `text` the font has no glyph for."""
    from fontTools.ttLib import TTCollection, TTFont

    if font_file.suffix.lower() == ".ttc":
        fonts = TTCollection(str(font_file)).fonts
    else:
        fonts = [TTFont(str(font_file))]
    mapped = set()
    for font in fonts:
        mapped |= set(font.getBestCmap())
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) not in mapped}
