"""The bulletin as one HTML file (charts inline), for a web page or a mail; prints on A4 like the PDF."""
from __future__ import annotations

import base64
import html
from pathlib import Path

from ..i18n import Domain
from .bulletin import Bulletin
from .charts import CHART_TITLES

say = Domain("reports")
HTML_LANG = {"zh": "zh-CN", "en": "en"}
STYLE = ("@page{size:A4 portrait;margin:2cm 1.7cm}"
         "body{font-family:'SimSun','Noto Sans CJK SC',serif;max-width:17.6cm;margin:auto}"
         ".masthead{text-align:center;color:#C00000}.masthead h1{font-size:20pt;margin:.3em 0}"
         ".byline{display:flex;justify-content:space-between;border-bottom:3px solid #C00000;padding-bottom:.3em}"
         "table{border-collapse:collapse;margin:auto}td,th{border:1px solid #666;padding:2px 5px;font-size:9pt;"
         "text-align:center}td:first-child{text-align:left;white-space:nowrap}th{background:#eee}"
         ".note{font-size:9pt}img{display:block;margin:auto;max-width:100%}")


def _table(header: list[str], rows: list[list[str]]) -> str:
    esc = html.escape
    return ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows) + "</table>")


def _items(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"


def write_html(bulletin: Bulletin, path: Path) -> Path:
    esc, lang = html.escape, bulletin.lang
    heading = {key: esc(text) for key, text in bulletin.headings().items()}
    charts = "".join(f"<img alt='{esc(say(lang, CHART_TITLES[key]), quote=True)}' width='600' "
                     f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
                     for key, png in bulletin.charts.items())
    notes = "".join(f"<h3>{esc(n.heading)}</h3><p>{esc(n.summary)}</p>"
                    + (f"<p>{esc(n.problems)}</p>" if n.problems is not None else "") for n in bulletin.notes)
    parts = [
        f"<!doctype html><html lang='{HTML_LANG.get(lang, lang)}'><meta charset='utf-8'>",
        f"<title>{esc(bulletin.title)} {esc(bulletin.issue_line)}</title><style>{STYLE}</style>",
        f"<div class='masthead'><h1>{esc(bulletin.title)}</h1><p>{esc(bulletin.issue_line)}</p></div>",
        f"<div class='byline'><span>{esc(bulletin.editor_line)}</span><span>{esc(bulletin.date_line)}</span></div>",
        f"<h2>{heading['headline']}</h2>{_items(bulletin.headline)}",
        f"<h2>{heading['table']}</h2>{_table(bulletin.header('table'), bulletin.table)}",
        f"<p class='note'>{esc(bulletin.table_note)}</p>",
        f"<h2>{heading['charts']}</h2>{charts}",
        f"<h2>{heading['notes']}</h2>{notes}",
        f"<h2>{heading['changes']}</h2><p>{esc(bulletin.changes_intro)}</p>{_items(bulletin.changes)}",
        _table(bulletin.header("changes"), bulletin.changes_table), "</html>",
    ]
    path.write_text("".join(parts), encoding="utf-8")
    return path
