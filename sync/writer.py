"""One writer at a time for the whole HOME: the service, `merge`, `rebuild`, `restore`, `approve`
and the Excel buttons all take this lock before they change the ledger, master.xlsx or the drop
folders. A second writer waits, says so, and goes on when the first is done; it never overwrites.

Within one thread the lock is re-entrant (a merge that exports takes it once). Between threads
and processes it excludes: each holder opens the lock file itself.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from ..workbook.books import STATE_FOLDER, state_folder
from ..workbook.cells import timestamp_text
from ..workbook.errors import UserError
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.seal import CLOSED_NAME
from .master_store import remove_stale_temps

LOCK_NAME = "writer.lock"
HOLDER_NAME = "writer.holder.json"
SWITCH_NAME = "campaign-switch.json"  # in HOME's .branchbook/ while a campaign switch is under way: what it does
READ_ONLY_ALLOWED = frozenset({"bulletin"})  # what an earlier campaign still does: its bulletin (docs/design.md)
_held = threading.local()
say = Domain("service")


class Stopped(Exception):
    """The wait for the lock was called off (the service is stopping)."""


def holder(home: Home) -> dict | None:
    try:
        return json.loads((state_folder(home) / HOLDER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def waiting_message(home: Home, who: dict | None = None) -> str:
    who = (holder(home) if who is None else who) or {}
    return say(home.lang, "Another program ({what}, process {pid}, since {since}) is writing the ledger; this one goes "
                          "on when it is done and will not overwrite its work…", what=who.get("what", "?"),
               pid=who.get("pid", "?"), since=who.get("since", "?"))


def tick_while_waiting(tick: Callable[[], None] | None) -> None:
    """`tick` is called about twice a second while this thread waits for the lock: the service's heartbeat
    goes on while another writer works (docs/design.md, "The service never dies quietly")."""
    _held.tick = tick


def _write_holder(path, who: dict) -> None:
    """Written whole or not at all: a waiter never reads half of it."""
    part = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    part.write_text(json.dumps(who, ensure_ascii=False), encoding="utf-8")
    os.replace(part, path)


def closed_campaign(home: Home) -> dict | None:
    """What closed this HOME, when it is an earlier campaign kept in campaigns/<name>/ (sync/campaigns.py)."""
    try:
        return json.loads((home.root / ".branchbook" / CLOSED_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def switch_pending(root: Path | str) -> bool:
    """Whether a campaign switch was cut short in this HOME (sync/campaigns.py finishes it): one look, no imports."""
    return (Path(root) / STATE_FOLDER / SWITCH_NAME).is_file()


def refuse_if_closed(home: Home, what: str = "") -> None:
    """An earlier campaign is kept as it was closed: only its bulletin may still be made there."""
    closed = closed_campaign(home)
    if closed is not None and what not in READ_ONLY_ALLOWED:
        raise UserError("campaign-closed", home=str(home.root), campaign=closed.get("campaign", "?"),
                        following=closed.get("next", "?"))


class WriterBusy(UserError):
    def __init__(self, home: Home, who: dict | None):
        who = who or {}
        super().__init__("writer-busy", home=str(home.root), what=who.get("what", "?"), pid=who.get("pid", "?"),
                         since=who.get("since", "?"))


@contextmanager
def writing(home: Home, what: str, on_wait: Callable[[str], None] | None = None,
            stop: threading.Event | None = None, wait: bool = True) -> Iterator[None]:
    """Hold HOME's writer lock; `wait=False`: refuse at once (WriterBusy) when another writer holds it. An earlier
    campaign (campaigns/<name>/) is kept as it was closed: only its bulletin may still be made there."""
    refuse_if_closed(home, what)
    depths = _held.__dict__.setdefault("depths", {})
    key = str(home.root.resolve())
    if depths.get(key):
        depths[key] += 1
        try:
            yield
        finally:
            depths[key] -= 1
        return
    folder = state_folder(home)
    lock = FileLock(str(folder / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        announced = holder(home)
        if not wait:
            raise WriterBusy(home, announced) from None
        if on_wait:
            on_wait(waiting_message(home, announced))
        while True:
            try:
                lock.acquire(timeout=0.5)
                break
            except Timeout:
                if stop is not None and stop.is_set():
                    raise Stopped() from None
                # The holder writes who it is just after taking the lock, so a waiter that came at that
                # instant read nothing ("?"); and holders change while we wait. Say the news.
                current = holder(home)
                if on_wait and current is not None and current != announced:
                    announced = current
                    on_wait(waiting_message(home, current))
                if getattr(_held, "tick", None):
                    _held.tick()
    depths[key] = 1
    holder_file = folder / HOLDER_NAME
    try:
        _write_holder(holder_file, {"what": what, "pid": os.getpid(), "since": timestamp_text(datetime.now())})
        remove_stale_temps(home)  # a killed writer's half-written master; alone here, we may tidy it
        yield
    finally:
        depths[key] = 0
        holder_file.unlink(missing_ok=True)
        lock.release()


