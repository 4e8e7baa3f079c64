"""The ledger: one SQLite file in HOME holding every record, receipt and office edit.

`master.xlsx` is its face, written from it (docs/design.md, "The ledger"). Tables are generated
from schemas/: one per master sheet, a column per field, plus `_row` (the row's identity, which
also keeps the order rows arrived in) and, on sheets fed by returns, `_return` (the return a row
came from, indexed, so that replacing a week's rows touches only that week).

Writes happen in `with ledger.transaction():` blocks (BEGIN IMMEDIATE: the write lock is taken up
front, and the block commits whole or not at all). WAL with synchronous=FULL: a commit is on disk
when it returns, and readers never block the writer.
"""
from __future__ import annotations

import json
import sqlite3
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from .cells import timestamp_text
from .ids import source_return
from .schema import Schemas, SheetSchema

LEDGER_NAME = "ledger.sqlite"
ROW = "_row"
RETURN = "_return"
_SQL_TYPES = {"string": "TEXT", "enum": "TEXT", "date": "TEXT", "datetime": "TEXT", "integer": "INTEGER", "number": "REAL"}
# How many values one IN (...) may carry; SQLite's default limit is far higher, this keeps queries small.
_CHUNK = 500
_BATCH = 50_000  # rows read at a time
# The lowest row of each sheet changed or deleted since the master was last written (rows are only ever
# added after the others): the master's writer reuses the XML of the rows below it (workbook/body_cache.py).
# Kept by triggers, so that no way of changing a row can forget it. Not on flags: rewritten whole each time.
CHANGED_FROM = "changed_from"
_UNTRACKED = {"flags"}


def _to_db(value: Any) -> Any:
    if value == "":
        return None  # a blank is a blank, as it is in a cell
    if isinstance(value, datetime):
        return timestamp_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _date_from_db(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value  # a value that never parsed is kept as it was typed
    return value


class _Days(dict):
    """A date column's values, each parsed once (_date_from_db) when first asked."""

    def __missing__(self, value: Any) -> Any:
        self[value] = day = _date_from_db(value)
        return day


def _records_builder(names: tuple[str, ...], dates: list[str], with_row: bool) -> Callable[[list[tuple], _Days], list[dict]]:
    """A function turning a batch of selected rows into records: one list comprehension building each record
    as a dict display, dates parsed through `days`, `_row` (selected first) left out unless asked. Written for
    the columns once and compiled: twice as fast as dict(zip(...)) a row, the largest cost of reading a
    2,400-member college's ledger (docs/design.md, "Writing the master"). The names are the schema's keys,
    passed as literals (repr), never as code."""
    values = [f"v{number}" for number in range(len(names))]
    fields = [f"{name!r}: {f'days[{value}]' if name in dates else value}"
              for number, (name, value) in enumerate(zip(names, values)) if with_row or number > 0]
    source = f"lambda rows, days: [{{{', '.join(fields)}}} for {', '.join(values)}, in rows]"
    return eval(source, {})  # noqa: S307 - code made above from the column count and repr()'d names


@dataclass
class TablesAhead:
    """Records read ahead of a change (Ledger.read_ahead), each sheet's `_row`s beside them."""

    tables: dict[str, list[dict]]
    ids: dict[str, list[int]]


class Ledger:
    """An open ledger. One per thread: sqlite3 connections are not shared across threads here."""

    def __init__(self, path: Path, schemas: Schemas):
        self.path = Path(path)
        self.schemas = schemas
        self.db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self._columns = {sheet.key: [f.key for f in sheet.fields] for sheet in schemas.master}
        self._dates = {sheet.key: [f.key for f in sheet.fields if f.type == "date"] for sheet in schemas.master}
        self._builders: dict[tuple, Callable[[list[tuple], _Days], list[dict]]] = {}
        self.tracked = {sheet.key for sheet in schemas.master if sheet.key not in _UNTRACKED}  # see CHANGED_FROM
        self._depth = 0
        self._create()

    # -- structure -------------------------------------------------------------------------------
    def _create(self) -> None:
        with self.transaction():
            for sheet in self.schemas.master:
                columns = ", ".join(f'"{f.key}" {_SQL_TYPES[f.type]}' for f in sheet.fields)
                extra = f', "{RETURN}" TEXT' if sheet.provenance else ""
                self.db.execute(f'CREATE TABLE IF NOT EXISTS "{sheet.key}" ("{ROW}" INTEGER PRIMARY KEY, {columns}{extra})')
                self._add_new_columns(sheet)
                if sheet.provenance:
                    self.db.execute(f'CREATE INDEX IF NOT EXISTS "{sheet.key}_return" ON "{sheet.key}" ("{RETURN}")')
            self.db.execute('CREATE INDEX IF NOT EXISTS returns_sha ON "returns" (sha256)')
            self.db.execute('CREATE INDEX IF NOT EXISTS returns_return ON "returns" (return_id)')
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {CHANGED_FROM} (sheet TEXT PRIMARY KEY, row INTEGER NOT NULL)")
            for sheet in self.schemas.master:
                if sheet.key not in self.tracked:
                    continue
                for event in ("UPDATE", "DELETE"):
                    self.db.execute(
                        f'CREATE TRIGGER IF NOT EXISTS "{sheet.key}_{event.lower()}_changes" AFTER {event} ON "{sheet.key}" '
                        f"BEGIN INSERT INTO {CHANGED_FROM} (sheet, row) VALUES ('{sheet.key}', OLD.\"{ROW}\") "
                        f"ON CONFLICT(sheet) DO UPDATE SET row = MIN(row, excluded.row); END")
            self.db.execute("CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, "
                            "kind TEXT NOT NULL, who TEXT, body TEXT NOT NULL)")
            # Each week's flags as they were raised (workbook/flag_history.py): a flag as JSON, keyed by week and flag.
            self.db.execute("CREATE TABLE IF NOT EXISTS flag_history (week INTEGER NOT NULL, subject_kind TEXT NOT NULL, "
                            "subject_id TEXT NOT NULL, rule TEXT NOT NULL, flag TEXT NOT NULL, "
                            "PRIMARY KEY (week, subject_kind, subject_id, rule))")

    def _add_new_columns(self, sheet: SheetSchema) -> None:
        """A ledger made before a field was added to schemas/ gets its column, blank in every row
        (docs/design.md, "The ledger": a field added later is a blank where nothing was known)."""
        have = {row[1] for row in self.db.execute(f'PRAGMA table_info("{sheet.key}")')}
        for f in sheet.fields:
            if f.key not in have:
                self.db.execute(f'ALTER TABLE "{sheet.key}" ADD COLUMN "{f.key}" {_SQL_TYPES[f.type]}')

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing; nested blocks join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

    # -- meta ------------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (key, value))

    # -- reading ---------------------------------------------------------------------------------
    def _records(self, key: str, cursor: sqlite3.Cursor, with_row: bool,
                 ids: list[int] | None = None) -> list[dict[str, Any]]:
        names = tuple(d[0] for d in cursor.description)
        build = self._builders.get((key, names, with_row))
        if build is None:
            build = self._builders[key, names, with_row] = _records_builder(names, self._dates[key], with_row)
        days = _Days()  # a date column holds few distinct days: each parsed once
        out: list[dict[str, Any]] = []
        # In batches: only a batch of rows is held twice (a university has 800,000).
        while rows := cursor.fetchmany(_BATCH):
            if ids is not None:
                ids.extend(map(itemgetter(0), rows))
            out += build(rows, days)
        return out

    def rows(self, key: str, where: str = "", params: Iterable[Any] = (), with_row: bool = False,
             columns: Iterable[str] | None = None, ids: list[int] | None = None) -> list[dict]:
        """Records of a sheet (only the given columns, when named: a lookup of 20,000 members needs two);
        their `_row`s appended to `ids` when given."""
        wanted = list(columns) if columns is not None else self._columns[key]
        names = ", ".join(f'"{c}"' for c in (ROW, *wanted))
        sql = f'SELECT {names} FROM "{key}" {where} ORDER BY "{ROW}"'
        return self._records(key, self.db.execute(sql, tuple(params)), with_row, ids)

    def tables(self, keys: Iterable[str] | None = None, with_row: bool = False,
               ids: dict[str, list[int]] | None = None) -> dict[str, list[dict]]:
        """Every record of the given sheets (all by default), in the order they were added; with `ids`,
        each sheet's `_row`s too (in the same order)."""
        wanted = list(keys) if keys is not None else [s.key for s in self.schemas.master]
        return {key: self.rows(key, with_row=with_row, ids=None if ids is None else ids.setdefault(key, []))
                for key in wanted}

    def read_ahead(self) -> TablesAhead:
        """Every sheet's records now, to be brought up to date later by `tables_since` (read while the returns of
        a batch are read in their children: docs/design.md, "Writing the master")."""
        ids: dict[str, list[int]] = {}
        return TablesAhead(self.tables(ids=ids), ids)

    def tables_since(self, ahead: TablesAhead, ids: dict[str, list[int]] | None = None) -> dict[str, list[dict]]:
        """What tables(ids=ids) reads now, from the records read ahead and the rows added or changed since. A row
        is only ever added after the others, and the lowest row updated or deleted since the master was written
        is kept by triggers (CHANGED_FROM, which only goes down until the master is written again): the rows
        read ahead below it are as they were, the rest is read again. A sheet that triggers do not follow is
        read whole. Only `ahead`'s sheets are read; its records are taken, not copied."""
        changed = self.changed_from()
        ids = {} if ids is None else ids
        tables = {}
        for key, before in ahead.tables.items():
            mine = ids.setdefault(key, [])
            if key not in self.tracked:
                tables[key] = self.rows(key, ids=mine)
                continue
            before_ids = ahead.ids[key]
            kept = bisect_left(before_ids, changed[key]) if key in changed else len(before_ids)
            mine += before_ids[:kept]
            if not kept:
                tables[key] = self.rows(key, ids=mine)
                continue
            del before[kept:]
            before += self.rows(key, f'WHERE "{ROW}" > ?', (before_ids[kept - 1],), ids=mine)
            tables[key] = before
        return tables

    def rows_in(self, key: str, column: str, values: Iterable[Any], with_row: bool = True) -> list[dict]:
        """The rows whose `column` is one of `values`."""
        values = list(dict.fromkeys(v for v in values if v is not None))
        found = []
        for start in range(0, len(values), _CHUNK):
            part = values[start:start + _CHUNK]
            marks = ", ".join("?" * len(part))
            found += self.rows(key, f'WHERE "{column}" IN ({marks})', part, with_row)
        found.sort(key=lambda r: r.get(ROW, 0))
        return found

    def changed_from(self) -> dict[str, int]:
        """Sheet -> its lowest row updated or deleted since forget_changes (sheets not named: only added to)."""
        return dict(self.db.execute(f"SELECT sheet, row FROM {CHANGED_FROM}"))

    def forget_changes(self) -> None:
        """The master now shows every row: changes are counted from here (inside a transaction)."""
        self.db.execute(f"DELETE FROM {CHANGED_FROM}")

    def count(self, key: str) -> int:
        return self.db.execute(f'SELECT COUNT(*) FROM "{key}"').fetchone()[0]

    # -- writing (inside a transaction) ----------------------------------------------------------
    def insert(self, key: str, records: Iterable[dict[str, Any]]) -> None:
        sheet = self.schemas.sheet(key)
        columns = self._columns[key] + ([RETURN] if sheet.provenance else [])
        quoted = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{key}" ({quoted}) VALUES ({marks})'
        self.db.executemany(sql, (self._values(sheet, record) for record in records))

    def _values(self, sheet: SheetSchema, record: dict[str, Any]) -> list[Any]:
        values = [_to_db(record.get(k)) for k in self._columns[sheet.key]]
        if sheet.provenance:
            values.append(source_return(record.get("source_return")) or None)
        return values

    def update(self, key: str, row_id: int, record: dict[str, Any]) -> None:
        sheet = self.schemas.sheet(key)
        columns = self._columns[key] + ([RETURN] if sheet.provenance else [])
        assignments = ", ".join(f'"{c}" = ?' for c in columns)
        self.db.execute(f'UPDATE "{key}" SET {assignments} WHERE "{ROW}" = ?', (*self._values(sheet, record), row_id))

    def set_column(self, key: str, column: str, row_ids: Iterable[int], value: Any) -> None:
        self.db.executemany(f'UPDATE "{key}" SET "{column}" = ? WHERE "{ROW}" = ?', ((value, i) for i in row_ids))

    def delete(self, key: str, row_ids: Iterable[int]) -> None:
        self.db.executemany(f'DELETE FROM "{key}" WHERE "{ROW}" = ?', ((i,) for i in row_ids))

    def replace_all(self, key: str, records: Iterable[dict[str, Any]]) -> None:
        self.db.execute(f'DELETE FROM "{key}"')
        self.insert(key, records)

    # -- the journal -----------------------------------------------------------------------------
    def journal(self, kind: str, body: dict[str, Any], who: str | None = None, at: datetime | None = None) -> int:
        """Record what happened, in the same transaction as the change itself."""
        return self.journal_text(kind, json.dumps(body, ensure_ascii=False, default=_to_db), who, at)

    def journal_text(self, kind: str, body: str, who: str | None = None, at: datetime | None = None) -> int:
        """journal() of a body given as its JSON text, as journal() writes it (a week's flags: thousands of rows
        whose text is made already)."""
        cursor = self.db.execute("INSERT INTO journal (at, kind, who, body) VALUES (?, ?, ?, ?)",
                                 (timestamp_text(at or datetime.now()), kind, who, body))
        return int(cursor.lastrowid)

    def journal_entries(self, after: int = 0) -> list[dict[str, Any]]:
        return self._entries("seq > ?", after)

    def journal_lines(self, after: int = 0) -> list[tuple[int, str]]:
        """The entries after `after` as journal_entries gives them, each (seq, its JSON text: ensure_ascii off),
        made without decoding the body: the body is kept as that text already (a week's flags: megabytes at a
        2,400-member college), and decoded and encoded again it reads the same."""
        cursor = self.db.execute("SELECT seq, at, kind, who, body FROM journal WHERE seq > ? ORDER BY seq", (after,))
        return [(seq, json.dumps({"seq": seq, "at": at, "kind": kind, "who": who}, ensure_ascii=False)[:-1]
                 + f', "body": {body}}}') for seq, at, kind, who, body in cursor]

    def journal_of(self, kind: str) -> list[dict[str, Any]]:
        """The entries of one kind, in order (the bulletin keeps its issues so: docs/design.md, "The bulletin")."""
        return self._entries("kind = ?", kind)

    def _entries(self, where: str, value: Any) -> list[dict[str, Any]]:
        cursor = self.db.execute(f"SELECT seq, at, kind, who, body FROM journal WHERE {where} ORDER BY seq", (value,))
        return [{"seq": seq, "at": at, "kind": kind, "who": who, "body": json.loads(body)}
                for seq, at, kind, who, body in cursor]

    def last_seq(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()[0]
