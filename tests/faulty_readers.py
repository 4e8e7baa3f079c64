"""Readers run in IsolatedReader's child by the fault suite: importable by name, as the child needs."""
from __future__ import annotations

import time


def calamine_all(path: str) -> int:
    """calamine straight on a file, with no reach check before it (what the check guards against)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    return sum(len(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names)


def allocate(size: int) -> int:
    return len(bytearray(size))


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def echo(value):
    return value


def tripping_read(path, tables, marked, **how):
    """read_received, except that one file trips a bug (standing in for one we do not know of yet)."""
    from branchbook.workbook.intake import read_received

    if how.get("file_name") == "怪文件.xlsx":
        raise RuntimeError("a bug")
    return read_received(path, tables, marked, **how)


def aborting_read(path, tables, marked, **how):
    """read_received, except that one file aborts the process reading it (as calamine does on an allocation
    refused under the memory limit)."""
    import os

    from branchbook.workbook.intake import read_received

    if how.get("file_name") == "崩溃.xlsx":
        os.abort()
    return read_received(path, tables, marked, **how)


def own_pid(value, abort_on=None):
    """(value, the reading process's id); aborts that process on `abort_on`."""
    import os

    if value == abort_on:
        os.abort()
    return value, os.getpid()
