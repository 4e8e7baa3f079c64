"""`branchbook campaign new`: close the current campaign and start the next from the roster (docs/design.md,
"Campaigns").

The closed campaign is kept whole, as a HOME of its own, in `HOME/campaigns/<name>/`: its ledger and journal, its
master (read-only), archive/, rejected/, outbox/ (bulletins, reminders), backups/, its seal and its settings with
the day it closed as `as_of`, so that its flags and figures read as they did. `.branchbook/closed.json` marks it:
the writer lock refuses to change it (sync/writer.py), and intake refuses its returns, naming it (workbook/seal.py).
The new ledger starts from the committee, the branches and the members still in the college on the new start,
each in from that day, with the new campaign's phases and no records; its journal starts with that snapshot, so
that `rebuild` replays it. HOME's own files (branchbook.yaml, logs/, status.json, the mail state) stay where they
are: the service, restarted, runs the new campaign.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
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
from .status import LOCK_NAME as SERVICE_LOCK
from .writer import writing

ROSTER = ("committee", "branches", "members")  # what a new campaign starts from
# A member's time in the campaign closed: he is in the new one from its start, in the branch he is in now.
CAMPAIGN_PERIOD = ("joined", "join_reason", "from_branch")
KEPT_FOLDERS = ("archive", "rejected", "outbox", "backups", "quarantine")
KEPT_STATE = (KEY_NAME, EXPORTED_NAME)  # the seal (its returns are known later) and the master as last written


@dataclass(frozen=True)
class Started:
    closed: str  # the closed campaign's name
    folder: Path  # where it is kept
    campaign: str  # the new one's
    members: int
    dropped: int  # members who had left, not carried into the new campaign


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
    service = FileLock(str(home.root / SERVICE_LOCK))  # held through the switch: no service starts on a half-moved HOME
    try:
        service.acquire(timeout=0)
    except Timeout:
        raise UserError("campaign-service-running", home=str(home.root)) from None
    try:
        return _switch(home, definition, start, name, current)
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
            tables = ledger.tables()
        phases = sorted((p for p in tables.get("phases", []) if as_day(p.get("end"))), key=lambda p: as_day(p["end"]))
        if phases and start <= as_day(phases[-1]["end"]):
            raise UserError("campaign-start-early", start=start.isoformat(), end=as_day(phases[-1]["end"]).isoformat())
        roster, dropped = new_roster(tables, start)
        kept = _keep(home, current, name)
        _write_definition(home, definition)
        fresh = Home.open(home.root)
        start_ledger(fresh, {**roster, "phases": definition.phase_rows(start, lang)}, reason="new campaign")
    return Started(current, kept, name, len(roster["members"]), dropped)


def _keep(home: Home, closing: str, following: str) -> Path:
    """Move the closing campaign's files into campaigns/<name>/, a HOME of its own that reads as it did."""
    base = home.root / CAMPAIGNS_FOLDER
    base.mkdir(exist_ok=True)
    folder, number = base / stored_name(closing), 1
    while folder.exists():
        number += 1
        folder = base / stored_name(f"{closing}-{number}")
    folder.mkdir()
    (folder / STATE_FOLDER).mkdir()
    config = read_config(home.root / CONFIG_NAME)
    config["as_of"] = home.as_of.isoformat()  # it reads as of the day it closed, whatever day it is read on
    (folder / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (folder / CAMPAIGN_FILE).write_text(home.campaign.as_yaml(), encoding="utf-8")
    for name in (LEDGER_NAME, f"{LEDGER_NAME}-wal", f"{LEDGER_NAME}-shm", journal.JOURNAL_NAME, home.settings.master):
        if (home.root / name).exists():
            shutil.move(str(home.root / name), folder / name)
    master = folder / home.settings.master
    if master.exists():  # read-only: the office's edits there would be taken nowhere
        master.chmod(stat.S_IREAD | stat.S_IRGRP | stat.S_IROTH)
    for name in KEPT_FOLDERS:
        if home.folder(name).exists():
            shutil.move(str(home.folder(name)), folder / name)
    state = home.root / STATE_FOLDER
    for name in KEPT_STATE:
        if (state / name).exists():
            shutil.move(str(state / name), folder / STATE_FOLDER / name)
    shutil.rmtree(state / BODIES_FOLDER, ignore_errors=True)  # the master's row cache: the new master has none
    if (home.root / CAMPAIGN_FILE).exists():
        os.remove(home.root / CAMPAIGN_FILE)
    closed = {"campaign": closing, "closed_at": timestamp_text(home.now()), "next": following}
    (folder / STATE_FOLDER / CLOSED_NAME).write_text(json.dumps(closed, ensure_ascii=False, indent=1), encoding="utf-8")
    for name in FOLDERS:
        home.folder(name).mkdir(exist_ok=True)
    return folder


def _write_definition(home: Home, definition: CampaignDefinition) -> None:
    (home.root / CAMPAIGN_FILE).write_text(definition.as_yaml(), encoding="utf-8")

