"""Read a workbook's cell values fast with calamine (Rust), about 20 times openpyxl's speed: a
university master of 800,000 attendance rows reads in seconds, not minutes. openpyxl stays the
writer, and the reader where styles or validations matter."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from defusedxml import ElementTree
from python_calamine import CalamineWorkbook

from .safe_open import UnreadableFile, inspect

_DCTERMS = "{http://purl.org/dc/terms/}modified"
_LAST_MODIFIED_BY = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastModifiedBy"


class CalamineSheet:
    """A sheet as the readers want it: a title and rows of values, blanks as None."""

    def __init__(self, sheet, title: str, state: str):
        self._sheet = sheet
        self.title = title
        self.sheet_state = state

    def iter_rows(self, min_row: int = 1, values_only: bool = True):
        for number, row in enumerate(self._sheet.iter_rows(), start=1):
            if number >= min_row:
                yield tuple(None if value == "" else value for value in row)


def open_sheets(path: Path, limit_mb: float | None = None) -> list[CalamineSheet]:
    """Every sheet of an inspected workbook; UnreadableFile when it cannot be parsed."""
    inspect(Path(path), limit_mb)
    try:
        book = CalamineWorkbook.from_path(str(path))
        states = {m.name: str(m.visible).rsplit(".", 1)[-1] for m in book.sheets_metadata}
        return [CalamineSheet(book.get_sheet_by_name(name), name, states.get(name, "Visible"))
                for name in book.sheet_names]
    except Exception as error:  # noqa: BLE001 - calamine raises its own kinds on damaged files
        raise UnreadableFile("corrupt", Path(path), reason=type(error).__name__) from error


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


def saved_time(path: Path) -> datetime | None:
    """When the workbook was last saved (UTC, as Excel records it in docProps/core.xml)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            element = ElementTree.fromstring(archive.read("docProps/core.xml")).find(_DCTERMS)
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    if element is None or not element.text:
        return None
    try:
        return datetime.fromisoformat(element.text.strip().rstrip("Z"))
    except ValueError:
        return None


def saved_by(path: Path) -> str | None:
    """Who last saved the workbook, as the program that saved it recorded (docProps/core.xml)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            element = ElementTree.fromstring(archive.read("docProps/core.xml")).find(_LAST_MODIFIED_BY)
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    return element.text.strip() if element is not None and element.text else None
