"""How every sheet BranchBook writes prints: on A4, one page wide, its header row on every page.

An office prints the master's sheets and the returns for the weekly meeting (docs/design.md, "Printing").
Each sheet gets the same setup, whichever library writes it (XlsxWriter for the master, openpyxl for the
returns): A4; landscape when its columns are wider than a portrait page; scaled to one page wide and as
many pages tall as it takes (fitToWidth 1, fitToHeight 0); its header rows repeated on every page (print
titles); centred across the page; 第 N 页，共 M 页 in the footer.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .i18n import N_, Domain

say = Domain("workbook")

A4 = 9  # Excel's paper size code
FOOTER = N_("Page &P of &N")  # &P and &N are Excel's page number and page count
# Margins in inches, the same for both writers (their defaults differ): narrow at the sides for wide tables.
SIDE_MARGIN = 0.4
TOP_MARGIN = BOTTOM_MARGIN = 0.6
HEADER_MARGIN = FOOTER_MARGIN = 0.3
_A4_INCHES = (8.27, 11.69)
_POINTS = 72
DEFAULT_WIDTH = 8.43  # Excel's width of a column nobody sized
# A sheet a little wider than a portrait page is printed portrait, a little smaller (fit to width):
# landscape only when portrait would shrink it below this.
PORTRAIT_SHRINK_MIN = 0.9


def column_points(width: float) -> float:
    """A column's width in points on paper: Excel shows `width` characters of 7 pixels plus 5 of padding,
    at 96 pixels per inch."""
    return (int(width * 7 + 0.5) + 5) * 0.75


def printable_points(landscape: bool) -> float:
    short, long = _A4_INCHES
    return ((long if landscape else short) - 2 * SIDE_MARGIN) * _POINTS


@dataclass(frozen=True)
class PageSetup:
    landscape: bool
    title_rows: int  # header rows repeated at the top of every page; 0: none

    @classmethod
    def for_columns(cls, widths: Sequence[float], title_rows: int = 1) -> PageSetup:
        """Landscape when the columns at their own widths are too wide for a portrait A4 page."""
        natural = sum(column_points(width) for width in widths)
        return cls(landscape=natural * PORTRAIT_SHRINK_MIN > printable_points(landscape=False), title_rows=title_rows)


def apply_xlsxwriter(ws, widths: Sequence[float], lang: str, title_rows: int = 1, pages_tall: int = 0,
                     landscape: bool | None = None, centred: bool = True) -> PageSetup:
    """Set up an XlsxWriter worksheet whose columns are `widths` wide. `pages_tall` 0: as many as it takes;
    `landscape` None: as its columns need (a sheet with charts says so itself). Not `centred`: a sheet of
    lines of text that overflow their one column, which LibreOffice centres by the overflow and cuts on
    the left."""
    setup = PageSetup.for_columns(widths, title_rows)
    if landscape is not None:
        setup = PageSetup(landscape, title_rows)
    ws.set_paper(A4)
    if setup.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=SIDE_MARGIN, right=SIDE_MARGIN, top=TOP_MARGIN, bottom=BOTTOM_MARGIN)
    ws.fit_to_pages(1, pages_tall)  # one page wide
    if centred:
        ws.center_horizontally()
    if setup.title_rows:
        ws.repeat_rows(0, setup.title_rows - 1)
    ws.set_header("", {"margin": HEADER_MARGIN})
    ws.set_footer("&C" + say(lang, FOOTER), {"margin": FOOTER_MARGIN})
    return setup


def _openpyxl_widths(ws) -> list[float]:
    from openpyxl.utils import get_column_letter

    widths = []
    for column in range(1, ws.max_column + 1):
        dimension = ws.column_dimensions.get(get_column_letter(column))
        widths.append(dimension.width if dimension is not None and dimension.customWidth else DEFAULT_WIDTH)
    return widths


def apply_openpyxl(ws, lang: str, title_rows: int = 1, filter_rows: int = 0) -> PageSetup:
    """Set up an openpyxl worksheet, its columns as they are sized now. With `filter_rows`, the header row
    gets filter buttons over that many rows below it, usable on a protected sheet too (sorting stays locked)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    setup = PageSetup.for_columns(_openpyxl_widths(ws), title_rows)
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape" if setup.landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    margins = ws.page_margins
    margins.left = margins.right = SIDE_MARGIN
    margins.top, margins.bottom = TOP_MARGIN, BOTTOM_MARGIN
    margins.header, margins.footer = HEADER_MARGIN, FOOTER_MARGIN
    ws.print_options.horizontalCentered = True
    if setup.title_rows:
        ws.print_title_rows = f"1:{setup.title_rows}"
    ws.oddFooter.center.text = say(lang, FOOTER)
    if filter_rows:
        ws.auto_filter.ref = f"A{title_rows}:{get_column_letter(ws.max_column)}{title_rows + filter_rows}"
        ws.protection.autoFilter = False  # False: allowed while the sheet is protected
    return setup
