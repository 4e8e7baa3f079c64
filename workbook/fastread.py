"""Read a workbook's cell values fast with calamine (Rust), about 20 times openpyxl's speed: a
university master of 800,000 attendance rows reads in seconds, not minutes. openpyxl stays the
writer, and the reader where styles or validations matter."""
from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from python_calamine import CalamineWorkbook

from .extent import sheet_parts
from .i18n import Domain
from .safe_open import BROKEN_CONTENT, UnreadableFile, inspect

say = Domain("workbook")

_DCTERMS = "{http://purl.org/dc/terms/}modified"
_LAST_MODIFIED_BY = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastModifiedBy"


class CalamineSheet:
    """A sheet as the readers want it: a title and rows of values, blanks as None."""

    def __init__(self, sheet, title: str, state: str):
        self._parsed = sheet  # calamine's sheet, or the _SheetParse still parsing it
        self.title = title
        self.sheet_state = state

    @property
    def _sheet(self):
        if isinstance(self._parsed, (_SheetParse, _Unparsed)):
            self._parsed = self._parsed.sheet()
        return self._parsed

    @property
    def parsed(self) -> bool:
        """Whether its values were read (open_sheets leaves the sheets it is told to skip until they are asked)."""
        return not isinstance(self._parsed, _Unparsed)

    def iter_rows(self, min_row: int = 1, values_only: bool = True):
        for number, row in enumerate(self._sheet.iter_rows(), start=1):
            if number >= min_row:
                yield tuple(None if value == "" else value for value in row)

    def raw_rows(self) -> tuple[list[list[Any]], Any]:
        """Every row at once, as iter_rows gives them, and what an empty cell holds there: "" (turning
        it into None cell by cell costs more than reading). Converted in one call, not row by row."""
        rows = self._sheet.to_python()
        start = self._sheet.start
        if rows and start and start[0]:  # to_python starts at the first row used, iter_rows at row 1
            rows[:0] = [[""] * len(rows[0]) for _ in range(start[0])]
        return rows, ""


class _Unparsed:
    """A sheet left unparsed until its values are asked (open_sheets' `skip`)."""

    def __init__(self, book, path: Path, name: str):
        self.book, self.path, self.name = book, path, name

    def sheet(self):
        import zipfile

        from .extent import MAX_SHEET_CELLS, sheet_reach

        try:
            with zipfile.ZipFile(self.path) as archive:  # its reach was not looked at (inspect's `unparsed`)
                reach = sheet_reach(archive, self.name)
        except Exception as error:  # noqa: BLE001 - damaged: as calamine's own failure says
            raise UnreadableFile("corrupt", self.path, reason=say.later(BROKEN_CONTENT)) from error
        if reach is not None and reach.cells > MAX_SHEET_CELLS:
            raise UnreadableFile("too-far", self.path, sheet=self.name, cell=reach.last_cell)
        try:
            return self.book.get_sheet_by_name(self.name)
        except Exception as error:  # noqa: BLE001 - calamine raises its own kinds on damaged files
            raise UnreadableFile("corrupt", self.path, reason=say.later(BROKEN_CONTENT)) from error


class _SheetParse(threading.Thread):
    """One sheet parsed by calamine in a thread of its own, through a CalamineWorkbook of its own (one
    parses a sheet at a time). Calamine lets go of the GIL while it parses."""

    def __init__(self, path: Path, name: str):
        super().__init__(name=f"calamine {name}")
        self.path, self.sheet_name = path, name
        self.parsed: Any = None
        self.error: Exception | None = None
        self.start()

    def run(self) -> None:
        try:
            self.parsed = CalamineWorkbook.from_path(str(self.path)).get_sheet_by_name(self.sheet_name)
        except Exception as error:  # noqa: BLE001 - given to whoever reads the sheet
            self.error = error

    def sheet(self):
        self.join()
        if self.error is not None:
            raise UnreadableFile("corrupt", self.path, reason=say.later(BROKEN_CONTENT)) from self.error
        return self.parsed


# A sheet whose XML is larger than this is parsed beside the others, in a thread of its own.
PARALLEL_SHEET_BYTES = 16 * 2**20


def open_sheets(path: Path, limit_mb: float | None = None, *, wait: bool = True,
                skip: Iterable[str] = ()) -> list[CalamineSheet]:
    """Every sheet of an inspected workbook; UnreadableFile when it cannot be parsed. The sheets named in `skip`
    are parsed only if their values are asked (a return's guide: its 填报检查 formulas are half of reading a
    return, and nothing reads its values).

    The largest sheet of a big workbook (a university's attendance: seconds) is parsed in a thread of
    its own while this one parses the others. With wait=False it may still be parsing when this returns:
    reading it waits for it, and wait_parsed(sheets) for all; either raises UnreadableFile if it could not be
    parsed. Of several sheets that cannot be parsed, the first in the workbook's order is reported, as
    when they are parsed one by one."""
    path = Path(path)
    skip = set(skip)
    inspect(path, limit_mb, unparsed=skip)
    background = None
    try:
        largest = _largest_sheet(path)
        if largest is not None:
            background = _SheetParse(path, largest)
        book = CalamineWorkbook.from_path(str(path))
        states = {m.name: str(m.visible).rsplit(".", 1)[-1] for m in book.sheets_metadata}
        names = book.sheet_names
        if largest not in names and background is not None:  # a name calamine does not list: parse as usual
            background.join()
            background = largest = None
        sheets = []
        for name in names:
            if name == largest:
                sheet = background
            elif name in skip:
                sheet = _Unparsed(book, path, name)
            else:
                try:
                    sheet = book.get_sheet_by_name(name)
                except Exception:
                    if background is not None and names.index(largest) < names.index(name):
                        background.join()
                        if background.error is not None:
                            raise background.error from None
                    raise
            sheets.append(CalamineSheet(sheet, name, states.get(name, "Visible")))
        if background is not None and wait:
            background.join()
            if background.error is not None:
                raise background.error
        return sheets
    except Exception as error:  # noqa: BLE001 - calamine raises its own kinds on damaged files
        if background is not None:
            background.join()
        raise UnreadableFile("corrupt", path, reason=say.later(BROKEN_CONTENT)) from error


def wait_parsed(sheets, check: bool = True) -> None:
    """Wait until every sheet of open_sheets(..., wait=False) is parsed; UnreadableFile if one could not
    be (unless check is False)."""
    for sheet in sheets:
        if isinstance(sheet, CalamineSheet) and isinstance(sheet._parsed, _SheetParse):
            if check:
                sheet._sheet  # noqa: B018 - parses or raises
            else:
                sheet._parsed.join()


def _largest_sheet(path: Path) -> str | None:
    """The name of the sheet with the largest XML, if it is worth a thread of its own."""
    import zipfile

    if path.stat().st_size < PARALLEL_SHEET_BYTES // 64:  # far too small to hold such a sheet: no need to look
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
            if max(sizes.values(), default=0) < PARALLEL_SHEET_BYTES:
                return None
            parts = sheet_parts(archive)
    except Exception:  # noqa: BLE001 - calamine judges the file; this only plans the work
        return None
    if not parts:
        return None
    name = max(parts, key=lambda sheet: sizes.get(parts[sheet], 0))
    return name if sizes.get(parts[name], 0) >= PARALLEL_SHEET_BYTES else None


def _core_property(path: Path, tag: str) -> str | None:
    """One property of docProps/core.xml as the program that saved the workbook recorded it, or None."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            element = ElementTree.fromstring(archive.read("docProps/core.xml")).find(tag)
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    return element.text.strip() if element is not None and element.text and element.text.strip() else None


def saved_time(path: Path) -> datetime | None:
    """When the workbook was last saved (UTC, as Excel records it)."""
    text = _core_property(path, _DCTERMS)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.rstrip("Z"))
    except ValueError:
        return None


def saved_by(path: Path) -> str | None:
    """Who last saved the workbook."""
    return _core_property(path, _LAST_MODIFIED_BY)
