"""The bulletin as an editable Word document, laid out as a 简报: A4 portrait, the masthead in red over a
red rule (title, 第N期, editor and date), numbered sections, a table whose columns fit the page, the
charts, page numbers in the footer. LibreOffice turns it into the PDF (bulletin.to_pdf)."""
from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from .bulletin import Bulletin

RED = RGBColor(0xC0, 0x00, 0x00)
# Fonts by language (Chinese text in 宋体 and 黑体, as a 简报 is set; English keeps Word's own).
FONTS = {"zh": {"Normal": "宋体", "Title": "黑体", "Heading 1": "黑体", "Heading 2": "黑体"}}
PAGE = (Cm(21.0), Cm(29.7))  # A4 portrait
MARGINS = {"top": Cm(2.5), "bottom": Cm(2.2), "left": Cm(1.7), "right": Cm(1.7)}
TEXT_WIDTH = 17.6  # cm between the margins
# The progress table's columns, in cm, summing to TEXT_WIDTH, and its size in points. At 9 pt a Chinese
# character is 0.32 cm and a cell pads 0.3 cm: the branch's name (up to 12 characters, 生物医学工程研究所党支部)
# and a return's state (退回待更正) stay on one line; headers may take two.
# English words are longer than the columns' Chinese: a smaller size, and room for "Attendance" and
# "correction" unbroken.
TABLE_LAYOUT = {"zh": ((4.3, 1.35, 1.35, 2.0, 1.5, 1.5, 1.4, 1.3, 1.6, 1.3), 9),
                "en": ((3.1, 1.7, 1.6, 1.9, 1.55, 1.2, 1.6, 1.9, 1.9, 1.15), 7.5)}
CHANGES_WIDTHS = (3.4, 2.2, 2.2, 2.2, 2.2)
CELL_MARGIN_TWIPS = 85  # 0.15 cm each side (Word's default is 0.19)
CHART_WIDTH = Cm(15.0)


def _fonts(document, lang: str) -> None:
    for name, font in FONTS.get(lang, {}).items():
        style = document.styles[name]
        style.font.name = font
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    document.styles["Normal"].font.size = Pt(11)
    for name, size in (("Heading 1", 14), ("Heading 2", 11.5)):
        style = document.styles[name]
        style.font.size, style.font.bold, style.font.color.rgb = Pt(size), True, RGBColor(0, 0, 0)
        style.paragraph_format.space_before, style.paragraph_format.space_after = Pt(10), Pt(4)


def _page(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE
    for side, size in MARGINS.items():
        setattr(section, f"{side}_margin", size)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(footer, "PAGE")


def _field(paragraph, code: str) -> None:
    """A field Word and LibreOffice fill in (the page number)."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, code), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == code:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {code} "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)  # noqa: SLF001 - python-docx has no API for fields


def _rule_below(paragraph, colour: str = "C00000") -> None:
    """The red rule under the masthead: a bottom border on its last paragraph."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "18"), ("space", "4"), ("color", colour)):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)  # noqa: SLF001 - python-docx has no API for borders


def _masthead(document, bulletin: Bulletin) -> None:
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(bulletin.title)
    run.font.size, run.font.bold, run.font.color.rgb = Pt(20), True, RED
    run.font.name = FONTS.get(bulletin.lang, {}).get("Title")
    number = document.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.add_run(bulletin.issue_line).font.size = Pt(13)
    byline = document.add_paragraph()
    byline.paragraph_format.tab_stops.add_tab_stop(Cm(TEXT_WIDTH), alignment=2)  # right-aligned at the margin
    byline.add_run(f"{bulletin.editor_line}\t{bulletin.date_line}").font.size = Pt(11)
    _rule_below(byline)


def _table(document, header: list[str], rows: list[list[str]], widths: tuple[float, ...], points: float) -> None:
    grid = document.add_table(rows=1, cols=len(header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(CELL_MARGIN_TWIPS))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    grid._tbl.tblPr.append(margins)  # noqa: SLF001 - python-docx has no API for cell margins
    for values, is_header in [(header, True), *((row, False) for row in rows)]:
        cells = grid.rows[0].cells if is_header else grid.add_row().cells
        for column, (cell, text) in enumerate(zip(cells, values)):
            cell.text = ""
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if column == 0 and not is_header else WD_ALIGN_PARAGRAPH.CENTER
            paragraph.add_run(text).font.size = Pt(points)
            if is_header:
                _shade(cell)  # shaded rather than bold: bold headers break inside words in narrow columns
    for column, width in zip(grid.columns, widths):
        column.width = Cm(width)  # the grid LibreOffice lays out by
        for cell in column.cells:
            cell.width = Cm(width)  # and each cell's own, which Word reads
    header_row = grid.rows[0]._tr.get_or_add_trPr()  # noqa: SLF001 - repeat the header on a new page
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_row.append(repeat)


def _shade(cell, fill: str = "E7E6E6") -> None:
    shading = OxmlElement("w:shd")
    for key, value in (("val", "clear"), ("color", "auto"), ("fill", fill)):
        shading.set(qn(f"w:{key}"), value)
    cell._tc.get_or_add_tcPr().append(shading)  # noqa: SLF001 - python-docx has no API for shading


def write_docx(bulletin: Bulletin, path: Path) -> Path:
    heading = bulletin.headings()
    document = Document()
    _fonts(document, bulletin.lang)
    _page(document)
    _masthead(document, bulletin)
    document.add_heading(heading["headline"], level=1)
    for line in bulletin.headline:
        document.add_paragraph(line, style="List Bullet")
    document.add_heading(heading["table"], level=1)
    widths, points = TABLE_LAYOUT.get(bulletin.lang, TABLE_LAYOUT["en"])
    _table(document, bulletin.header("table"), bulletin.table, widths, points)
    note = document.add_paragraph(bulletin.table_note)
    note.runs[0].font.size = Pt(9)
    document.add_heading(heading["charts"], level=1)
    for key in ("hours", "trend"):
        picture = document.add_paragraph()
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.add_run().add_picture(io.BytesIO(bulletin.charts[key]), width=CHART_WIDTH)
    document.add_heading(heading["notes"], level=1)
    for branch in bulletin.notes:
        document.add_heading(branch.heading, level=2)
        document.add_paragraph(branch.summary)
        if branch.problems is not None:
            document.add_paragraph(branch.problems)
    document.add_heading(heading["changes"], level=1)
    document.add_paragraph(bulletin.changes_intro)
    for line in bulletin.changes:
        document.add_paragraph(line, style="List Bullet")
    _table(document, bulletin.header("changes"), bulletin.changes_table, CHANGES_WIDTHS, points)
    document.save(str(path))
    return path
