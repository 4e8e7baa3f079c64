"""The bulletin's charts as PNG images, drawn with matplotlib in a Chinese font."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no screen: the office PC's service and CI both draw off-screen
from matplotlib import pyplot  # noqa: E402

from .fonts import chinese_font  # noqa: E402
from .progress import Progress  # noqa: E402


def _font():
    family, _ = chinese_font()
    matplotlib.rcParams["font.family"] = [family]
    matplotlib.rcParams["axes.unicode_minus"] = False


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    pyplot.close(figure)
    return buffer.getvalue()


def chart_texts(progress: Progress) -> str:
    """Every text the charts draw, so a test can check the font has all of them."""
    return "".join([HOURS_TITLE, HOURS_LABEL, TREND_TITLE, "人均学时进度目标收到回执（个支部）出勤率周第",
                    *(b.name for b in progress.branches)])


HOURS_TITLE = "各支部人均学时与进度目标"
HOURS_LABEL = "学时"
TREND_TITLE = "每周回执与出勤率"


def hours_chart(progress: Progress) -> bytes:
    _font()
    names = [b.name for b in progress.branches]
    figure, axes = pyplot.subplots(figsize=(7.5, 0.45 * len(names) + 1.5))
    positions = range(len(names))
    axes.barh([p + 0.2 for p in positions], [b.average_hours for b in progress.branches], height=0.4,
              color="#B22222", label="人均学时")
    axes.barh([p - 0.2 for p in positions], [b.expected_hours for b in progress.branches], height=0.4,
              color="#A6A6A6", label="进度目标")
    axes.set_yticks(list(positions), names)
    axes.invert_yaxis()
    axes.set_xlabel(HOURS_LABEL)
    axes.set_title(HOURS_TITLE)
    axes.legend(loc="lower right")
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def trend_chart(progress: Progress) -> bytes:
    _font()
    weeks = [w.week for w in progress.weeks]
    figure, axes = pyplot.subplots(figsize=(7.5, 3.2))
    axes.bar(weeks, [w.returns for w in progress.weeks], color="#B22222", alpha=0.8, label="收到回执（个支部）")
    axes.set_xlabel("周次")
    axes.set_xticks(weeks, [f"第{w}周" for w in weeks])
    axes.set_ylim(0, max(len(progress.branches), 1) + 1)
    rate = axes.twinx()
    rate.plot(weeks, [(w.attendance_rate or 0) * 100 for w in progress.weeks], color="#1F4E79", marker="o",
              label="出勤率")
    rate.set_ylim(0, 105)
    rate.set_ylabel("出勤率（%）")
    axes.set_title(TREND_TITLE)
    handles = axes.get_legend_handles_labels()[0] + rate.get_legend_handles_labels()[0]
    axes.legend(handles, [h.get_label() for h in handles], loc="lower left")
    return _png(figure)
