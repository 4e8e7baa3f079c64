"""`branchbook campaign new`: close the current campaign and start the next from the roster (docs/design.md,
"Campaigns").

The closed campaign is kept whole, as a HOME of its own, in `HOME/campaigns/<name>/`: its ledger and journal, its
master (read-only), archive/, rejected/, outbox/ (bulletins, reminders), backups/, its seal and its settings with
the day it closed as `as_of`, so that its flags and figures read as they did. `.branchbook/closed.json` marks it:
the writer lock refuses to change it (sync/writer.py), and intake refuses its returns, naming it (workbook/seal.py).
The new ledger starts from the committee, the branches and the members still in the college on the new start,
each in from that day, with the new campaign's phases and no records; its journal starts with that snapshot, so
that `rebuild` replays it. HOME's own files (branchbook.yaml, logs/, status.json, the mail state) stay where they
are: the service, restarted, runs the new campaign. The switch is written down first (.branchbook/campaign-switch.json)
and each of its steps may be done again: a switch a crash cut short is finished by the next command (finish_switch).
"""
from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from filelock import FileLock, Timeout

from ..workbook import journal
from ..workbook.body_cache import FOLDER as BODIES_FOLDER
from ..workbook.books import EXPORTED_NAME, STATE_FOLDER, open_ledger
from ..workbook.campaign_definition import CAMPAIGN_FILE, CampaignDefinition
from ..workbook.cells import as_day, timestamp_text
from ..workbook.errors import UserError
from ..workbook.home import FOLDERS, Home
from ..workbook.ledger import LEDGER_NAME
from ..workbook.membership import left
from ..workbook.names import stored_name
from ..workbook.office import start_ledger
from ..workbook.seal import CAMPAIGNS_FOLDER, CLOSED_NAME, KEY_NAME
from ..workbook.settings import CONFIG_NAME, read_config
from .export import export_master
from .inbox import inbox_files
from .master_store import fsync_folder
from .pause import pause_point
from .status import LOCK_NAME as SERVICE_LOCK
from .writer import SWITCH_NAME, switch_pending, writing

ROSTER = ("committee", "branches", "members")  # what a new campaign starts from
# A member's time in the campaign closed: he is in the new one from its start, in the branch he is in now.
CAMPAIGN_PERIOD = ("joined", "join_reason", "from_branch")
KEPT_FOLDERS = ("archive", "rejected", "outbox", "backups", "quarantine")
KEPT_STATE = (KEY_NAME, EXPORTED_NAME)  # the seal (its returns are known later) and the master as last written
SWITCH_WAIT_SECONDS = 120  # how long a command waits for another finishing an interrupted switch


@dataclass(frozen=True)
class Started:
    closed: str  # the closed campaign's name
    folder: Path  # where it is kept
    campaign: str  # the new one's
    members: int
    dropped: int  # members who had left, not carried into the new campaign
    # The closed campaign's last day when HOME's day was before it: closed before its end, which the office is
    # warned of, not refused (its returns still to come are refused as an earlier campaign's).
    unfinished_until: date | None = None


def earlier_campaigns(home: Home) -> dict[str, Path]:
    """The campaigns this HOME closed, by name, oldest first."""
    found = []
    for closed in (home.root / CAMPAIGNS_FOLDER).glob(f"*/{STATE_FOLDER}/{CLOSED_NAME}"):
        try:
            data = json.loads(closed.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found.append((str(data.get("closed_at", "")), str(data.get("campaign", "")), closed.parent.parent))
    return {name: folder for _, name, folder in sorted(found)}


def earlier_home(home: Home, name: str) -> Home:
    """An earlier campaign as a HOME of its own, to read its flags, master and bulletins (`--campaign NAME`)."""
    known = earlier_campaigns(home)
    if name not in known:
        raise UserError("campaign-unknown", home=str(home.root), name=name, known="、".join(known) or "—")
    return Home.open(known[name])


def new_roster(tables: dict[str, list[dict]], start: date) -> tuple[dict[str, list[dict]], int]:
    """The committee, the branches and the members still in the college on `start` (each in from then)."""
    members = [m for m in tables.get("members", []) if left(m) is None or left(m) > start]
    carried = [{**m, **dict.fromkeys(CAMPAIGN_PERIOD)} for m in members]
    roster = {key: [dict(row) for row in tables.get(key, [])] for key in ROSTER}
    roster["members"] = carried
    return roster, len(tables.get("members", [])) - len(members)


def start_campaign(home: Home, definition: CampaignDefinition, start: date) -> Started:
    """Close HOME's campaign and start `definition` on `start`; refused, changing nothing, while the service runs,
    another writer works, files wait in inbox/ or quarantine/, or the master holds edits it cannot take."""
    lang = home.lang
    current = home.campaign.title(lang)
    name = definition.title(lang)
    if name == current or name in earlier_campaigns(home):
        raise UserError("campaign-same-name", name=name, known="、".join([current, *earlier_campaigns(home)]))
    with _service_held(home, wait=0):  # no service starts on a half-moved HOME
        return _switch(home, definition, start, name, current)


def finish_switch(root: Path | str) -> Started | None:
    """A switch a crash cut short (its intent is in .branchbook/), carried out to its end, before anything else reads
    or writes the HOME (every command, `campaign new` run again, the buttons); None when there was none."""
    if not switch_pending(root):
        return None
    intent = Path(root) / STATE_FOLDER / SWITCH_NAME
    home = Home.open(root)
    with _service_held(home, wait=SWITCH_WAIT_SECONDS):
        if not intent.is_file():  # another command finished it while this one waited
            return None
        with writing(home, "campaign"):
            return _carry_out(home, json.loads(intent.read_text(encoding="utf-8")))


@contextmanager
def _service_held(home: Home, wait: float) -> Iterator[None]:
    service = FileLock(str(home.root / SERVICE_LOCK))
    try:
        service.acquire(timeout=wait)
    except Timeout:
        raise UserError("campaign-service-running", home=str(home.root)) from None
    try:
        yield
    finally:
        service.release()


def _switch(home: Home, definition: CampaignDefinition, start: date, name: str, current: str) -> Started:
    lang = home.lang
    with writing(home, "campaign", wait=False):
        for folder in ("inbox", "quarantine"):
            waiting = inbox_files(home.folder(folder))
            if waiting:
                raise UserError("campaign-inbox-waiting", count=len(waiting), folder=str(home.folder(folder)),
                                names="、".join(path.name for path in waiting[:3]))
        with open_ledger(home) as ledger:
            export = export_master(home, ledger)  # the office's last edits in, the master as the ledger has it
            if export.refused or export.busy:
                raise UserError("campaign-master-edits", why=export.why_waiting(lang))
            phases = ledger.tables(("phases",))["phases"]
        ends = sorted(as_day(p.get("end")) for p in phases if as_day(p.get("end")))
        if ends and start <= ends[-1]:
            raise UserError("campaign-start-early", start=start.isoformat(), end=ends[-1].isoformat())
        pause_point("campaign-before-intent")
        intent = _intent(home, definition, start, name, current)
        if ends and home.as_of < ends[-1]:
            intent["unfinished_until"] = ends[-1].isoformat()
        _write_whole(home.root / STATE_FOLDER / SWITCH_NAME, json.dumps(intent, ensure_ascii=False, indent=1))
        return _carry_out(home, intent)


def _intent(home: Home, definition: CampaignDefinition, start: date, name: str, current: str) -> dict:
    """All the switch needs to be carried out, by this process or, after a crash, by the next command: written
    whole (fsynced) before anything moves (docs/design.md, "Campaigns")."""
    base = home.root / CAMPAIGNS_FOLDER
    folder, number = base / stored_name(current), 1
    while folder.exists():
        number += 1
        folder = base / stored_name(f"{current}-{number}")
    config = read_config(home.root / CONFIG_NAME)
    config["as_of"] = home.as_of.isoformat()  # it reads as of the day it closed, whatever day it is read on
    kept = [name for name in (*_ledger_files(home), *KEPT_FOLDERS, *(f"{STATE_FOLDER}/{n}" for n in KEPT_STATE))
            if (home.root / name).exists()]
    return {"closing": current, "following": name, "folder": folder.relative_to(home.root).as_posix(),
            "start": start.isoformat(), "closed_at": timestamp_text(home.now()), "moved": kept,
            "settings": yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
            "closing_definition": home.campaign.as_yaml(), "definition": definition.as_yaml()}


def _ledger_files(home: Home) -> tuple[str, ...]:
    """What a campaign's ledger is in HOME: what moves with it, and what its successor's start makes anew."""
    return (LEDGER_NAME, f"{LEDGER_NAME}-wal", f"{LEDGER_NAME}-shm", journal.JOURNAL_NAME, home.settings.master)


def _carry_out(home: Home, intent: dict) -> Started:
    """The switch, each step done once whatever step a crash stopped it at: a file already in campaigns/<name>/ is
    not moved again, and the new campaign's start is made again from nothing."""
    root, state = home.root, home.root / STATE_FOLDER
    folder = root / intent["folder"]
    (folder / STATE_FOLDER).mkdir(parents=True, exist_ok=True)
    _write_whole(folder / CONFIG_NAME, intent["settings"])
    _write_whole(folder / CAMPAIGN_FILE, intent["closing_definition"])
    pause_point("campaign-intent")
    for name in intent["moved"]:
        if not (folder / name).exists():
            shutil.move(str(root / name), folder / name)
            pause_point(f"campaign-moved-{name}")
    fsync_folder(folder)
    fsync_folder(root)
    master = folder / home.settings.master
    if master.exists():  # read-only: the office's edits there would be taken nowhere
        master.chmod(stat.S_IREAD | stat.S_IRGRP | stat.S_IROTH)
    shutil.rmtree(state / BODIES_FOLDER, ignore_errors=True)  # the master's row cache: the new master has none
    closed = {"campaign": intent["closing"], "closed_at": intent["closed_at"], "next": intent["following"]}
    _write_whole(folder / STATE_FOLDER / CLOSED_NAME, json.dumps(closed, ensure_ascii=False, indent=1))
    _write_whole(root / CAMPAIGN_FILE, intent["definition"])
    pause_point("campaign-defined")
    for name in FOLDERS:
        home.folder(name).mkdir(exist_ok=True)
    for name in (*_ledger_files(home), *(f"{STATE_FOLDER}/{n}" for n in KEPT_STATE)):
        (root / name).unlink(missing_ok=True)  # a start a crash cut short: made again whole
    start = date.fromisoformat(intent["start"])
    with open_ledger(Home.open(folder)) as kept:
        roster, dropped = new_roster(kept.tables(ROSTER), start)
    fresh = Home.open(root)
    start_ledger(fresh, {**roster, "phases": fresh.campaign.phase_rows(start, fresh.lang)}, reason="new campaign")
    pause_point("campaign-started")
    (state / SWITCH_NAME).unlink()
    fsync_folder(state)
    unfinished = intent.get("unfinished_until")
    return Started(intent["closing"], folder, intent["following"], len(roster["members"]), dropped,
                   date.fromisoformat(unfinished) if unfinished else None)


def _write_whole(path: Path, text: str) -> None:
    """`path` holds `text` whole, on disk, or is as it was: a crash never leaves half of it."""
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    with part.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(part, path)
    fsync_folder(path.parent)
