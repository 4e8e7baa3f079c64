"""Check a workbook nobody vouches for before anything parses it: refuse what is not one, what is encrypted, macro-laden or
a zip bomb, before openpyxl parses anything (docs/hazards.md 14-18)."""
from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from xml.parsers import expat

import defusedxml  # noqa: F401  (openpyxl uses it when installed: no XML bombs, no XXE)

from .extent import too_far
from .i18n import N_, Domain
from .schema import load_schemas

say = Domain("workbook")

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_UNCOMPRESSED = 512 * 1024 * 1024
SHEETS_FOLDER = "xl/worksheets/"

MESSAGES = {
    "not-excel": N_("'{name}' is not an Excel workbook (.xlsx). Save it as .xlsx in Excel or WPS and send it again."),
    "legacy-xls": N_("'{name}' is an old .xls file. Use Save As in Excel or WPS to make an Excel workbook (.xlsx) and "
                     "send that."),
    "encrypted": N_("'{name}' has a password to open it and cannot be read. Remove the password (File > Info > "
                    "Protect Workbook) and send it again."),
    "macro": N_("'{name}' contains macros (VBA) and, to be safe, is not opened. Save it as an .xlsx without macros and "
                "send it again."),
    "too-large": N_("'{name}' is too large ({size_mb} MB; the limit is {limit_mb} MB) and is not opened. Delete what "
                    "it need not carry (pictures, extra sheets, rows far below the data), save it under a new name and "
                    "send it again, or split it into several files."),
    "zip-bomb": N_("'{name}' is built oddly (it would expand to an implausible size) and is not opened."),
    "corrupt": N_("'{name}' is damaged and cannot be opened ({reason}). Save it again and send it again."),
    "too-far": N_("'{name}': sheet '{sheet}' reaches as far as cell {cell}, far beyond any return, and is not opened. "
                  "Delete what lies beyond your data (Ctrl+End shows the last cell used), save and send it again."),
    "reader-failed": N_("'{name}' could not be read: {reason}. It is not read again automatically; save it again "
                        "in Excel or WPS and send it again."),
}
# Why a file is damaged, in words (never a library's class name).
BROKEN_ZIP = N_("its zip structure is broken")
BROKEN_CONTENT = N_("its contents cannot be read as a spreadsheet")


class UnreadableFile(Exception):
    """The file cannot be read as a workbook at all; `kind` says why, `message()` says what to do."""

    def __init__(self, kind: str, path: Path, **values):
        super().__init__(kind)
        self.kind = kind
        self.path = Path(path)
        self.values = values

    def message(self, lang: str = "zh") -> str:
        return say(lang, MESSAGES[self.kind], name=self.path.name, **self.values)

    def __str__(self) -> str:
        return self.message("zh")

    def __reduce__(self):  # crosses from the reading process to the service (workbook/isolation.py)
        return _unreadable, (self.kind, str(self.path), self.values)


def _unreadable(kind: str, path: str, values: dict) -> UnreadableFile:
    return UnreadableFile(kind, Path(path), **values)


def _is_encrypted(path: Path) -> bool:
    import msoffcrypto

    try:
        with path.open("rb") as handle:
            return bool(msoffcrypto.OfficeFile(handle).is_encrypted())
    except Exception:  # noqa: BLE001 - any OLE file it cannot classify is at least not a workbook we read
        return False


def too_large(path: Path, size: int, limit_mb: float) -> UnreadableFile:
    """The one refusal of a file over its size limit, whichever path found it (validate, serve, merge)."""
    return UnreadableFile("too-large", path, size_mb=f"{size / 2**20:.1f}", limit_mb=f"{limit_mb:g}")


def size_limit_mb(path: Path, rules) -> float:
    """The limit a workbook is held to: a return's (`limits.max_file_mb`, the one a dropped or mailed file
    meets), or the office's own master's (`limits.max_master_mb`): a workbook with a sheet only a return has
    is a return. Its sheets' names are read from the zip only when it is over the return's limit."""
    limits = rules["limits"]
    if Path(path).stat().st_size <= limits["max_file_mb"] * 2**20:
        return limits["max_file_mb"]
    from .extent import sheet_parts
    from .schema import load_schemas

    try:
        with zipfile.ZipFile(path) as archive:
            if archive.getinfo("xl/workbook.xml").file_size > 2**20:
                return limits["max_file_mb"]
            titles = list(sheet_parts(archive))
    except Exception:  # noqa: BLE001 - not a workbook we can name: inspect says what it is
        return limits["max_master_mb"]
    from types import SimpleNamespace

    from .return_reader import is_return

    return limits["max_file_mb"] if is_return([SimpleNamespace(title=t) for t in titles], load_schemas()) \
        else limits["max_master_mb"]


def inspect(path: Path, limit_mb: float | None = None, unparsed: Iterable[str] = ()) -> None:
    """Raise UnreadableFile unless `path` looks like a safe, readable .xlsx (of at most `limit_mb`,
    by default the limit for received files). The sheets named in `unparsed` are not given to a reader (a
    return's guide): their reach is looked at only if they are (fastread._Unparsed)."""
    limits = load_schemas().rules["limits"]
    limit_mb = limit_mb or limits["max_file_mb"]
    path = Path(path)
    size = path.stat().st_size
    if size > limit_mb * 1024 * 1024:
        raise too_large(path, size, limit_mb)
    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic.startswith(OLE_MAGIC[:4]):
        raise UnreadableFile("encrypted" if _is_encrypted(path) else "legacy-xls", path)
    if not magic.startswith(ZIP_MAGIC):
        raise UnreadableFile("not-excel", path)
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as error:
        raise UnreadableFile("corrupt", path, reason=say.later(BROKEN_ZIP)) from error
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names:
        raise UnreadableFile("not-excel", path)
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise UnreadableFile("macro", path)
    expanded = sum(entry.file_size for entry in entries)
    packed = max(sum(entry.compress_size for entry in entries), 1)
    cap = max(MAX_UNCOMPRESSED, limit_mb * 1024 * 1024 * 20)  # a real master packs about ten to one
    if len(entries) > limits["max_zip_entries"] or expanded > cap or (
        expanded / packed > limits["max_zip_ratio"] and expanded > 50 * 1024 * 1024
    ):
        raise UnreadableFile("zip-bomb", path)
    try:
        far = _look_inside(path, entries, size <= limits["max_file_mb"] * 1024 * 1024, set(unparsed))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:  # a damaged deflate stream
        raise UnreadableFile("corrupt", path, reason=say.later(BROKEN_ZIP)) from error
    if far is not None:
        sheet, reach = far
        raise UnreadableFile("too-far", path, sheet=sheet, cell=reach.last_cell)


class _PrologEnds(Exception):
    def __init__(self, dtd: bool):
        super().__init__()
        self.dtd = dtd


def _declares_dtd(handle) -> bool:
    """Whether an XML part declares a DTD. One stands in the prolog, before the root element, but after any
    comments and processing instructions, however long: expat reads up to the root element and no further
    (the DTD's own content is never parsed)."""
    parser = expat.ParserCreate()

    def ends(dtd: bool):
        def handler(*_):
            raise _PrologEnds(dtd)
        return handler

    parser.StartDoctypeDeclHandler = ends(True)
    parser.StartElementHandler = ends(False)
    try:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _PrologEnds as prolog:
        return prolog.dtd
    except expat.ExpatError:
        return False  # not XML at all: the reader says the file cannot be read
    return False


def _look_inside(path: Path, entries: list[zipfile.ZipInfo], scan_cells: bool, unparsed: set[str]):
    """Refuse a DTD in any part; return the first sheet that reaches too far (too_far), if any, of those a reader
    parses (not the `unparsed` ones, whose parts are read through all the same)."""
    with zipfile.ZipFile(path) as archive:
        for entry in entries:
            if entry.filename.endswith((".xml", ".rels")):
                try:
                    with archive.open(entry) as handle:
                        dtd = _declares_dtd(handle)
                        if scan_cells and not entry.filename.startswith(SHEETS_FOLDER):
                            # Read through, so that the zip's checksum is checked: damage late in a part's deflate
                            # stream is found here, not by a reader that would say it in its own terms. (Sheets are
                            # read through by the reach scan below.)
                            while handle.read(1 << 20):
                                pass
                except (zipfile.BadZipFile, zlib.error, EOFError) as error:  # a damaged deflate stream
                    raise UnreadableFile("corrupt", path, reason=say.later("a part of it cannot be unpacked")) from error
                if dtd:
                    # Excel never writes a DTD: one is an XML bomb or an XXE attempt (docs/hazards.md 14).
                    raise UnreadableFile("corrupt", path, reason=say.later("it declares XML entities"))
        # A file of a received file's size is read through for its cells' reach; a larger one (the office's
        # own master) is judged by its declared dimensions, which Excel keeps right (docs/hazards.md 25).
        return too_far(archive, scan_cells, unparsed)
