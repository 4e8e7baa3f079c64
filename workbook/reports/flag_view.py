"""How the reports read a flag's level and a branch's return state: the one place that knows where they come from.

The levels (提示 / 督促 / 重点督办, from the weeks kept: flag_history.py) and the return states
(return_states.py, read through progress.py) are the flag rules' (docs/domain.md, "Falling behind"); the
bulletin, the reminders and the digests take a flag's level and its state (new / continuing / cleared)
from flag_history.py through here, so that they mean the same in every report and on the Flags sheet.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..flags import LEVEL_WORDS, LEVELS, STATE_WORDS, STATES, Flag
from ..i18n import Domain
from ..return_states import ReturnState

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


def changes(opened: Iterable[Flag], cleared: Iterable[Flag]) -> Changes:
    """The open flags by their state (new / continuing, flag_history.py) and the week before's cleared ones,
    counted by level and by rule."""
    by_level = {level: dict.fromkeys(STATES, 0) for level in LEVELS}
    by_rule: dict[str, Counter] = {state: Counter() for state in STATES}
    for flag in [*opened, *cleared]:
        by_level[level_of(flag)][flag.state] += 1
        by_rule[flag.state][flag.rule] += 1
    return Changes(by_level, by_rule)


def received(state: ReturnState) -> bool:
    return state.merged


def sent_back(state: ReturnState) -> bool:
    return state.state in ("rejected", "empty")



def level_words(lang: str, level: str) -> str:
    return say_flags(lang, LEVEL_WORDS[level])


def state_words(lang: str, state: str) -> str:
    return say_flags(lang, STATE_WORDS[state])
