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


class FastDeflateZip(zipfile.ZipFile):
    """A ZipFile whose deflated members are compressed by ISA-L."""

    used = 0  # how many members went through ISA-L (a test checks the hook still runs)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _opened.zip = self  # closed by MasterWorkbook if XlsxWriter fails half-way (it does not close it itself)

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
            try:
                super()._store_workbook()
            except BaseException:
                # A write that failed (a full disk) leaves XlsxWriter's zip open: closed here, or its __del__
                # tries to write the directory again later and complains (docs/hazards.md 30).
                left = _opened.zip
                if left is not None and left.fp is not None:
                    with contextlib.suppress(OSError):
                        left.close()
                raise
            finally:
                _opened.zip = None
                xlsxwriter_workbook.ZipFile = original
