"""The weekly bulletin (简报) for the expanded committee meeting: headline figures, a table of the
branches, the charts, who has not returned, who falls behind by liaison, and what changed since
last week. Editable docx by default; html, or pdf through LibreOffice."""
from __future__ import annotations

import base64
import html
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..calendar import Campaign
from ..errors import UserError
from ..flags import day_words, study_targets
from ..i18n import N_, Domain
from ..schema import load_schemas
from .charts import CHART_TITLES, hours_chart, trend_chart
from .progress import Progress, compute_progress, previous
from .reminders import semicolons

say = Domain("reports")
NO_LIAISON = N_("(no liaison named)")
TABLE_HEADER = [N_("Branch"), N_("Liaison"), N_("Party members"), N_("Return this week"), N_("Avg hours"),
                N_("On target"), N_("Attendance"), N_("Notebooks checked/passed"), N_("Flags")]
RETURNED = (N_("yes"), N_("missing"))  # this week's return, as the dashboard says it
HEADINGS = {"headline": N_("1. This week"), "table": N_("2. Progress by branch"),
            "missing": N_("3. Branches that have not returned"),
            "laggards": N_("4. Members to follow up (by liaison)"), "changes": N_("5. Compared with last week")}
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# The docx's fonts by language (Chinese text in 宋体 and 黑体; English keeps Word's own).
DOCX_FONTS = {"zh": {"Normal": "宋体", "Title": "黑体", "Heading 1": "黑体", "Heading 2": "黑体"}}


@dataclass
class Bulletin:
    week: int
    title: str
    subtitle: str
    headline: list[str]
    table: list[list[str]]
    missing: list[str]
    laggards: dict[str, list[str]]  # liaison -> lines
    changes: list[str]
    charts: dict[str, bytes] = field(default_factory=dict)
    lang: str = "zh"  # the language of its words


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _totals(progress: Progress) -> dict[str, float]:
    members = sum(b.members for b in progress.branches) or 1
    return {
        "returned": sum(b.returned_this_week for b in progress.branches),
        "hours": sum(b.average_hours * b.members for b in progress.branches) / members,
        "flags": len(progress.flags),
        "behind": len({f.subject_id for f in progress.flags if f.subject_kind == "member"}),
    }


def build_bulletin(tables: dict[str, list[dict]], as_of: date, college: str | None = None,
                   lang: str = "zh") -> Bulletin:
    """The bulletin in `lang`; `college` as the settings name it (None: "the college" in `lang`)."""
    progress = compute_progress(tables, as_of)
    before = previous(tables, progress)
    now, then = _totals(progress), _totals(before)
    expected = max((b.expected_hours for b in progress.branches), default=0)
    rated = [b.attendance_rate for b in progress.branches if b.attendance_rate is not None]
    target = sum(hours for _, hours in study_targets(Campaign.from_records(tables.get("phases", [])),
                                                     load_schemas().rules))
    headline = [
        say(lang, "Week {week} ({start}–{end}): {returned} of {branches} branches returned, {missing} missing.",
            week=progress.week, start=day_words(lang, progress.week_start), end=day_words(lang, progress.week_end),
            returned=now["returned"], branches=len(progress.branches), missing=len(progress.missing)),
        say(lang, "Average study hours across the college {hours:.1f}, {expected:.1f} due by now (target for the "
                  "campaign {target:g} hours); attendance at central sessions by branch {lowest:.0%}–{highest:.0%}.",
            hours=now["hours"], expected=expected, target=target, lowest=min(rated, default=0),
            highest=max(rated, default=0)),
        say(lang, "Flags: {flags}; members concerned: {behind}.", flags=now["flags"], behind=now["behind"]),
    ]
    yes, no = (say(lang, word) for word in RETURNED)
    table = [[b.name, b.liaison or "—", str(b.members), yes if b.returned_this_week else no,
              f"{b.average_hours:.1f}", _percent(b.on_target_share), _percent(b.attendance_rate),
              f"{b.inspected}/{b.passed}", str(b.flags)] for b in progress.branches]
    laggards: dict[str, list[str]] = {}
    by_member: dict[tuple[str, str, str], list] = {}
    no_liaison = say(lang, NO_LIAISON)
    for flag in progress.flags:
        if flag.subject_kind == "member":
            by_member.setdefault((flag.liaison or no_liaison, flag.branch, flag.name), []).append(flag)
    for (liaison, branch, name), flags in sorted(by_member.items()):
        rules = say(lang, ", ").join(f.title(lang) for f in flags)
        line = say(lang, "{branch} {name}: {rules}", branch=branch, name=name, rules=rules)
        needs = semicolons(lang, [f.shortfall(lang) for f in flags if f.shortfall(lang)])
        laggards.setdefault(liaison, []).append(say(lang, "{line} ({needs})", line=line, needs=needs) if needs else line)
    changes = [
        say(lang, "Returns: {now} branches this week, {then} last week.", now=now["returned"], then=then["returned"]),
        say(lang, "Average hours: {then:.1f} → {now:.1f} ({gain:+.1f}).", then=then["hours"], now=now["hours"],
            gain=now["hours"] - then["hours"]),
        say(lang, "Flags: {then} → {now} ({change:+d}); members concerned: {then_behind} → {now_behind}.",
            then=then["flags"], now=now["flags"], change=now["flags"] - then["flags"], then_behind=then["behind"],
            now_behind=now["behind"]),
    ]
    college = college or say(lang, "The college")
    return Bulletin(
        week=progress.week,
        title=say(lang, "{college}: bulletin of the campaign to preserve the advanced nature of Party members",
                  college=college),
        subtitle=say(lang, "Week {week}, as of {date} {year}", week=progress.week, date=day_words(lang, as_of),
                     year=as_of.year, month=as_of.month, day=as_of.day),
        headline=headline, table=table, missing=[b.name for b in progress.missing], laggards=laggards,
        changes=changes, charts={"hours": hours_chart(progress, lang), "trend": trend_chart(progress, lang)},
        lang=lang,
    )


def write_docx(bulletin: Bulletin, path: Path) -> Path:
    import io

    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    lang = bulletin.lang
    heading = {key: say(lang, message) for key, message in HEADINGS.items()}
    document = Document()
    for style_name, font in DOCX_FONTS.get(bulletin.lang, {}).items():
        style = document.styles[style_name]
        style.font.name = font
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    document.styles["Normal"].font.size = Pt(11)
    document.add_heading(bulletin.title, level=0)
    document.add_paragraph(bulletin.subtitle)
    document.add_heading(heading["headline"], level=1)
    for line in bulletin.headline:
        document.add_paragraph(line, style="List Bullet")
    document.add_heading(heading["table"], level=1)
    grid = document.add_table(rows=1, cols=len(TABLE_HEADER))
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, TABLE_HEADER):
        cell.text = say(lang, text)
        cell.paragraphs[0].runs[0].bold = True
    for values in bulletin.table:
        for cell, text in zip(grid.add_row().cells, values):
            cell.text = text
    for row in grid.rows:
        row.cells[0].width = Cm(4.6)  # branch names are long; the figures are short
    for key in ("hours", "trend"):
        document.add_picture(io.BytesIO(bulletin.charts[key]), width=Cm(15.5))
    document.add_heading(heading["missing"], level=1)
    document.add_paragraph(_missing(bulletin))
    document.add_heading(heading["laggards"], level=1)
    if not bulletin.laggards:
        document.add_paragraph(say(lang, "No member falls behind this week."))
    for liaison, lines in bulletin.laggards.items():
        document.add_heading(_liaison(lang, liaison, lines), level=2)
        for line in lines:
            document.add_paragraph(line, style="List Bullet")
    document.add_heading(heading["changes"], level=1)
    for line in bulletin.changes:
        document.add_paragraph(line, style="List Bullet")
    document.save(str(path))
    return path


def _missing(bulletin: Bulletin) -> str:
    if not bulletin.missing:
        return say(bulletin.lang, "Every branch has returned this week.")
    return say(bulletin.lang, ", ").join(bulletin.missing)


def _liaison(lang: str, liaison: str, lines: list[str]) -> str:
    return say(lang, "{liaison} ({count})", liaison=liaison, count=len(lines))


def write_html(bulletin: Bulletin, path: Path) -> Path:
    esc, lang = html.escape, bulletin.lang
    heading = {key: esc(say(lang, message)) for key, message in HEADINGS.items()}
    parts = [f"<!doctype html><html lang='{HTML_LANG.get(bulletin.lang, bulletin.lang)}'><meta charset='utf-8'>"
             f"<title>{esc(bulletin.title)}</title>",
             "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:60em;margin:auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}th{background:#B22222;color:#fff}"
             "</style>", f"<h1>{esc(bulletin.title)}</h1><p>{esc(bulletin.subtitle)}</p><h2>{heading['headline']}</h2><ul>",
             *(f"<li>{esc(line)}</li>" for line in bulletin.headline), f"</ul><h2>{heading['table']}</h2><table><tr>",
             *(f"<th>{esc(say(lang, h))}</th>" for h in TABLE_HEADER), "</tr>",
             *("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in bulletin.table), "</table>",
             *(f"<p><img alt='{esc(say(lang, CHART_TITLES[key]), quote=True)}' "
               f"src='data:image/png;base64,{base64.b64encode(png).decode()}' width='700'></p>"
               for key, png in bulletin.charts.items()),
             f"<h2>{heading['missing']}</h2><p>{esc(_missing(bulletin))}</p>", f"<h2>{heading['laggards']}</h2>"]
    for liaison, lines in bulletin.laggards.items():
        parts += [f"<h3>{esc(_liaison(lang, liaison, lines))}</h3><ul>",
                  *(f"<li>{esc(x)}</li>" for x in lines), "</ul>"]
    parts += [f"<h2>{heading['changes']}</h2><ul>", *(f"<li>{esc(x)}</li>" for x in bulletin.changes), "</ul></html>"]
    path.write_text("".join(parts), encoding="utf-8")
    return path


class NeedsLibreOffice(UserError):
    def __init__(self):
        super().__init__("needs-libreoffice")


def to_pdf(document: Path, target: Path) -> Path:
    """Convert with headless LibreOffice (a private profile, so a running instance does not interfere)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise NeedsLibreOffice()
    with tempfile.TemporaryDirectory() as profile:
        outdir = Path(profile) / "out"
        subprocess.run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(outdir), str(document)],
                       check=True, capture_output=True, timeout=300)
        shutil.move(str(outdir / (document.stem + ".pdf")), target)
    return target


def write_bulletin(bulletin: Bulletin, path: Path, fmt: str) -> Path:
    if fmt == "docx":
        return write_docx(bulletin, path)
    if fmt == "html":
        return write_html(bulletin, path)
    if fmt == "pdf":
        with tempfile.TemporaryDirectory() as scratch:
            source = write_docx(bulletin, Path(scratch) / (path.stem + ".docx"))
            return to_pdf(source, path)
    raise ValueError(fmt)
