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


def check_uncalculated(path: Path, limit: int = 50, only: frozenset[str] | None = None) -> Iterator[Finding]:
    """`only`: the sheets to look at, by title stripped and casefolded as checks/structure.py matches them."""
    with zipfile.ZipFile(path) as archive:
        for name, part in sheet_parts(archive).items():
            if only is not None and name.strip().casefold() not in only:
                continue
            for count, match in enumerate(_UNCALCULATED.finditer(archive.read(part))):
                if count >= limit:
                    break
                yield Finding("formula-uncalculated", sheet=name, row=int(match.group(2)),
                              column=match.group(1).decode())


def check_return_uncalculated(path: Path, schemas: Schemas) -> list[Finding]:
    """A return's uncalculated formulas on the sheets that are read: not the guide's (the 填报检查 area is ours,
    workbook/live_checks.py; a return written by a script and never opened has no values for it), nor an extra
    sheet's, whatever its name: a guide renamed is an extra sheet, reported once as such (checks/structure.py)."""
    read = frozenset(name.strip().casefold() for sheet in schemas.returns.sheets if sheet.kind != "guide"
                     for name in sheet.names.values())
    return list(check_uncalculated(path, only=read))
