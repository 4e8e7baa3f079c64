"""Write the master workbook (台账) from records, and read its records back.

The master is a projection of its records: every write builds the whole file anew from the
schema, so what BranchBook writes is always complete (tables, validations, styles) and no
openpyxl round trip can drop a part of it (docs/hazards.md 10).

It is written with XlsxWriter. Everything but the data rows goes through XlsxWriter's API; the data
rows (800,000 at a university) are turned into sheet XML here, straight from the records, when the
workbook is saved (see StreamedSheet): XlsxWriter's own cell-by-cell path costs several times more.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_range

from . import layout, print_setup
from .body_cache import BodyCache
from .cells import EXCEL_EPOCH, column_letter, moment_of, to_cell
from .i18n import Domain
from .schema import Field, Schemas, SheetSchema, load_schemas
from .sheet_text import _NOT_PLAIN, InlineTextSheet, text_xml
from .sheetio import read_sheet_records
from .texts import readme_lines
from .xlsx_zip import MasterWorkbook, body_marker, inflated_by_isal

Records = list[dict[str, Any]]
# Extra sheets (the dashboard) are drawn by a callback, so that this module knows nothing of reports.
# A painter adds its sheets to the XlsxWriter workbook being written; write_master saves it.
SheetPainter = Callable[[xlsxwriter.Workbook, Mapping[str, Records], str], None]

_FOREIGN_LIST_SHEETS = {"branch_id": ("branches", "branch_id"), "liaison_id": ("committee", "committee_id"),
                        "phase_id": ("phases", "phase_id")}
# Untrusted text is only ever written with write_string or as an inline string, never as a formula
# (docs/hazards.md 16); these options make XlsxWriter's generic write() as careful, for painters that use it.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
# Small masters are assembled in memory (no temp file per part); big ones on disk, to keep memory low.
IN_MEMORY_ROWS = 400_000
say = Domain("workbook")
TABLE_STYLE = "TableStyleLight9"
MAX_COLUMN_WIDTH = 255  # Excel's widest column
_PARTS_PER_WRITE = 32_768  # row tags and cells joined into one write (some 4,000 rows)


def _list_name(sheet_key: str) -> str:
    """The defined name (名称) of a sheet's first column, which drop-downs of other sheets list."""
    return f"list_{sheet_key}"


def _define_lists(wb: xlsxwriter.Workbook, schemas: Schemas, lang: str) -> None:
    """A name for each list a drop-down takes from another sheet: the ids in its column, from row 2 to the
    last filled row, so that a row the office adds by hand is in the list at once (docs/design.md, "Printing")."""
    for sheet_key, field_key in sorted(set(_FOREIGN_LIST_SHEETS.values())):
        name = "'" + schemas.sheet(sheet_key).name(lang).replace("'", "''") + "'"  # quoted always, as openpyxl quotes
        letter = column_letter(schemas.sheet(sheet_key).keys.index(field_key) + 1)
        wb.define_name(_list_name(sheet_key),
                       f"=OFFSET({name}!${letter}$2,0,0,MAX(1,COUNTA({name}!${letter}:${letter})-1),1)")


class StreamedSheet(InlineTextSheet):
    """A worksheet whose data rows are serialised from the records when the workbook is saved,
    instead of being stored cell by cell first. XlsxWriter writes everything else: the rows it
    holds (the header), the table, validations, panes, print setup.

    This overrides one private method of XlsxWriter (_write_sheet_data); `written` lets
    write_master check that the override really ran, and the tests compare its cells with the ones
    XlsxWriter writes itself."""

    def __init__(self) -> None:
        super().__init__()
        self.body: tuple[int, Callable[[bool], Iterable[str | bytes]]] | None = None
        self.written = False

    def set_body(self, first_row: int, rows: int, columns: int, chunks: Callable[[bool], Iterable[str | bytes]]) -> None:
        """`rows` rows from the 0-based `first_row` on, `columns` wide, whose XML `chunks(raw)` gives at save time
        (as UTF-8 bytes when `raw`)."""
        if rows:
            for row in (first_row, first_row + rows - 1):
                if self._check_dimensions(row, columns - 1):
                    raise ValueError(f"{self.name}: {first_row + rows} rows do not fit in an Excel sheet")
        self.body = (first_row, chunks)

    def add_table(self, first_row: int, first_col: int, last_row: int, last_col: int, options=None):
        """XlsxWriter's add_table without its cell-by-cell bookkeeping: it marks every cell a table
        covers against overlaps (4.8 million at a university, seconds and half a gigabyte). The table
        is declared over its header and first row, then stretched to its last row, which is safe for a
        table without total row, column formulas or data given here (else: XlsxWriter's own way)."""
        options = dict(options or {})
        plain = not (options.get("total_row") or "data" in options
                     or any(c and c.get("formula") for c in options.get("columns", [])))
        if not plain or last_row <= first_row + 1:
            return super().add_table(first_row, first_col, last_row, last_col, options)
        result = super().add_table(first_row, first_col, first_row + 1, last_col, options)
        if result == 0:
            table = self.tables[-1]
            table["range"] = xl_range(first_row, first_col, last_row, last_col)
            table["a_range"] = table["range"]
            if table.get("autofilter"):
                table["autofilter"] = table["range"]
        return result

    def _write_sheet_data(self) -> None:
        if self.body is None:
            super()._write_sheet_data()
            return
        first_row, chunks = self.body
        last_row = self.dim_rowmax
        self._xml_start_tag("sheetData")
        # XlsxWriter writes the rows it holds (those above the body); it must not walk the body's.
        self.dim_rowmax = first_row - 1
        try:
            if self.dim_rowmin is not None and self.dim_rowmin < first_row:
                self._write_rows()
        finally:
            self.dim_rowmax = last_row
        if isinstance(self.fh, io.StringIO):
            # Kept as bytes and put into the zip part in place of a marker (xlsx_zip.body_marker): the body (most
            # of the master) is not copied into the part's text, taken out and encoded again, and the rows reused
            # from the body cache are not decoded. Made now: the shared strings are written after the sheets.
            self.fh.write(body_marker(list(chunks(True))))
        else:
            for chunk in chunks(False):
                self.fh.write(chunk)
        self._xml_end_tag("sheetData")
        self.written = True


def _inline(ref: str, text: str, style: str = "") -> str:
    space, content = text_xml(text)
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{content}</t></is></c>'


_EPOCH_ORDINAL = EXCEL_EPOCH.toordinal()
_EPOCH_MOMENT = datetime.combine(EXCEL_EPOCH, datetime.min.time())


def _other_cell(ref: str, value: Any, date_style: str, moment_style: str) -> str:
    """The XML of a cell whose value is not text, an int or a date (the fast cases). A datetime takes
    `moment_style`: the date format in a date column, date and time elsewhere."""
    if value is True or value is False:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, float):
        if value - value == 0:  # finite
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        return _inline(ref, str(value))  # inf and nan are no Excel numbers: kept as the text they were
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, datetime):
        serial = (value - _EPOCH_MOMENT).total_seconds() / 86400
        return f'<c r="{ref}"{moment_style}><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}"{date_style}><v>{value.toordinal() - _EPOCH_ORDINAL}</v></c>'
    return _inline(ref, str(value))


# The biggest sheet, when it has at least this many rows, has its text written as shared strings
# (sharedStrings.xml, as Excel writes text): calamine reads a university's attendance a sixth faster so.
# Other sheets keep inline strings, as XlsxWriter's constant_memory mode writes them: a shared string's
# number depends on every shared text before it, so a sheet before the big one that gains rows (sessions),
# or a dashboard whose words change, would change all the big one's numbers, and its XML could not be
# reused (body_cache; sheet_text keeps XlsxWriter's own cells of other sheets out of the table).
SHARED_TEXT_ROWS = 10_000
# Not shared: each row's own fingerprint, which no other cell repeats.
_UNSHARED_FIELDS = {"row_fingerprint"}


def _can_share(table: Any) -> bool:
    """Whether body_xml can add text to XlsxWriter's shared string table. XlsxWriter turns the table into
    a list (string_array) before it writes the sheets and writes the list out after them; a table not in
    that state (another XlsxWriter) gets every text inline."""
    array = getattr(table, "string_array", None)
    return isinstance(array, list) and not getattr(table, "string_table", None) and len(array) == table.unique_count


def _shared_index(table: Any) -> dict[str, int] | None:
    """Text -> position in XlsxWriter's shared string table, or None (see _can_share)."""
    if not _can_share(table):
        return None
    return {text: at for at, text in enumerate(table.string_array)}


def body_xml(fields: Sequence[Field], records: Sequence[Mapping[str, Any]], lang: str, first_row: int,
             date_xf: int, moment_xf: int, shared: Any = None, start: int = 0,
             marks: list[tuple[int, int, int]] | None = None, wrap_xf: int | None = None) -> Iterator[str]:
    """The <row> elements of a sheet's records, from the 0-based `first_row` on, in chunks: what
    XlsxWriter's write_string/write_number/write_datetime would write for each value `to_cell`
    gives, with text always as text. Every record gets a <row>, blank or not (row_counts counts them).
    Given XlsxWriter's shared string table (`shared`), plain text (what needs no escaping) goes there,
    as write_string puts it: <c t="s"> cells; other text stays inline.

    From record `start` on (the rows before are already written: body_cache). Before each chunk, when
    given `marks` gets (records done, length of the shared strings, shared references made) as they
    are at the chunk's end. Text in a field that wraps takes the style `wrap_xf` (a cell's own style, not its
    column's, decides how it shows)."""
    wrap_style = f' s="{wrap_xf}"' if wrap_xf is not None else ""
    date_style, moment_style = f' s="{date_xf}"', f' s="{moment_xf}"'
    index = _shared_index(shared) if shared is not None else None
    array = shared.string_array if index is not None else None

    def share(text: str) -> int:
        """Its position in the shared strings (added when new), or -1: written inline."""
        at = index.get(text)
        if at is None:
            if _NOT_PLAIN.search(text):
                at = -1
            else:
                at = len(array)
                array.append(text)
                shared.unique_count += 1
            index[text] = at
        return at

    references = 0
    columns = []
    for position, field in enumerate(fields):
        labels = None
        sharing = index is not None and field.key not in _UNSHARED_FIELDS
        if field.type == "enum" and field.codes is not None:
            labels = {}
            sharing = sharing and not any(_NOT_PLAIN.search(code.label(lang)) for code in field.codes.codes)
            for code in field.codes.codes:
                if sharing:
                    labels[code.code] = f'" t="s"><v>{share(code.label(lang))}</v></c>'
                else:
                    space, content = text_xml(code.label(lang))
                    labels[code.code] = f'" t="inlineStr"><is><t{space}>{content}</t></is></c>'
        moment = date_style if field.type == "date" else moment_style
        columns.append((field, field.key, column_letter(position + 1), labels, moment, sharing,
                        field.type == "datetime", wrap_style if field.wrap else ""))
    # Wrapped text gets a row as tall as its lines: LibreOffice keeps a row's default height on import.
    wrapped = [(field.key, layout.column_width(field, lang)) for field in fields if field.wrap] if wrap_xf is not None else []
    wrapped = [(key, width, layout.one_line_length(width)) for key, width in wrapped]
    chunk: list[str] = []
    for number, record in enumerate(islice(records, start, None), start=first_row + start + 1):
        n = str(number)
        lines = 1
        for key, width, short in wrapped:
            text = record.get(key)
            if type(text) is str and len(text) > short:  # measured only when it may not fit on one line
                lines = max(lines, layout.wrapped_lines(text, width))
        chunk.append(f'<row r="{n}" ht="{lines * layout.LINE_POINTS}" customHeight="1">' if lines > 1
                     else f'<row r="{n}">')
        for field, key, letter, labels, moment, sharing, timed, style in columns:
            value = record.get(key)
            if value is None or value == "":
                continue
            if timed and type(value) is str:  # the ledger keeps moments as text; the sheet shows Excel dates
                value = moment_of(value) or value
            kind = type(value)
            if labels is not None:
                try:
                    chunk.append(f'<c r="{letter}{n}{labels[value]}')
                    references += sharing
                    continue
                except (KeyError, TypeError):
                    value = to_cell(field, value, lang)  # an unknown code fails here as it always did
                    kind = type(value)
            if kind is str:
                at = index.get(value) if sharing else -1
                if at is None:
                    at = share(value)
                if at >= 0:
                    chunk.append(f'<c r="{letter}{n}"{style} t="s"><v>{at}</v></c>')
                    references += 1
                elif _NOT_PLAIN.search(value):
                    chunk.append(_inline(letter + n, value, style))
                else:
                    chunk.append(f'<c r="{letter}{n}"{style} t="inlineStr"><is><t>{value}</t></is></c>')
            elif kind is int:
                chunk.append(f'<c r="{letter}{n}"><v>{value}</v></c>')
            elif kind is date:
                chunk.append(f'<c r="{letter}{n}"{date_style}><v>{value.toordinal() - _EPOCH_ORDINAL}</v></c>')
            else:
                chunk.append(_other_cell(letter + n, value, date_style, moment))
        chunk.append("</row>")
        if len(chunk) > _PARTS_PER_WRITE:
            if marks is not None:
                marks.append((number - first_row, len(array) if array is not None else 0, references))
            yield "".join(chunk)
            chunk.clear()
    if chunk:
        if marks is not None:
            marks.append((len(records), len(array) if array is not None else 0, references))
        yield "".join(chunk)
    if references:
        shared.count += references


def _write_table_sheet(wb: xlsxwriter.Workbook, sheet: SheetSchema, rows: Sequence[Mapping[str, Any]], lang: str,
                       schemas: Schemas, header, system_header, date_format, moment_format, wrap_format,
                       bodies: BodyCache | None = None, share_text: bool = False) -> StreamedSheet:
    ws = wb.add_worksheet(sheet.name(lang), worksheet_class=StreamedSheet)
    if share_text:  # before the table writes its header: the shared table holds this sheet's text only
        ws.share_text()
    fields = list(sheet.fields)
    last_column = len(fields) - 1
    widths = [layout.column_width(field, lang) for field in fields]
    for index, (field, width) in enumerate(zip(fields, widths, strict=True)):
        ws.set_column(index, index, width, wrap_format if field.wrap else None)  # for what is typed in later
    header_lines = max(layout.wrapped_lines(field.label(lang), width) for field, width in zip(fields, widths))
    if header_lines > 1:  # a label wider than its column wraps (the header format), in a row tall enough
        ws.set_row(0, header_lines * layout.LINE_POINTS)
    ws.freeze_panes(1, 0)
    for index, field in enumerate(fields):
        source = None
        if field.key in _FOREIGN_LIST_SHEETS and sheet.key != _FOREIGN_LIST_SHEETS[field.key][0]:
            source = _list_name(_FOREIGN_LIST_SHEETS[field.key][0])
        if field.system:
            continue
        options = layout.xlsx_validation(field, lang, list_source=source)
        if options is not None:
            ws.data_validation(1, index, layout.MASTER_VALIDATED_ROWS - 1, index, options)
    # The table writes the header cells (a table's column names are its header row's text).
    ws.add_table(0, 0, max(len(rows), 1), last_column, {
        "name": f"tbl_{sheet.key}", "style": TABLE_STYLE, "banded_rows": True, "autofilter": True,
        "columns": [{"header": f.label(lang), "header_format": system_header if f.system else header}
                    for f in fields],
    })
    print_setup.apply_xlsxwriter(ws, widths, lang)

    def body(start: int = 0, marks: list | None = None, shared: Any = None) -> Iterator[str]:
        return body_xml(fields, rows, lang, 1, date_format._get_xf_index(), moment_format._get_xf_index(),
                        shared=shared, start=start, marks=marks, wrap_xf=wrap_format._get_xf_index())

    def chunks(raw: bool) -> Iterator[str | bytes]:  # called when the workbook is saved
        shared = ws.str_table if share_text and _can_share(ws.str_table) else None
        if bodies is None or not bodies.covers(sheet.key, len(rows)):
            made = body(shared=shared)
            return (chunk.encode("utf-8") for chunk in made) if raw else made
        signature = [lang, sheet.key, [_field_signature(f, lang) for f in fields], date_format._get_xf_index(),
                     moment_format._get_xf_index(), wrap_format._get_xf_index()]
        return bodies.body(sheet.key, signature, shared, lambda start, marks: body(start, marks, shared), raw)

    ws.set_body(1, len(rows), len(fields), chunks)
    return ws


def _field_signature(field: Field, lang: str) -> list:
    """What of a field decides its cells' XML (for body_cache)."""
    labels = [[c.code, c.label(lang)] for c in field.codes.codes] if field.type == "enum" and field.codes else []
    return [field.key, field.type, labels, field.wrap]


def row_values(fields, rows: Sequence[Mapping[str, Any]], lang: str):
    """Each record as the values its row shows: codes as labels in the workbook's language."""
    for record in rows:
        yield [to_cell(field, record.get(field.key), lang) for field in fields]


def sheet_values(sheet: SheetSchema, rows: Sequence[Mapping[str, Any]], lang: str) -> list[list[Any]]:
    """A whole sheet as values, header first: what the add-in writes into an open workbook."""
    return [[f.label(lang) for f in sheet.fields], *row_values(sheet.fields, rows, lang)]


def _write_readme(wb: xlsxwriter.Workbook, lang: str, header, schemas: Schemas) -> None:
    ws = wb.add_worksheet(say(lang, "README"))
    lines = readme_lines(lang, schemas.campaign.title(lang), schemas)
    # As wide as its longest line, so that the lines print inside the page (LibreOffice wraps no such line).
    width = min(max(layout.display_width(line) for line in lines) + 2, MAX_COLUMN_WIDTH)
    ws.set_column(0, 0, width)
    for number, line in enumerate(lines):
        ws.write_string(number, 0, line, header if number == 0 else None)
    print_setup.apply_xlsxwriter(ws, [width], lang, title_rows=0, centred=False)


def write_master(
    path: Path,
    tables: Mapping[str, Records],
    lang: str = "zh",
    schemas: Schemas | None = None,
    painters: Iterable[SheetPainter] = (),
    bodies: BodyCache | None = None,
) -> None:
    """Write a complete master to `path` (callers that replace a live master write to a temp path).
    Nothing is written when a painter fails. `bodies`: the XML of rows unchanged since the last write,
    reused (body_cache)."""
    schemas = schemas or load_schemas()
    rows = sum(len(tables.get(sheet.key, ())) for sheet in schemas.master)
    wb = MasterWorkbook(str(path), {**WORKBOOK_OPTIONS, "in_memory": rows < IN_MEMORY_ROWS})
    header = layout.xlsx_header_format(wb)
    system_header = layout.xlsx_header_format(wb, system=True)
    date_format = layout.xlsx_date_format(wb)
    # To the minute: the seconds of a receipt say nothing to the office, and 19 characters a column would
    # cost 周报's print scale (docs/design.md, "Printing").
    moment_format = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    wrap_format = layout.xlsx_wrap_format(wb)
    _write_readme(wb, lang, header, schemas)
    _define_lists(wb, schemas, lang)
    biggest = max(schemas.master, key=lambda sheet: len(tables.get(sheet.key, ())))
    shared_key = biggest.key if len(tables.get(biggest.key, ())) >= SHARED_TEXT_ROWS else None
    sheets = [_write_table_sheet(wb, sheet, tables.get(sheet.key, []), lang, schemas, header, system_header,
                                 date_format, moment_format, wrap_format, bodies, sheet.key == shared_key)
              for sheet in schemas.master]
    for paint in painters:
        paint(wb, tables, lang)
    try:
        wb.close()
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    if not all(ws.written for ws in sheets):  # an XlsxWriter that no longer calls the override
        Path(path).unlink(missing_ok=True)
        raise RuntimeError("XlsxWriter did not write the master's rows; this XlsxWriter version is not supported")


def row_counts(path: Path, schemas: Schemas | None = None) -> dict[str, int]:
    """Data rows per schema sheet, by counting <row> elements in each sheet's XML: a cheap check that a
    master just written is whole."""
    import zipfile

    from .fastread import sheet_parts

    schemas = schemas or load_schemas()
    with zipfile.ZipFile(path) as archive:
        parts = sheet_parts(archive)
        counts = {}
        for sheet in schemas.master:
            name = sheet.name("zh") if sheet.name("zh") in parts else sheet.name("en")
            rows, tail = 0, b""
            with inflated_by_isal(archive.open(parts[name])) as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    data = tail + chunk
                    rows += data.count(b"<row ")
                    tail = data[-4:]  # shorter than the tag: a split tag is counted once, in the next round
            counts[sheet.key] = rows - 1
        return counts


def read_master(path: Path, schemas: Schemas | None = None) -> dict[str, Records]:
    """Every schema sheet's records, parsed; see sheetio for how cells that do not parse are kept."""
    from .fastread import open_sheets

    schemas = schemas or load_schemas()
    sheets = open_sheets(path, limit_mb=schemas.rules["limits"]["max_master_mb"])
    return {sheet.key: read_sheet_records(sheets, sheet).records for sheet in schemas.master}
