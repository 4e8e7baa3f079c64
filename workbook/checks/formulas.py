"""Formulas Excel never calculated (a file written by a script, or saved by a program that does not
compute) read as blank: report them, rather than merge blanks (docs/hazards.md 12)."""
from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ..extent import sheet_parts
from ..findings import Finding
from ..schema import Schemas

# A cell with a formula and no cached value: <c r="B2" ...><f>SUM(..)</f></c> or with an empty <v/>.
_UNCALCULATED = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*>\s*<f[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')


def check_uncalculated(path: Path, limit: int = 50, skip: frozenset[str] = frozenset()) -> Iterator[Finding]:
    with zipfile.ZipFile(path) as archive:
        for name, part in sheet_parts(archive).items():
            if name in skip:
                continue
            for count, match in enumerate(_UNCALCULATED.finditer(archive.read(part))):
                if count >= limit:
                    break
                yield Finding("formula-uncalculated", sheet=name, row=int(match.group(2)),
                              column=match.group(1).decode())


def check_return_uncalculated(path: Path, schemas: Schemas) -> list[Finding]:
    """A return's uncalculated formulas, less those of its guide: the 填报检查 area is ours and never read
    (workbook/live_checks.py); a return written by a script and never opened has no values for it."""
    guides = frozenset(name for sheet in schemas.returns.sheets if sheet.kind == "guide" for name in sheet.names.values())
    return list(check_uncalculated(path, skip=guides))
