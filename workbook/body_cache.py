"""Reuse the sheet XML of the rows that did not change since the master was last written.

Writing the master turns every record into XML, though a return only adds a week's rows at the end of
a sheet. So the writer keeps each big sheet's body XML (`.branchbook/sheet-bodies/`), with checkpoints
every few thousand rows: how many records, the ledger `_row` of the last, where the text ends, and the
shared strings the body had added by then. The next write takes the text up to the last checkpoint
below the ledger's lowest changed row (Ledger.changed_from, kept by triggers) and writes only the
rest (docs/design.md, "Writing the master").

The text is reused only when everything it depends on is as it was: the ledger it was written from
(a token kept in the ledger, set when the master is written, so a restored or rebuilt ledger does not
match), the rows before the checkpoint, the sheet's fields, the language, the writer's code, and the
shared strings before the sheet's body (its own header only, since other sheets write their text inline:
sheet_text; if they differ, the sheet is written whole). A test writes masters with and without the cache and compares them cell by cell.
"""
from __future__ import annotations

import codecs
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import xlsxwriter

FOLDER = "sheet-bodies"
TOKEN = "sheet_bodies_token"  # meta key of the ledger: which cached bodies were written from it
CACHE_ROWS = 1_000  # smaller sheets are written anew each time
_PIECE = 1 << 22  # bytes of cached text read at a time
_CODE = None


def _code_version() -> str:
    """The writer's own code: a change to how rows become XML must not reuse text the old code wrote."""
    global _CODE
    if _CODE is None:
        here = Path(__file__).resolve().parent
        digest = hashlib.sha256(xlsxwriter.__version__.encode())
        for name in ("master.py", "cells.py", "sheet_text.py", "body_cache.py"):
            digest.update((here / name).read_bytes())
        _CODE = digest.hexdigest()[:16]
    return _CODE


def _read_text(handle, size: int, path: Path, raw: bool) -> Iterator[str | bytes]:
    """The first `size` bytes of the cached text, in pieces (a university's is some 100 MB); as they are stored
    (UTF-8) when `raw`."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    left = size
    while left:
        data = handle.read(min(left, _PIECE))
        if not data:
            raise OSError(f"{path}: shorter than its checkpoint")
        left -= len(data)
        yield data if raw else decoder.decode(data, final=not left)


def _open_text(text_path: Path, meta_path: Path, reuse: bool):
    """The cached text, to read from its start and write on (reuse), or new; None when it cannot be kept."""
    try:
        meta_path.unlink(missing_ok=True)  # the text changes now: until commit, nothing of it is reusable
        text_path.parent.mkdir(parents=True, exist_ok=True)
        return open(text_path, "r+b" if reuse else "wb")  # noqa: SIM115 - closed by BodyCache.body
    except OSError:
        return None


class BodyCache:
    """The cached bodies of one HOME, for one write of its master. `ids`: each cached sheet's `_row`s in
    the order of its records; `changed`: Ledger.changed_from(); `token`: the ledger's TOKEN meta."""

    def __init__(self, folder: Path, token: str | None, ids: dict[str, list[int]], changed: dict[str, int]):
        self.folder = folder
        self.token = token
        self.ids = ids
        self.changed = changed
        self.new_token = uuid.uuid4().hex
        self.reused: dict[str, int] = {}  # sheet -> records whose XML was reused (for tests and the bench)
        self._metas: dict[str, dict] = {}

    def covers(self, key: str, rows: int) -> bool:
        return key in self.ids and len(self.ids[key]) == rows and rows >= CACHE_ROWS

    def body(self, key: str, signature: list, shared: Any,
             make: Callable[[int, list], Iterator[str]], raw: bool = False) -> Iterator[str | bytes]:
        """The sheet's body XML: the reusable cached text, then `make(start, marks)`'s rows from `start`
        on; the text written is kept for the next write (committed by `commit`). `shared`: XlsxWriter's
        shared string table when the body puts its text there, else None. The cache is a help, never a
        need: when its files cannot be written, the sheet is written whole and not kept. `raw`: the text as
        UTF-8 bytes (the cached text is not decoded)."""
        ids = self.ids[key]
        signature = [_code_version(), *signature, shared is not None]
        array = shared.string_array if shared is not None else None
        before = list(array) if array is not None else []
        text_path, meta_path = self.folder / f"{key}.xml", self.folder / f"{key}.json"
        meta = self._load(meta_path)
        point = self._reusable(meta, key, signature, before)
        text = _open_text(text_path, meta_path, point is not None)
        if text is None:
            point = None
        checkpoints: list[list[int]] = []
        start = size = 0
        try:
            if point:
                start, _, size, strings, references = point
                checkpoints = [c for c in meta["checkpoints"] if c[0] <= start]
                if array is not None:
                    array.extend(meta["strings"][:strings])
                    shared.unique_count += strings
                    shared.count += references
                self.reused[key] = start
                yield from _read_text(text, size, text_path, raw)
                text.truncate(size)
            base = point[4] if point else 0  # shared references the reused rows made
            marks: list[tuple[int, int, int]] = []
            for chunk in make(start, marks):
                data = chunk.encode("utf-8") if raw or text is not None else b""
                if text is not None:
                    try:
                        text.write(data)
                    except OSError:
                        text.close()
                        text = None
                    size += len(data)
                    done, length, made = marks[-1]
                    checkpoints.append([done, ids[done - 1], size, length - len(before) if array is not None else 0,
                                        base + made])
                yield data if raw else chunk
        finally:
            kept = text is not None
            if text is not None:
                text.close()
        if kept:
            added = array[len(before):] if array is not None else []
            self._metas[key] = {"signature": signature, "before": before, "strings": added,
                                "checkpoints": checkpoints}

    def _reusable(self, meta: dict | None, key: str, signature: list, before: list) -> list[int] | None:
        """The last checkpoint whose rows are all as they were, or None."""
        if not meta or self.token is None or meta.get("token") != self.token or meta.get("signature") != signature \
                or meta.get("before") != before:
            return None
        try:
            size = (self.folder / f"{key}.xml").stat().st_size
        except OSError:
            return None
        ids, low = self.ids[key], self.changed.get(key)
        found = None
        for point in meta["checkpoints"]:
            done, last = point[0], point[1]
            if (low is not None and last >= low) or done > len(ids) or ids[done - 1] != last or point[2] > size:
                break
            found = point
        return found

    @staticmethod
    def _load(path: Path) -> dict | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def commit(self) -> str | None:
        """The master was written: its bodies become the cache, under a new token for the ledger to keep
        (None when they could not be kept: then the next write reuses nothing)."""
        try:
            for key, meta in self._metas.items():
                path = self.folder / f"{key}.json"
                temp = path.with_suffix(".json.new")
                temp.write_text(json.dumps({"token": self.new_token, **meta}, ensure_ascii=False), encoding="utf-8")
                os.replace(temp, path)
        except OSError:
            return None
        return self.new_token
