"""How far a workbook's sheets reach, found in their XML before any reader parses them.

calamine allocates its grid for the whole range a sheet uses: one value at XFD1048576 asks for 550 GB
and the process aborts (docs/hazards.md 25). So each sheet's declared `<dimension>` and, for a file of a
received file's size, the cells' own references are read first, with a regular expression over the
streamed XML, and a sheet reaching too far is refused before it is parsed."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from defusedxml import ElementTree

# calamine holds 32 bytes a cell of the range: 20 million cells is about 640 MB. A university master
# (844,608 attendance rows of 8 columns) is under 7 million.
MAX_SHEET_CELLS = 20_000_000
_CHUNK = 1 << 20

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s[^>]*?ref="([A-Z]{1,4})?([0-9]{1,8})?(?::([A-Z]{1,4})([0-9]{1,8}))?"')
# A cell's reference (r="B7") or a row's (r="7"): the only `r` attributes of a sheet's XML, each after a blank.
# Searched from its literal `r="` (a search that starts with the blank's class tries every byte: some five times
# slower over a return's formulas), then kept only after a blank: letters and digits as far as they go (at most
# 4 and 8), and whether the quote closes them. A cell's reference has letters and a digit; a row's (or a cell's)
# number, digits and the closing quote.
_REFERENCE = re.compile(rb'r="([A-Z]{0,4})([0-9]{0,8})(")?')
_BLANKS = frozenset(b" \t\n\r\x0b\x0c")  # what \s matches in bytes
_BY_SIZE = lambda text: (len(text), text)  # noqa: E731 - letters and digits compare by length first
# A reference beyond column Z or row 9,999. A chunk without one (a return's every sheet) reaches at most
# Z9999 and needs no closer look: one search instead of two lists of every reference.
_FAR = re.compile(rb' r="(?:[A-Z]{2}|[A-Z]?[0-9]{5})')
_OTHER_BLANK = re.compile(rb'[\t\n\r\x0b\x0c]r="')  # a reference after a blank other than a space
NEAR_ROWS, NEAR_COLUMN = 9_999, b"Z"

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def sheet_parts(archive) -> dict[str, str]:
    """Sheet name -> its XML part in an open .xlsx zip."""
    rels = {r.get("Id"): r.get("Target") for r in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))}
    parts = {}
    for sheet in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter(f"{_MAIN}sheet"):
        target = rels[sheet.get(_REL_ID)].lstrip("/")
        parts[sheet.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return parts


def column_number(letters: bytes | str) -> int:
    number = 0
    for letter in letters.encode() if isinstance(letters, str) else letters:
        number = number * 26 + letter - 64
    return number


def cell_name(row: int, column: int) -> str:
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


@dataclass
class Reach:
    """The last row and column a sheet uses, as far as its XML shows."""

    rows: int = 0
    columns: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    @property
    def last_cell(self) -> str:
        return cell_name(max(self.rows, 1), max(self.columns, 1))


def declared_reach(head: bytes) -> Reach | None:
    """The range a sheet's `<dimension>` declares (it comes before the cells), or None."""
    found = _DIMENSION.search(head)
    if not found:
        return None
    first_col, first_row, last_col, last_row = found.groups()
    col, row = (last_col, last_row) if last_col else (first_col, first_row)
    return Reach(int(row or 1), column_number(col or b"A"))


def cells_reach(stream, head: bytes = b"") -> Reach:
    """The furthest row and column the cells of a sheet's XML stream reach (`head`: what was read of it
    already). A cell or row without a reference takes the next place, so each one without counts one
    further (an upper bound)."""
    reach = Reach()
    widest = b""
    cells = rows = referenced_cells = referenced_rows = 0
    tail = head
    while True:
        chunk = stream.read(_CHUNK)
        text = tail + chunk
        if chunk:
            cut = text.rfind(b">") + 1  # a tag cut by the chunk's end waits for the next chunk
            text, tail = text[:cut], text[cut:]
        # Counted loosely (a <col or <cfRule counts too): only ever a larger reach.
        cells += text.count(b"<c")
        rows += text.count(b"<row")
        # Near only when every reference follows a space: one after a tab or a line break is looked at closely.
        if not _FAR.search(text) and not _OTHER_BLANK.search(text):
            references, row_references = text.count(b' r="'), text.count(b'<row r="')
            referenced_cells += references - row_references
            referenced_rows += row_references
            reach.rows = max(reach.rows, NEAR_ROWS if references else 0)
            widest = max(widest, NEAR_COLUMN if references else b"", key=_BY_SIZE)
            if not chunk:
                break
            continue
        columns, numbers = references_in(text)
        if columns:
            widest = max(widest, *set(columns), key=_BY_SIZE)
        if numbers:
            reach.rows = max(reach.rows, int(max(set(numbers), key=_BY_SIZE)))
        referenced_cells += len(columns)
        referenced_rows += len(numbers) - len(columns)
        if not chunk:
            break
    reach.columns = (column_number(widest) if widest else 0) + max(cells - referenced_cells, 0)
    reach.rows += max(rows - referenced_rows, 0)
    return reach


def references_in(text: bytes) -> tuple[list[bytes], list[bytes]]:
    """The column letters of every cell reference (r="AB12": AB) and the number of every reference that ends
    with one (r="12" or r="AB12": 12) in a piece of sheet XML, each after a blank."""
    columns, numbers = [], []
    for found in _REFERENCE.finditer(text):
        start = found.start()
        if start and text[start - 1] in _BLANKS:
            letters, digits, closed = found.groups()
            if digits:
                if letters:
                    columns.append(letters)
                if closed:
                    numbers.append(digits)
    return columns, numbers


def too_far(archive: zipfile.ZipFile, scan_cells: bool, unparsed: set[str] = frozenset()) -> tuple[str, Reach] | None:
    """(sheet name, its reach) of the first sheet that reaches beyond MAX_SHEET_CELLS, or None. The
    declared dimension is always read (one look at each sheet's head); the cells themselves when
    `scan_cells` (a received file: small enough to read through). The sheets named in `unparsed` are never given
    to calamine (a return's guide: 1.5 MB of formulas, most of the scan): only read through, so that the zip's
    checksum is checked (sheet_reach looks at one if it is parsed after all)."""
    skipped = set(_parts_of(archive, unparsed).values())
    for part in archive.namelist():
        if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
            continue
        if part in skipped:
            with archive.open(part) as stream:
                while stream.read(_CHUNK):
                    pass
            continue
        reach = _part_reach(archive, part, scan_cells)
        if reach is not None and reach.cells > MAX_SHEET_CELLS:
            return _title(archive, part), reach
    return None


def sheet_reach(archive: zipfile.ZipFile, name: str) -> Reach | None:
    """The reach of one sheet, by its name (its cells read through), or None when the workbook does not list it."""
    part = _parts_of(archive, {name}).get(name)
    return None if part is None else _part_reach(archive, part, True)


def _parts_of(archive: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Sheet name -> its part, for the sheets named that the workbook lists."""
    if not names:
        return {}
    try:
        parts = sheet_parts(archive)
    except Exception:  # noqa: BLE001 - a workbook that does not say: every sheet is scanned
        return {}
    return {name: parts[name] for name in names if name in parts}


def _part_reach(archive: zipfile.ZipFile, part: str, scan_cells: bool) -> Reach | None:
    with archive.open(part) as stream:
        head = stream.read(4096)
        reach = declared_reach(head)
        if (reach is None or reach.cells <= MAX_SHEET_CELLS) and scan_cells:
            reach = cells_reach(stream, head)
    return reach


def _title(archive: zipfile.ZipFile, part: str) -> str:
    """A sheet part's name as the secretary sees it (the part's own name if the workbook does not say)."""
    try:
        titles = {target: title for title, target in sheet_parts(archive).items()}
    except Exception:  # noqa: BLE001 - the name is only for the message
        titles = {}
    return titles.get(part, part.rsplit("/", 1)[-1])
