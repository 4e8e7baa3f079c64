"""The flags of each week, kept in the ledger: a flag's level, the day it was first raised, and its state
against the previous week (新增 / 持续 / 已消除) come from here (docs/design.md, "Flags and their history").

A week's flags are stored when the master is written (export), replacing what was stored for that week
earlier, and journaled as a "flags" entry only when they changed, so that `rebuild` restores the same
history. The current week is the campaign week of the day the flags are computed as of.
"""
from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import date

from .calendar import Campaign
from .flags import LEVELS, Flag
from .ledger import Ledger, _date_from_db, _to_db
from .settings import Levels

TABLE = "flag_history"  # made with the ledger (ledger.py)
JOURNAL_KIND = "flags"


def _to_json(flag: Flag) -> dict:
    return json.loads(json.dumps(asdict(flag), ensure_ascii=False, default=_to_db))


def _from_json(raw: dict) -> Flag:
    values = {k: _date_from_db(v) for k, v in raw["values"].items()}
    dated = {k: _date_from_db(raw.get(k)) for k in ("since", "first_seen")}
    return Flag(**{**raw, **dated, "values": values})


def stored_weeks(ledger: Ledger) -> list[int]:
    return [row[0] for row in ledger.db.execute(f'SELECT DISTINCT week FROM "{TABLE}" ORDER BY week')]


def stored(ledger: Ledger, week: int) -> dict[tuple, Flag]:
    """The flags kept for a week, open and cleared, by their key."""
    flags = [_from_json(json.loads(text)) for (text,) in
             ledger.db.execute(f'SELECT flag FROM "{TABLE}" WHERE week = ?', (week,))]
    return {flag.key: flag for flag in flags}


def level_of(flag: Flag, first_seen: date, as_of: date, campaign: Campaign, levels: Levels) -> str:
    """提示 when new; 督促 once open `urge_after_weeks` (at once for the rules named); 重点督办 after
    `escalate_after_weeks`."""
    weeks_open = campaign.week_of(as_of) - campaign.week_of(first_seen)
    if weeks_open >= levels.escalate_after_weeks:
        return "escalate"
    if weeks_open >= levels.urge_after_weeks or flag.rule in levels.urge_at_once or flag.variant in levels.urge_at_once:
        return "urge"
    return "notice"


def with_history(flags: list[Flag], as_of: date, campaign: Campaign, levels: Levels,
                 previous: dict[tuple, Flag], this_week: dict[tuple, Flag]) -> tuple[list[Flag], list[Flag]]:
    """(the open flags with level, first_seen and state; the previous week's flags now cleared).

    `previous`: the flags kept for the last week before this one; `this_week`: those kept earlier this week."""
    opened = []
    for flag in flags:
        known = this_week.get(flag.key) or previous.get(flag.key)
        if known is not None and known.state == "cleared":
            known = None  # cleared, and raised again: a new flag
        first_seen = known.first_seen if known is not None and known.first_seen else as_of
        state = "continuing" if flag.key in previous and previous[flag.key].state != "cleared" else "new"
        opened.append(replace(flag, first_seen=first_seen, state=state,
                              level=level_of(flag, first_seen, as_of, campaign, levels)))
    now = {flag.key for flag in flags}
    cleared = [replace(flag, state="cleared") for key, flag in previous.items()
               if key not in now and flag.state != "cleared"]
    return opened, cleared


def by_level(flags: list[Flag]) -> list[Flag]:
    """Most pressing first; branches before their members; cleared last."""
    return sorted(flags, key=lambda f: (f.state == "cleared", LEVELS.index(f.level), f.subject_kind != "branch",
                                        f.branch_id, f.subject_id, f.rule))


def annotate(ledger: Ledger, flags: list[Flag], as_of: date, campaign: Campaign,
             levels: Levels) -> tuple[list[Flag], list[Flag]]:
    """with_history against what the ledger keeps; nothing is written."""
    week = campaign.week_of(as_of)
    earlier = [w for w in stored_weeks(ledger) if w < week]
    previous = stored(ledger, earlier[-1]) if earlier else {}
    return with_history(flags, as_of, campaign, levels, previous, stored(ledger, week))


def keep(ledger: Ledger, flags: list[Flag], as_of: date, campaign: Campaign,
         levels: Levels) -> tuple[list[Flag], list[Flag]]:
    """annotate, then store the week's flags (open and cleared) and journal them when they changed."""
    opened, cleared = annotate(ledger, flags, as_of, campaign, levels)
    week = campaign.week_of(as_of)
    rows = sorted((_to_json(flag) for flag in [*opened, *cleared]),
                  key=lambda f: (f["subject_kind"], f["subject_id"], f["rule"]))
    before = sorted((_to_json(flag) for flag in stored(ledger, week).values()),
                    key=lambda f: (f["subject_kind"], f["subject_id"], f["rule"]))
    if rows != before:
        with ledger.transaction():
            store_week(ledger, week, rows)
            ledger.journal(JOURNAL_KIND, {"week": week, "as_of": as_of, "flags": rows})
    return opened, cleared


def store_week(ledger: Ledger, week: int, rows: list[dict]) -> None:
    """Replace what is kept for a week (inside a transaction); also how `rebuild` replays a "flags" entry."""
    ledger.db.execute(f'DELETE FROM "{TABLE}" WHERE week = ?', (week,))
    ledger.db.executemany(f'INSERT INTO "{TABLE}" (week, subject_kind, subject_id, rule, flag) VALUES (?, ?, ?, ?, ?)',
                          ((week, r["subject_kind"], r["subject_id"], r["rule"], json.dumps(r, ensure_ascii=False))
                           for r in rows))
