"""The bulletin's charts as PNG images, drawn with matplotlib in a Chinese font (which has the Latin letters too)."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no screen: the office PC's service and CI both draw off-screen
from matplotlib import pyplot  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ..i18n import N_, Domain  # noqa: E402
from .fonts import chinese_font  # noqa: E402
from .progress import Progress  # noqa: E402

say = Domain("reports")


def _font():
    family, _ = chinese_font()
    matplotlib.rcParams["font.family"] = [family]
    matplotlib.rcParams["axes.unicode_minus"] = False


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    pyplot.close(figure)
    return buffer.getvalue()


HOURS_TITLE = N_("Average hours against the target to date")
HOURS_LABEL = N_("hours")
TREND_TITLE = N_("Returns and attendance by week")
CHART_TITLES = {"hours": HOURS_TITLE, "trend": TREND_TITLE}


def _texts(progress: Progress, lang: str) -> dict[str, object]:
    """Every fixed text the charts draw, in `lang`."""
    return {
        "hours_title": say(lang, HOURS_TITLE), "hours_label": say(lang, HOURS_LABEL),
        "average": say(lang, "Average hours"), "expected": say(lang, "Expected by now"),
        "trend_title": say(lang, TREND_TITLE), "returns": say(lang, "Returns received (branches)"),
        "week": say(lang, "Week"), "weeks": [say(lang, "Week {week}", week=w.week) for w in progress.weeks],
        "attendance": say(lang, "Attendance"), "attendance_axis": say(lang, "Attendance (%)"),
    }


def chart_texts(progress: Progress, lang: str = "zh") -> str:
    """Every text the charts draw, so a test can check the font has all of them."""
    texts = _texts(progress, lang)
    return "".join([*(t for t in texts.values() if isinstance(t, str)), *texts["weeks"],
                    *(b.name for b in progress.branches)])


def hours_chart(progress: Progress, lang: str = "zh") -> bytes:
    _font()
    texts = _texts(progress, lang)
    names = [b.name for b in progress.branches]
    figure, axes = pyplot.subplots(figsize=(7.5, 0.38 * len(names) + 1.3))
    positions = range(len(names))
    axes.barh([p + 0.2 for p in positions], [b.average_hours for b in progress.branches], height=0.4,
              color="#B22222", label=texts["average"])
    axes.barh([p - 0.2 for p in positions], [b.expected_hours for b in progress.branches], height=0.4,
              color="#A6A6A6", label=texts["expected"])
    axes.set_yticks(list(positions), names)
    axes.invert_yaxis()
    axes.set_xlabel(texts["hours_label"])
    axes.set_title(texts["hours_title"])
    axes.legend(loc="lower right")
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def trend_chart(progress: Progress, lang: str = "zh") -> bytes:
    _font()
    texts = _texts(progress, lang)
    weeks = [w.week for w in progress.weeks]
    figure, axes = pyplot.subplots(figsize=(7.5, 3.2))
    axes.bar(weeks, [w.returns for w in progress.weeks], color="#B22222", alpha=0.8, label=texts["returns"])
    axes.set_xlabel(texts["week"])
    axes.set_xticks(weeks, texts["weeks"])
    axes.set_ylim(0, max(len(progress.branches), 1) + 1)
    rate = axes.twinx()
    rate.plot(weeks, [(w.attendance_rate or 0) * 100 for w in progress.weeks], color="#1F4E79", marker="o",
              label=texts["attendance"])
    rate.set_ylim(0, 105)
    rate.set_ylabel(texts["attendance_axis"])
    axes.set_title(texts["trend_title"])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # branches are counted whole
    handles = axes.get_legend_handles_labels()[0] + rate.get_legend_handles_labels()[0]
    # Below the axes, where no bar or point can be behind it.
    axes.legend(handles, [h.get_label() for h in handles], loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2,
                frameon=False)
    return _png(figure)
