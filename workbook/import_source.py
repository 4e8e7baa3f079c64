"""The office's own roster file, read as sheets of rows: a workbook (calamine, through the same safety
checks as a return) or a CSV (the standard library's reader). A CSV saved by Chinese Excel or WPS is
in GBK/GB18030 without saying so: it is read as UTF-8 when it is valid UTF-8, else as GB18030, which
holds every GBK character (docs/hazards.md 20); Excel's "Unicode text" is UTF-16, tab-separated."""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fastread import open_sheets
from .i18n import Domain
from .safe_open import BROKEN_CONTENT, UnreadableFile

say = Domain("workbook")

CSV_SUFFIXES = (".csv", ".txt")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class SourceSheet:
    """One sheet of the file: its name (the file's name for a CSV) and its rows, blanks as None."""

    title: str
    rows: list[list[Any]]


def decode_csv(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return data.decode("utf-16")
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("undecodable")  # GB18030 decodes every byte sequence; kept for the reader's sake


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def read_csv(path: Path) -> SourceSheet:
    text = decode_csv(path.read_bytes())
    first = text.split("\n", 1)[0]
    dialect = csv.excel_tab if "\t" in first and "," not in first else csv.excel  # Excel's "Unicode text" is tab-separated
    rows = [[_blank_to_none(v) for v in row] for row in csv.reader(io.StringIO(text), dialect)]
    return SourceSheet(path.name, rows)


def read_source(path: Path, limit_mb: float | None = None) -> list[SourceSheet]:
    """Every visible sheet of the file; UnreadableFile when it is neither a readable workbook nor a CSV."""
    path = Path(path)
    if path.suffix.lower() in CSV_SUFFIXES:
        try:
            return [read_csv(path)]
        except (OSError, ValueError, csv.Error) as error:
            raise UnreadableFile("corrupt", path, reason=say.later(BROKEN_CONTENT)) from error  # words, not a class name
    sheets = open_sheets(path, limit_mb=limit_mb)
    return [SourceSheet(ws.title, [[_blank_to_none(v) for v in row] for row in ws.iter_rows(values_only=True)])
            for ws in sheets if str(ws.sheet_state).lower() == "visible"]
