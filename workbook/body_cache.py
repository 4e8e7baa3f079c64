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
shared strings before the sheet's body (a new dashboard title shifts them: then the sheet is written
whole). A test writes masters with and without the cache and compares them cell by cell.
"""
from __future__ import annotations

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
_CODE = None


def _code_version() -> str:
    """The writer's own code: a change to how rows become XML must not reuse text the old code wrote."""
    global _CODE
    if _CODE is None:
        here = Path(__file__).resolve().parent
        digest = hashlib.sha256(xlsxwriter.__version__.encode())
        for name in ("master.py", "cells.py", "body_cache.py"):
            digest.update((here / name).read_bytes())
        _CODE = digest.hexdigest()[:16]
    return _CODE


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
             make: Callable[[int, list], Iterator[str]]) -> Iterator[str]:
        """The sheet's body XML: the reusable cached text, then `make(start, marks)`'s rows from `start`
        on; the text written is kept for the next write (committed by `commit`). `shared`: XlsxWriter's
        shared string table when the body puts its text there, else None."""
        ids = self.ids[key]
        signature = [_code_version(), *signature, shared is not None]
        array = shared.string_array if shared is not None else None
        before = list(array) if array is not None else []
        self.folder.mkdir(parents=True, exist_ok=True)
        text_path, meta_path = self.folder / f"{key}.xml", self.folder / f"{key}.json"
        meta = self._load(meta_path)
        point = self._reusable(meta, key, signature, before)
        meta_path.unlink(missing_ok=True)  # the text changes below: until commit, nothing is reusable
        checkpoints: list[list[int]] = []
        start = size = strings = references = 0
        with open(text_path, "r+b" if point else "wb") as text:
            if point:
                start, _, size, strings, references = point
                prefix = text.read(size)
                if len(prefix) != size:
                    raise OSError(f"{text_path}: shorter than its checkpoint")
                text.truncate(size)
                text.seek(size)
                checkpoints = [c for c in meta["checkpoints"] if c[0] <= start]
                if array is not None:
                    array.extend(meta["strings"][:strings])
                    shared.unique_count += strings
                    shared.count += references
                self.reused[key] = start
                yield prefix.decode("utf-8")
            marks: list[tuple[int, int, int]] = []
            for chunk in make(start, marks):
                data = chunk.encode("utf-8")
                text.write(data)
                size += len(data)
                done, length, made = marks[-1]
                checkpoints.append([done, ids[done - 1], size, length - len(before) if array is not None else 0,
                                    references + made])
                yield chunk
        added = array[len(before):] if array is not None else []
        self._metas[key] = {"signature": signature, "before": before, "strings": added, "checkpoints": checkpoints}

    def _reusable(self, meta: dict | None, key: str, signature: list, before: list) -> list[int] | None:
        """The last checkpoint whose rows are all as they were, or None."""
        if not meta or self.token is None or meta.get("token") != self.token or meta.get("signature") != signature \
                or meta.get("before") != before:
            return None
        if not (self.folder / f"{key}.xml").exists():
            return None
        ids, low = self.ids[key], self.changed.get(key)
        found = None
        for point in meta["checkpoints"]:
            done, last = point[0], point[1]
            if (low is not None and last >= low) or done > len(ids) or ids[done - 1] != last:
                break
            found = point
        return found

    @staticmethod
    def _load(path: Path) -> dict | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def commit(self) -> str:
        """The master was written: its bodies become the cache, under a new token for the ledger to keep."""
        for key, meta in self._metas.items():
            path = self.folder / f"{key}.json"
            temp = path.with_suffix(".json.new")
            temp.write_text(json.dumps({"token": self.new_token, **meta}, ensure_ascii=False), encoding="utf-8")
            os.replace(temp, path)
        return self.new_token
