"""The flags of each week, kept in the ledger: a flag's level, the day it was first raised, and its state
against the previous week (新增 / 持续 / 已消除) come from here (docs/design.md, "Flags and their history").

A week's flags are stored when the master is written (export), replacing what was stored for that week
earlier, and journaled as a "flags" entry only when they changed, so that `rebuild` restores the same
history. The current week is the campaign week of the day the flags are computed as of.

This module is the one place that says whether a flag is new, continuing or cleared: the Flags sheet,
`branchbook flags`, the bulletin, the reminders and the digests all read the states it gives. The rule:
a flag is compared with the flags kept for the last earlier week. When no earlier week is kept (a HOME
whose master is first written mid-campaign, as the demo's), the week before is the flags the rules raise
as of the same weekday a week earlier, computed once and kept as that week's, so every report and every
later export sees the same history (docs/design.md, "Flags and their history").
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import fields, replace
from datetime import date, timedelta

from .calendar import Campaign
from .flags import LEVELS, Flag, compute_flags
from .ledger import Ledger, _date_from_db, _to_db
from .schema import Schemas
from .settings import Levels

TABLE = "flag_history"  # made with the ledger (ledger.py)
JOURNAL_KIND = "flags"
FLAG_FIELDS = tuple(field.name for field in fields(Flag))


def _json_text(flag: Flag) -> str:
    """A flag as kept: its JSON text, which reads back as the row kept, and is written again the same (dates as
    text, tuples as lists, no other conversion). The fields one level deep: dataclasses.asdict deep-copies every
    value first (over half the time of keeping a 2,400-member college's flags, under a profiler)."""
    return json.dumps({name: getattr(flag, name) for name in FLAG_FIELDS}, ensure_ascii=False, default=_to_db)


def _from_json(raw: dict) -> Flag:
    values = {k: _date_from_db(v) for k, v in raw["values"].items()}
    dated = {k: _date_from_db(raw.get(k)) for k in ("since", "first_seen")}
    return Flag(**{**raw, **dated, "values": values})


def stored_weeks(ledger: Ledger) -> list[int]:
    return [row[0] for row in ledger.db.execute(f'SELECT DISTINCT week FROM "{TABLE}" ORDER BY week')]


class KeptWeek(Mapping):
    """The flags kept for a week, open and cleared, by their key; each decoded when it is asked for. What the
    history of this week's flags asks of every one of them, its first day and its state, is read by SQLite
    (`brief`): decoding a week's hundreds of flags at every write of the master was most of keeping them."""

    def __init__(self, ledger: Ledger, week: int):
        self.brief: dict[tuple, tuple[date | None, str]] = {}
        self._texts: dict[tuple, str] = {}
        self._flags: dict[tuple, Flag] = {}
        for kind, subject, rule, first_seen, state, text in ledger.db.execute(
                "SELECT subject_kind, subject_id, rule, json_extract(flag, '$.first_seen'), json_extract(flag, '$.state'), "
                f'flag FROM "{TABLE}" WHERE week = ?', (week,)):
            self.brief[kind, subject, rule] = (_date_from_db(first_seen), state)
            self._texts[kind, subject, rule] = text

    def __getitem__(self, key: tuple) -> Flag:
        if key not in self._flags:
            self._flags[key] = _from_json(json.loads(self._texts[key]))
        return self._flags[key]

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


def stored(ledger: Ledger, week: int) -> KeptWeek:
    """The flags kept for a week, open and cleared, by their key."""
    return KeptWeek(ledger, week)


def _brief(flags: Mapping[tuple, Flag]) -> dict[tuple, tuple[date | None, str]]:
    """Each flag's first day and state, by key."""
    return flags.brief if isinstance(flags, KeptWeek) else {key: (f.first_seen, f.state) for key, f in flags.items()}


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
                 previous: Mapping[tuple, Flag], this_week: Mapping[tuple, Flag]) -> tuple[list[Flag], list[Flag]]:
    """(the open flags with level, first_seen and state; the previous week's flags now cleared).

    `previous`: the flags kept for the last week before this one; `this_week`: those kept earlier this week."""
    before, earlier = _brief(previous), _brief(this_week)
    opened = []
    for flag in flags:
        key = flag.key
        first_seen, state = earlier.get(key) or before.get(key) or (None, None)
        if state == "cleared":
            first_seen = None  # cleared, and raised again: a new flag
        first_seen = first_seen or as_of
        state = "continuing" if key in before and before[key][1] != "cleared" else "new"
        opened.append(replace(flag, first_seen=first_seen, state=state,
                              level=level_of(flag, first_seen, as_of, campaign, levels)))
    now = {flag.key for flag in flags}
    cleared = [replace(previous[key], state="cleared") for key, (_, state) in before.items()
               if key not in now and state != "cleared"]
    return opened, cleared


def by_level(flags: list[Flag]) -> list[Flag]:
    """Most pressing first; branches before their members; cleared last."""
    return sorted(flags, key=lambda f: (f.state == "cleared", LEVELS.index(f.level), f.subject_kind != "branch",
                                        f.branch_id, f.subject_id, f.rule))


def week_before(tables: dict, as_of: date, schemas: Schemas) -> tuple[int, dict[tuple, Flag]] | None:
    """(the week before as_of's, the flags the rules raise as of the same weekday in it), all new in it;
    None in the campaign's first week."""
    campaign = Campaign.from_records(tables.get("phases", []))
    day = as_of - timedelta(days=7)
    if day < campaign.start:
        return None
    opened, _ = with_history(compute_flags(tables, day, schemas), day, campaign, schemas.rules.levels, {}, {})
    return campaign.week_of(day), {flag.key: flag for flag in opened}


def _previous(ledger: Ledger | None, tables: dict, week: int, as_of: date,
              schemas: Schemas) -> tuple[dict[tuple, Flag], tuple[int, dict[tuple, Flag]] | None]:
    """(the flags of the week before, by key; that week when it is recomputed and not kept yet)."""
    earlier = [w for w in stored_weeks(ledger) if w < week] if ledger is not None else []
    if earlier:
        return stored(ledger, earlier[-1]), None
    recomputed = week_before(tables, as_of, schemas)
    return (recomputed[1] if recomputed else {}), recomputed


def raised_with_history(ledger: Ledger | None, tables: dict, as_of: date,
                        schemas: Schemas) -> tuple[list[Flag], list[Flag]]:
    """The flags the rules raise as of a day, annotated (below): what the reports read."""
    return annotate(ledger, tables, compute_flags(tables, as_of, schemas), as_of, schemas)


def annotate(ledger: Ledger | None, tables: dict, flags: list[Flag], as_of: date,
             schemas: Schemas) -> tuple[list[Flag], list[Flag]]:
    """(the open flags with level, first_seen and state; the week before's flags now cleared), against what the
    ledger keeps (None: nothing kept, as a report made without a HOME); nothing is written."""
    campaign = Campaign.from_records(tables.get("phases", []))
    week = campaign.week_of(as_of)
    previous, _ = _previous(ledger, tables, week, as_of, schemas)
    this_week = stored(ledger, week) if ledger is not None else {}
    return with_history(flags, as_of, campaign, schemas.rules.levels, previous, this_week)


def keep(ledger: Ledger, tables: dict, flags: list[Flag], as_of: date,
         schemas: Schemas) -> tuple[list[Flag], list[Flag]]:
    """annotate, then store the week's flags (open and cleared) and journal them when they changed; the week
    before too, when it was recomputed (kept once: later exports and reports read it)."""
    campaign = Campaign.from_records(tables.get("phases", []))
    week = campaign.week_of(as_of)
    previous, recomputed = _previous(ledger, tables, week, as_of, schemas)
    kept = stored(ledger, week)
    opened, cleared = with_history(flags, as_of, campaign, schemas.rules.levels, previous, kept)
    if recomputed is not None:
        before_week, before_flags = recomputed
        _store(ledger, before_week, as_of - timedelta(days=7), list(before_flags.values()))
    _store(ledger, week, as_of, [*opened, *cleared])
    return opened, cleared


def _texts_by_key(flags) -> dict[tuple, str]:
    """Each flag's JSON text (as kept) by its key."""
    return {flag.key: _json_text(flag) for flag in flags}


def _store(ledger: Ledger, week: int, as_of: date, flags: list[Flag]) -> None:
    """Keep a week's flags. Only the flags that changed are written and journaled: a "flags" entry holds the week
    whole the first time it is kept, then only what changed since ("changed" rows, "gone" keys): a week holds
    hundreds of flags at a 2,400-member college, and a return changes a few (docs/design.md, "Flags and their
    history")."""
    texts = _texts_by_key(flags)
    kept = _stored_by_key(ledger, week)
    changed = {key: text for key, text in texts.items() if key not in kept or _differ(text, kept[key])}
    gone = [key for key in kept if key not in texts]
    if not changed and not gone:
        return
    head = json.dumps({"week": week, "as_of": as_of}, ensure_ascii=False, default=_to_db)[:-1]
    with ledger.transaction():
        if not kept:
            # {"week": …, "as_of": …, "flags": rows} as json.dumps writes it, from the rows' text made once
            rows = [texts[key] for key in sorted(texts)]
            body = f'{head}, "flags": [{", ".join(rows)}]}}'
        else:
            body = (f'{head}, "changed": [{", ".join(changed[key] for key in sorted(changed))}], '
                    f'"gone": {json.dumps(sorted(gone), ensure_ascii=False)}}}')
        change_week(ledger, week, changed, gone)
        ledger.journal_text(JOURNAL_KIND, body)


def _stored_by_key(ledger: Ledger, week: int) -> dict[tuple, str]:
    """A week's kept flags as stored (their JSON text), by key."""
    return {(kind, subject, rule): text for kind, subject, rule, text in ledger.db.execute(
        f'SELECT subject_kind, subject_id, rule, flag FROM "{TABLE}" WHERE week = ?', (week,))}


def _differ(text: str, kept: str) -> bool:
    """Whether a flag differs from the one kept, compared by their text (decoding hundreds of flags to compare cost
    more than the rules); a pair whose texts differ is compared decoded (a row kept by an earlier version may be
    written otherwise)."""
    return text != kept and json.loads(text) != json.loads(kept)


def change_week(ledger: Ledger, week: int, changed: dict[tuple, str], gone: list) -> None:
    """Write the flags that changed in a week and remove those gone (inside a transaction); also how `rebuild`
    replays a "flags" entry of changes."""
    ledger.db.executemany(f'DELETE FROM "{TABLE}" WHERE week = ? AND subject_kind = ? AND subject_id = ? AND rule = ?',
                          ((week, *key) for key in [*changed, *gone]))
    ledger.db.executemany(f'INSERT INTO "{TABLE}" (week, subject_kind, subject_id, rule, flag) VALUES (?, ?, ?, ?, ?)',
                          ((week, *key, text) for key, text in changed.items()))


def replay(ledger: Ledger, body: dict) -> None:
    """A journaled "flags" entry kept again (rebuild): a week whole, or its changes."""
    if "flags" in body:
        store_week(ledger, body["week"], body["flags"])
        return
    changed = {(r["subject_kind"], r["subject_id"], r["rule"]): json.dumps(r, ensure_ascii=False)
               for r in body["changed"]}
    change_week(ledger, body["week"], changed, [tuple(key) for key in body["gone"]])


def store_week(ledger: Ledger, week: int, rows: list[dict]) -> None:
    """Replace what is kept for a week (inside a transaction): how `rebuild` replays a "flags" entry of a whole week."""
    texts = [json.dumps(r, ensure_ascii=False) for r in rows]
    ledger.db.execute(f'DELETE FROM "{TABLE}" WHERE week = ?', (week,))
    ledger.db.executemany(f'INSERT INTO "{TABLE}" (week, subject_kind, subject_id, rule, flag) VALUES (?, ?, ?, ?, ?)',
                          ((week, r["subject_kind"], r["subject_id"], r["rule"], text) for r, text in zip(rows, texts)))
