"""How the reports read a flag's level and a branch's return state: the one place that knows where they come from.

The levels (提示 / 督促 / 重点督办, from the weeks kept: flag_history.py) and the return states
(return_states.py) are the flag rules' (docs/domain.md, "Falling behind"); the bulletin, the reminders
and the digests take them from here only, and compare flags by their key (Flag.key: who, and which
rule), so that "new / continuing / cleared" means the same in every report.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .. import flag_history, return_states
from ..calendar import Campaign
from ..flags import LEVEL_WORDS, LEVELS, STATE_WORDS, STATES, Flag, compute_flags
from ..i18n import Domain
from ..ledger import Ledger
from ..return_states import ReturnState
from ..schema import Schemas

say_flags = Domain("flags")



def level_of(flag: Flag) -> str:
    """The flag's level code (flags.LEVELS, most pressing first)."""
    return flag.level if flag.level in LEVELS else LEVELS[-1]


def key_of(flag: Flag) -> str:
    """What makes two weeks' flags the same flag (Flag.key: who, and which rule), as text a record can keep."""
    return "|".join(flag.key)


def snapshot(flags: Iterable[Flag]) -> dict[str, dict[str, Any]]:
    """The flags as a report remembers them: key -> level, rule and how many (no names: a bulletin's record
    holds none)."""
    kept: dict[str, dict[str, Any]] = {}
    for flag in flags:
        entry = kept.setdefault(key_of(flag), {"level": level_of(flag), "rule": flag.rule, "count": 0})
        entry["count"] += 1
    return kept


@dataclass(frozen=True)
class Changes:
    """The flags now against a remembered set, counted by level and state, and by rule within each state."""

    by_level: dict[str, dict[str, int]]  # level -> state -> count
    by_rule: dict[str, Counter]  # state -> rule -> count

    @property
    def open_now(self) -> dict[str, int]:
        return {level: states["new"] + states["continuing"] for level, states in self.by_level.items()}


def compare(now: Iterable[Flag], before: dict[str, dict[str, Any]]) -> Changes:
    """New: open now, not then; continuing: open then and now; cleared: open then, not now."""
    by_level = {level: dict.fromkeys(STATES, 0) for level in LEVELS}
    by_rule: dict[str, Counter] = {state: Counter() for state in STATES}
    current = snapshot(now)
    for key, flag in current.items():
        state = "continuing" if key in before else "new"
        by_level[flag["level"]][state] += flag["count"]
        by_rule[state][flag["rule"]] += flag["count"]
    for key, flag in before.items():
        if key not in current:
            level = flag.get("level") if flag.get("level") in LEVELS else LEVELS[-1]
            by_level[level]["cleared"] += flag.get("count", 1)
            by_rule["cleared"][flag["rule"]] += flag.get("count", 1)
    return Changes(by_level, by_rule)


def return_state(tables: dict, branch_id: str, week: int, as_of: date, schemas: Schemas) -> ReturnState:
    """Where the branch's return for the week stands (未交, 已交, 迟交, 退回待更正, 空表, 更正已收): return_states.py."""
    return return_states.return_state(Campaign.from_records(tables.get("phases", [])), tables.get("returns", []),
                                      branch_id, week, schemas.rules.thresholds.return_grace_days, as_of)


def received(state: ReturnState) -> bool:
    return state.merged


def sent_back(state: ReturnState) -> bool:
    return state.state in ("rejected", "empty")


def with_levels(ledger: Ledger, flags: list[Flag], as_of: date, tables: dict, schemas: Schemas) -> list[Flag]:
    """The flags with the level, first day and state the weeks kept in the ledger give them (flag_history.py)."""
    opened, _ = flag_history.annotate(ledger, flags, as_of, Campaign.from_records(tables.get("phases", [])),
                                      schemas.rules.levels)
    return opened


def new_keys(flags: list[Flag], tables: dict, as_of: date, schemas: Schemas) -> set[str]:
    """The flags raised since the week before: from their state when the history gave one (with_levels), else
    against the flags the rules raise a week earlier."""
    if any(flag.state != "new" for flag in flags):
        return {key_of(flag) for flag in flags if flag.state == "new"}
    before = {key_of(flag) for flag in compute_flags(tables, as_of - timedelta(days=7), schemas)}
    return {key_of(flag) for flag in flags if key_of(flag) not in before}


def level_words(lang: str, level: str) -> str:
    return say_flags(lang, LEVEL_WORDS[level])


def state_words(lang: str, state: str) -> str:
    return say_flags(lang, STATE_WORDS[state])
