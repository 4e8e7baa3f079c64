"""The names of the files BranchBook writes: a received file's name made safe to store, and the names
of what goes beside it, in the HOME's language and recognised in either language (a folder may hold
files of both)."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from .i18n import LANGS, N_, Domain

say = Domain("workbook")
REPORT = N_(".error-report.txt")
MARKED = N_(".marked")
HOLD_NOTE = N_(".awaiting-approval.txt")

# What a file system takes as one name: 255 bytes on Linux and macOS, 255 UTF-16 units on NTFS; 255
# bytes of UTF-8 is within both (docs/hazards.md 21).
NAME_BYTES = 255
# What BranchBook may add to a stored name: a receipt prefix ("<12 hex>__"), a counter (" (123)"), and the
# longest suffix beside it (a report, a hold note, a sidecar, a marked copy) in any language.
_PREFIX_BYTES = 14
_COUNTER_BYTES = 8
_SIDECARS = (".mail.json", ".json")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", *(f"{kind}{n}" for kind in ("COM", "LPT")
                                                                         for n in range(10))}
# Characters Windows refuses in a name, control characters, and what no file system or workbook should hold.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]')


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


def _longest_addition() -> int:
    suffixes = [say(lang, text).encode() for lang in LANGS for text in (REPORT, HOLD_NOTE)]
    suffixes += [(say(lang, MARKED) + ".xlsx").encode() for lang in LANGS]
    suffixes += [text.encode() for text in _SIDECARS]
    return _PREFIX_BYTES + _COUNTER_BYTES + max(map(len, suffixes))


def stored_name(name: str, *, reserve: int | None = None) -> str:
    """`name` (as a sender or a secretary chose it) made into a name every folder of HOME can hold on
    Windows and Linux, with room left for what BranchBook adds to it (`reserve` bytes; by default the
    longest prefix, counter and suffix it ever adds). Unsafe characters become "_"; a reserved device
    name (CON, NUL, COM1…, whatever its extension) gets a "_" in front; trailing dots and spaces go; a
    name too long is cut at a character, keeping its extension, and ends with a short hash of the
    whole name so that two long names that differ only at the end stay apart. The name as sent is
    kept as data (sidecar, 周报), never needed from the file system."""
    reserve = _longest_addition() if reserve is None else reserve
    text = unicodedata.normalize("NFC", str(name))
    text = _UNSAFE.sub("_", Path(text.replace("\\", "/")).name if text.strip() else text).strip(" .")
    stem, dot, suffix = text.rpartition(".")
    if not dot or not stem or len(suffix) > 16 or not suffix.isascii():
        stem, suffix = text, ""
    suffix = f".{suffix}" if suffix else ""
    if stem.split(".")[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    stem = stem or "_"
    budget = NAME_BYTES - reserve - len(suffix.encode())
    if len(stem.encode()) > budget:
        mark = "~" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        cut = stem.encode()[:budget - len(mark)].decode("utf-8", "ignore").rstrip(" .")
        stem = cut + mark
    return stem + suffix
