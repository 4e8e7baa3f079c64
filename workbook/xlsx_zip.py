"""The master's zip container, deflated by ISA-L (isal) instead of zlib.

An xlsx is a zip of XML parts, each compressed with deflate. zlib's default level took a fifth of
writing the master; ISA-L's level 1 writes the same standard deflate streams about ten times faster,
for a file about a seventh larger (docs/design.md, "Writing the master"). Any program that reads a
zip reads it: nothing but the compressor changes.

XlsxWriter opens its zipfile.ZipFile inside Workbook._store_workbook, so MasterWorkbook hands it
this subclass for the time of that call; the subclass swaps the compressor that zipfile makes for
each part (a private hook of zipfile, checked by a test that reads the file back).
"""
from __future__ import annotations

import contextlib
import threading
import zipfile

import xlsxwriter
import xlsxwriter.workbook as xlsxwriter_workbook
from isal import isal_zlib

from .sheet_text import InlineTextSheet

LEVEL = 1  # ISA-L levels are 0-3; 1 compresses a master better than zlib's level 1, at a tenth of zlib's default
_swap = threading.Lock()
_opened = threading.local()


# A sheet's body stands in its part's text as this marker and a number, between NULs (which no XML holds),
# until the part is zipped: see body_marker.
_MARKER = "\x00branchbook-body-"


def body_marker(pieces: list[bytes]) -> str:
    """What a sheet writes in its part's text for its body: a marker that the zip replaces by `pieces` (UTF-8
    XML) as it writes the part, when a MasterWorkbook is being saved; else the text itself. The bodies are most of
    a master: so they are not copied into the part's text, taken out of it and encoded again (docs/design.md,
    "Writing the master")."""
    bodies = getattr(_opened, "bodies", None)
    if bodies is None:
        return b"".join(pieces).decode("utf-8")
    bodies.append(pieces)
    return f"{_MARKER}{len(bodies) - 1}\x00"


class FastDeflateZip(zipfile.ZipFile):
    """A ZipFile whose deflated members are compressed by ISA-L, and whose parts get their bodies in place of
    their markers (body_marker)."""

    used = 0  # how many members went through ISA-L (a test checks the hook still runs)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _opened.zip = self  # closed by MasterWorkbook if XlsxWriter fails half-way (it does not close it itself)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        marker = _MARKER.encode()
        at = data.find(marker) if isinstance(data, bytes) and isinstance(zinfo_or_arcname, zipfile.ZipInfo) else -1
        if at < 0:
            return super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)
        end = data.index(b"\x00", at + len(marker))
        number = int(data[at + len(marker):end])
        pieces, _opened.bodies[number] = _opened.bodies[number], None  # each body goes in once
        zinfo = zinfo_or_arcname
        if compress_type is not None:
            zinfo.compress_type = compress_type
        if compresslevel is not None:
            zinfo._compresslevel = compresslevel
        zinfo.file_size = at + len(data) - end - 1 + sum(map(len, pieces))  # as writestr sets it (zip64 or not)
        with self._lock, self.open(zinfo, mode="w") as part:
            part.write(data[:at])
            for piece in pieces:
                part.write(piece)
            part.write(data[end + 1:])

    def _open_to_write(self, zinfo, force_zip64=False):
        writer = super()._open_to_write(zinfo, force_zip64)
        if zinfo.compress_type == zipfile.ZIP_DEFLATED:
            writer._compressor = isal_zlib.compressobj(LEVEL, isal_zlib.DEFLATED, -15)
            FastDeflateZip.used += 1
        return writer


def inflated_by_isal(handle: zipfile.ZipExtFile) -> zipfile.ZipExtFile:
    """A part just opened for reading, inflated by ISA-L (about twice as fast as zlib) when it is deflated;
    zipfile still checks its CRC. Swaps zipfile's private decompressor before the first read (a test reads a
    master back through it)."""
    if handle._compress_type == zipfile.ZIP_DEFLATED:
        handle._decompressor = isal_zlib.decompressobj(-15)
    return handle


class MasterWorkbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook saved through FastDeflateZip, whose sheets (painters' too) write their text
    inline unless told to share it (sheet_text)."""

    worksheet_class = InlineTextSheet

    def _store_workbook(self) -> None:
        # XlsxWriter names ZipFile at module level: swapped under a lock and put back after (a workbook
        # another thread saves meanwhile would only be compressed faster).
        with _swap:
            original = xlsxwriter_workbook.ZipFile
            xlsxwriter_workbook.ZipFile = FastDeflateZip
            _opened.zip = None
            _opened.bodies = []
            try:
                super()._store_workbook()
                if any(pieces is not None for pieces in _opened.bodies):  # an XlsxWriter that zips otherwise
                    raise RuntimeError("XlsxWriter did not zip the master's parts as expected; this XlsxWriter "
                                       "version is not supported")
            except BaseException:
                # A write that failed (a full disk) leaves XlsxWriter's zip open: closed here, or its __del__
                # tries to write the directory again later and complains (docs/hazards.md 30).
                left = _opened.zip
                if left is not None and left.fp is not None:
                    with contextlib.suppress(OSError):
                        left.close()
                raise
            finally:
                _opened.zip = _opened.bodies = None
                xlsxwriter_workbook.ZipFile = original
