"""Formulas Excel never calculated (a file written by a script, or saved by a program that does not
compute) read as blank: report them, rather than merge blanks (docs/hazards.md 12)."""
from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ..cells import column_letter
from ..extent import sheet_parts
from ..findings import Finding, Report
from ..schema import Schemas

# A cell with a formula and no cached value: <c r="B2" ...><f>SUM(..)</f></c> or with an empty <v/>.
_UNCALCULATED = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*>\s*<f[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')


def check_uncalculated(path: Path, limit: int = 50, only: frozenset[str] | None = None,
                       headers: dict[str, dict[str, str]] | None = None) -> Iterator[Finding]:
    """`only`: the sheets to look at, by title stripped and casefolded as checks/structure.py matches them.
    Each finding names its column, by `headers` (sheet as in `only` -> letter -> header) or by its letter:
    two formulas on one row are two findings, which would otherwise read as the same one twice."""
    with zipfile.ZipFile(path) as archive:
        for name, part in sheet_parts(archive).items():
            if only is not None and name.strip().casefold() not in only:
                continue
            for count, match in enumerate(_UNCALCULATED.finditer(archive.read(part))):
                if count >= limit:
                    break
                letter = match.group(1).decode()
                label = (headers or {}).get(name.strip().casefold(), {}).get(letter, letter)
                yield Finding("formula-uncalculated", sheet=name, row=int(match.group(2)), column=letter,
                              column_label=label)


def check_return_uncalculated(path: Path, schemas: Schemas) -> list[Finding]:
    """A return's uncalculated formulas on the sheets that are read: not the guide's (the 填报检查 area is ours,
    workbook/live_checks.py; a return written by a script and never opened has no values for it), nor an extra
    sheet's, whatever its name: a guide renamed is an extra sheet, reported once as such (checks/structure.py)."""
    read = frozenset(name.strip().casefold() for sheet in schemas.returns.sheets if sheet.kind != "guide"
                     for name in sheet.names.values())
    headers = {name.strip().casefold(): {column_letter(i): field.label(lang) for i, field in enumerate(sheet.fields, 1)}
               for sheet in schemas.returns.sheets if sheet.kind == "records" for lang, name in sheet.names.items()}
    return list(check_uncalculated(path, only=read, headers=headers))


def add_return_uncalculated(report: Report, path: Path, schemas: Schemas) -> None:
    """The return's uncalculated formulas added to its report, in place of the blanks they cause: a formula
    read as blank in a required cell is one problem, said once, with what to do about it."""
    found = check_return_uncalculated(path, schemas)
    cells = {(f.sheet, f.cell) for f in found}
    report.findings[:] = [*found, *(f for f in report.findings if not (f.code == "required" and (f.sheet, f.cell) in cells))]
