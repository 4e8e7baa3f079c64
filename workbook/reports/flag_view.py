"""How the reports read a flag's level and a branch's return state: the one place that knows where they come from.

The levels (提示 / 督促 / 重点督办) and the return states are the flag rules' (docs/domain.md, "Falling
behind"); the bulletin, the reminders and the digests take them from here only, and compare flags by
their key (rule, subject), so that "new / continuing / cleared" means the same in every report.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..cells import as_day
from ..flags import LEVEL_WORDS, LEVELS, STATE_WORDS, STATES, Flag
from ..i18n import N_, Domain

say = Domain("reports")
say_flags = Domain("flags")

RETURN_WORDS = {"received": N_("received"), "late": N_("late"), "rejected": N_("sent back for correction"),
                "missing": N_("missing")}


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


def return_state(receipts: Iterable[dict], branch_id: str, week: int, due: date) -> str:
    """The branch's return for the week: received, late, rejected (sent back, nothing merged yet) or missing.

    A correction of a return sent back is on time when the first version was (docs/domain.md, "Flow" 5)."""
    mine = [r for r in receipts if r.get("branch_id") == branch_id and r.get("week") == week]
    if any(r.get("result") in ("merged", "replaced") for r in mine):
        sent = [as_day(r.get("received_at")) for r in mine if r.get("result") in ("merged", "replaced", "rejected")]
        arrived = min((day for day in sent if day), default=None)
        return "late" if arrived and arrived > due else "received"
    return "rejected" if any(r.get("result") == "rejected" for r in mine) else "missing"


def return_words(lang: str, state: str) -> str:
    return say(lang, RETURN_WORDS[state])


def level_words(lang: str, level: str) -> str:
    return say_flags(lang, LEVEL_WORDS[level])


def state_words(lang: str, state: str) -> str:
    return say_flags(lang, STATE_WORDS[state])
