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
from ..flags import RULE_TITLES, study_targets
from ..schema import load_schemas
from .charts import hours_chart, trend_chart
from .progress import Progress, compute_progress, previous

NO_LIAISON = "（未指定联系委员）"
TABLE_HEADER = ["支部", "联系委员", "党员", "本周回执", "人均学时", "达标占比", "出勤率", "笔记已查/合格", "落后提醒"]


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


def build_bulletin(tables: dict[str, list[dict]], as_of: date, college: str = "学院") -> Bulletin:
    progress = compute_progress(tables, as_of)
    before = previous(tables, progress)
    now, then = _totals(progress), _totals(before)
    expected = max((b.expected_hours for b in progress.branches), default=0)
    rated = [b.attendance_rate for b in progress.branches if b.attendance_rate is not None]
    target = sum(hours for _, hours in study_targets(Campaign.from_records(tables.get("phases", [])),
                                                     load_schemas().rules))
    headline = [
        f"第{progress.week}周（{progress.week_start:%m月%d日}—{progress.week_end:%m月%d日}）共收到 {now['returned']} 个支部的回执，"
        f"{len(progress.branches)} 个支部中 {len(progress.missing)} 个未交。",
        f"全院人均学时 {now['hours']:.1f}，按进度应达 {expected:.1f}（全程目标 {target:g} 学时）；"
        f"各支部集中学习出勤率 {min(rated, default=0):.0%}–{max(rated, default=0):.0%}。",
        f"落后提醒 {now['flags']} 条，涉及党员 {now['behind']} 人。",
    ]
    table = [[b.name, b.liaison or "—", str(b.members), "已交" if b.returned_this_week else "未交",
              f"{b.average_hours:.1f}", _percent(b.on_target_share), _percent(b.attendance_rate),
              f"{b.inspected}/{b.passed}", str(b.flags)] for b in progress.branches]
    laggards: dict[str, list[str]] = {}
    by_member: dict[tuple[str, str, str], list] = {}
    for flag in progress.flags:
        if flag.subject_kind == "member":
            by_member.setdefault((flag.liaison or NO_LIAISON, flag.branch, flag.name), []).append(flag)
    for (liaison, branch, name), flags in sorted(by_member.items()):
        needs = "；".join(f.shortfall for f in flags if f.shortfall)
        laggards.setdefault(liaison, []).append(
            f"{branch} {name}：{'、'.join(RULE_TITLES[f.rule] for f in flags)}" + (f"（{needs}）" if needs else ""))
    changes = [
        f"回执：本周 {now['returned']} 个支部，上周 {then['returned']} 个。",
        f"人均学时：{then['hours']:.1f} → {now['hours']:.1f}（增加 {now['hours'] - then['hours']:.1f}）。",
        f"落后提醒：{then['flags']} → {now['flags']} 条（{now['flags'] - then['flags']:+d}）；"
        f"涉及党员 {then['behind']} → {now['behind']} 人。",
    ]
    return Bulletin(
        week=progress.week, title=f"{college}保持共产党员先进性教育活动简报",
        subtitle=f"第{progress.week}周　截至 {as_of:%Y年%m月%d日}",
        headline=headline, table=table, missing=[b.name for b in progress.missing], laggards=laggards,
        changes=changes, charts={"hours": hours_chart(progress), "trend": trend_chart(progress)},
    )


def write_docx(bulletin: Bulletin, path: Path) -> Path:
    import io

    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = document.styles[style_name]
        style.font.name = "宋体" if style_name == "Normal" else "黑体"
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), style.font.name)
    document.styles["Normal"].font.size = Pt(11)
    document.add_heading(bulletin.title, level=0)
    document.add_paragraph(bulletin.subtitle)
    document.add_heading("一、本周概况", level=1)
    for line in bulletin.headline:
        document.add_paragraph(line, style="List Bullet")
    document.add_heading("二、各支部进度", level=1)
    grid = document.add_table(rows=1, cols=len(TABLE_HEADER))
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, TABLE_HEADER):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for values in bulletin.table:
        for cell, text in zip(grid.add_row().cells, values):
            cell.text = text
    for row in grid.rows:
        row.cells[0].width = Cm(4.6)  # branch names are long; the figures are short
    for key in ("hours", "trend"):
        document.add_picture(io.BytesIO(bulletin.charts[key]), width=Cm(15.5))
    document.add_heading("三、未交回执的支部", level=1)
    document.add_paragraph("、".join(bulletin.missing) if bulletin.missing else "本周各支部均已交回执。")
    document.add_heading("四、需跟进的党员（按联系委员）", level=1)
    if not bulletin.laggards:
        document.add_paragraph("本周没有落后的党员。")
    for liaison, lines in bulletin.laggards.items():
        document.add_heading(f"{liaison}（{len(lines)} 人）", level=2)
        for line in lines:
            document.add_paragraph(line, style="List Bullet")
    document.add_heading("五、与上周相比", level=1)
    for line in bulletin.changes:
        document.add_paragraph(line, style="List Bullet")
    document.save(str(path))
    return path


def write_html(bulletin: Bulletin, path: Path) -> Path:
    esc = html.escape
    parts = [f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>{esc(bulletin.title)}</title>",
             "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:60em;margin:auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}th{background:#B22222;color:#fff}"
             "</style>", f"<h1>{esc(bulletin.title)}</h1><p>{esc(bulletin.subtitle)}</p><h2>一、本周概况</h2><ul>",
             *(f"<li>{esc(line)}</li>" for line in bulletin.headline), "</ul><h2>二、各支部进度</h2><table><tr>",
             *(f"<th>{esc(h)}</th>" for h in TABLE_HEADER), "</tr>",
             *("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in bulletin.table), "</table>",
             *(f"<p><img alt='{key}' src='data:image/png;base64,{base64.b64encode(png).decode()}' width='700'></p>"
               for key, png in bulletin.charts.items()),
             f"<h2>三、未交回执的支部</h2><p>{esc('、'.join(bulletin.missing) or '本周各支部均已交回执。')}</p>",
             "<h2>四、需跟进的党员（按联系委员）</h2>"]
    for liaison, lines in bulletin.laggards.items():
        parts += [f"<h3>{esc(liaison)}（{len(lines)} 人）</h3><ul>", *(f"<li>{esc(x)}</li>" for x in lines), "</ul>"]
    parts += ["<h2>五、与上周相比</h2><ul>", *(f"<li>{esc(x)}</li>" for x in bulletin.changes), "</ul></html>"]
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
