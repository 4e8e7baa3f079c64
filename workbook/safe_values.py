"""Values made safe once, when a received file is read: what a workbook cannot hold never reaches the
ledger, so nothing that passed validation can fail the master's write (docs/hazards.md 26).

- Control characters: Excel stores a line break pasted from Word as `_x000B_`, calamine decodes it, and
  a writer then refuses or mangles it. A vertical tab or form feed becomes a line break; other control
  characters are removed. Each cell changed gets a warning naming it.
- Characters no workbook holds (a lone surrogate, U+FFFE, U+FFFF) become U+FFFD, with a warning.
- Text longer than a cell holds (32,767 characters) is refused with an error naming the cell: cutting it
  would lose what the secretary wrote without her knowing.
"""
from __future__ import annotations

import re
from typing import Any

from .cells import column_letter
from .findings import Finding

CELL_CHARACTERS = 32_767  # Excel's limit for one cell
_LINE_BREAKS = re.compile("[\x0b\x0c]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f]")
_UNHOLDABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
_ANY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def safe_text(text: str) -> str:
    """`text` with what a workbook cannot hold replaced (a line break for a vertical tab or form feed,
    U+FFFD for a character no workbook holds) or removed (other control characters)."""
    if not _ANY.search(text):
        return text
    return _UNHOLDABLE.sub("\ufffd", _CONTROL.sub("", _LINE_BREAKS.sub("\n", text)))


def safe_label(text: Any, limit: int = 1000) -> Any:
    """A name or an address as received (a file name, a sender) made fit to store and show: safe_text,
    and no longer than `limit` characters (what is cut is not data a secretary typed)."""
    if not isinstance(text, str):
        return text
    text = safe_text(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class SafeSheet:
    """A sheet whose text values were made safe; reads like the sheet it wraps (fastread.CalamineSheet)."""

    def __init__(self, sheet, rows: list[list[Any]], empty: Any):
        self.title, self.sheet_state = sheet.title, sheet.sheet_state
        self._rows, self._empty = rows, empty

    def raw_rows(self) -> tuple[list[list[Any]], Any]:
        return self._rows, self._empty

    def iter_rows(self, min_row: int = 1, values_only: bool = True):
        empty = self._empty
        for row in self._rows[min_row - 1:]:
            yield tuple(None if value == empty else value for value in row)


def made_safe(sheets) -> tuple[list[SafeSheet], list[Finding]]:
    """The sheets with their text made safe, and a finding for each cell changed or refused. A sheet left
    unparsed (fastread.open_sheets' `skip`: nothing reads its values) stays as it is."""
    safe, findings = [], []
    for sheet in sheets:
        if not getattr(sheet, "parsed", True):
            safe.append(sheet)
            continue
        rows, empty = sheet.raw_rows()
        safe.append(SafeSheet(sheet, rows, empty))
        texts = [value for row in rows for value in row if value.__class__ is str]
        if not texts or (max(map(len, texts)) <= CELL_CHARACTERS and not _ANY.search("\n".join(texts))):
            continue  # the usual case, decided in one search over the sheet's text
        for row_index, row in enumerate(rows):
            for column_index, value in enumerate(row):
                if not isinstance(value, str):
                    continue
                place = {"sheet": sheet.title, "row": row_index + 1, "column": column_letter(column_index + 1),
                         "column_label": column_letter(column_index + 1)}
                if len(value) > CELL_CHARACTERS:
                    findings.append(Finding("text-too-long", **place,
                                            params={"length": len(value), "limit": CELL_CHARACTERS}))
                    continue
                cleaned = safe_text(value)
                if cleaned is not value:
                    row[column_index] = cleaned
                    findings.append(Finding("text-cleaned", **place))
    return safe, findings
