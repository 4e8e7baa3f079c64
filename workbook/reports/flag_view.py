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

from ..cells import as_day
from ..flags import Flag
from ..i18n import N_, Domain

say = Domain("reports")

# Most urgent first: the order of every table and list that shows levels.
LEVELS = ("priority", "urge", "notice")
LEVEL_WORDS = {"priority": N_("Priority follow-up"), "urge": N_("Urge"), "notice": N_("Notice")}
STATES = ("new", "continuing", "cleared")
STATE_WORDS = {"new": N_("New"), "continuing": N_("Continuing"), "cleared": N_("Cleared")}
RETURN_WORDS = {"received": N_("received"), "late": N_("late"), "rejected": N_("sent back for correction"),
                "missing": N_("missing")}
DEFAULT_LEVEL = "notice"


def level_of(flag: Flag) -> str:
    """The flag's level code; a flag that carries none is a notice."""
    level = getattr(flag, "level", None) or flag.values.get("level")
    return level if level in LEVELS else DEFAULT_LEVEL


def key_of(flag: Flag) -> str:
    """What stays the same while a flag stays open: its rule, its subject and the day it runs from (one branch
    can miss two weeks' returns, one member have two fixes overdue)."""
    since = flag.since.isoformat() if flag.since else ""
    return f"{flag.rule}|{flag.subject_kind}|{flag.subject_id}|{since}"


def snapshot(flags: Iterable[Flag]) -> dict[str, dict[str, str]]:
    """The flags as a report remembers them: key -> level and rule (no names: a bulletin's record holds none)."""
    return {key_of(f): {"level": level_of(f), "rule": f.rule} for f in flags}


@dataclass(frozen=True)
class Changes:
    """The flags now against a remembered set, counted by level and state, and by rule within each state."""

    by_level: dict[str, dict[str, int]]  # level -> state -> count
    by_rule: dict[str, Counter]  # state -> rule -> count

    @property
    def open_now(self) -> dict[str, int]:
        return {level: states["new"] + states["continuing"] for level, states in self.by_level.items()}


def compare(now: Iterable[Flag], before: dict[str, dict[str, str]]) -> Changes:
    by_level = {level: dict.fromkeys(STATES, 0) for level in LEVELS}
    by_rule: dict[str, Counter] = {state: Counter() for state in STATES}
    current = snapshot(now)
    for key, flag in current.items():
        state = "continuing" if key in before else "new"
        by_level[flag["level"]][state] += 1
        by_rule[state][flag["rule"]] += 1
    for key, flag in before.items():
        if key not in current:
            by_level[flag.get("level", DEFAULT_LEVEL) if flag.get("level") in LEVELS else DEFAULT_LEVEL]["cleared"] += 1
            by_rule["cleared"][flag["rule"]] += 1
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
    return say(lang, LEVEL_WORDS[level])
