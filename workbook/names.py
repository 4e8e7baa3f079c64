"""The names of the files BranchBook writes beside a received file, in the HOME's language, and
recognised in either language (a folder may hold files of both)."""
from __future__ import annotations

from pathlib import Path

from .i18n import LANGS, N_, Domain

say = Domain("workbook")
REPORT = N_(".error-report.txt")
MARKED = N_(".marked")
HOLD_NOTE = N_(".awaiting-approval.txt")


def report_suffix(lang: str) -> str:
    """Appended to a refused file's name: the report that says why."""
    return say(lang, REPORT)


def hold_note_suffix(lang: str) -> str:
    """Appended to a held file's name: why it waits, and how to approve it."""
    return say(lang, HOLD_NOTE)


def marked_copy(target: Path, lang: str) -> Path:
    """The copy of a refused workbook with its problem cells marked."""
    return target.with_name(f"{target.stem}{say(lang, MARKED)}.xlsx")


def notes_beside(name: str) -> bool:
    """Whether a file is one of BranchBook's reports or notes, not something received."""
    return name.endswith(tuple(say(lang, suffix) for lang in LANGS for suffix in (REPORT, HOLD_NOTE)))
