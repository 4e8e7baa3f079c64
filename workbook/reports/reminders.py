"""Each branch secretary's reminder and each committee liaison's digest: the open items by name, with why
each is open and what clears it (open_items.py). The bulletin names no one; these do, to the people who act."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from ..flag_history import raised_with_history
from ..flags import Flag, day_words
from ..i18n import Domain
from ..schema import Schemas, load_schemas
from .figures import hours_words
from .flag_view import LEVELS, level_words
from .open_items import OpenItem, open_items
from .progress import compute_progress

say = Domain("reports")
RETURN_RULES = ("return-missing", "return-rejected")  # while these are open, the branch's hours are not judged


@dataclass
class Reminder:
    branch_id: str
    branch: str
    secretary: str
    email: str | None
    text: str
    items: list[OpenItem]


@dataclass
class Digest:
    committee_id: str
    liaison: str
    email: str | None
    branch_ids: list[str]
    text: str
    items: list[OpenItem]


def _levels(lang: str, items: list[OpenItem]) -> str:
    counts = Counter(item.level for item in items)
    return say(lang, ", ").join(say(lang, "{level} {count}", level=level_words(lang, level), count=counts[level])
                                for level in LEVELS if counts[level])


def _item_lines(lang: str, items: list[OpenItem]) -> list[str]:
    lines = []
    for number, item in enumerate(items, start=1):
        who = say(lang, "this branch") if item.subject_kind == "branch" else item.name
        mark = say(lang, " (new)") if item.new else ""
        lines.append(say(lang, "  {number}. [{level}] {who}: {title}{mark}. {reason}", number=number,
                         level=level_words(lang, item.level), who=who, title=item.title, mark=mark, reason=item.reason))
        if item.clears:
            lines.append(say(lang, "     To clear: {clears}", clears=item.clears))
    return lines


class _Context:
    """What both kinds of letter read: the open items as of a day, the return states, the hours."""

    def __init__(self, tables: dict[str, list[dict]], as_of: date, lang: str, flags: list[Flag] | None,
                 schemas: Schemas | None):
        schemas = schemas or load_schemas()
        self.tables, self.as_of, self.lang = tables, as_of, lang
        if flags is None:
            flags, _ = raised_with_history(None, tables, as_of, schemas)
        self.items = open_items(flags, lang)
        self.progress = compute_progress(tables, as_of, schemas, flags=flags)
        self.branches = {b.branch_id: b for b in self.progress.branches}
        self.when = {"date": day_words(lang, as_of), "month": as_of.month, "day": as_of.day}

    def of_branch(self, branch_id: str) -> list[OpenItem]:
        return [item for item in self.items if item.branch_id == branch_id]

    def branch_lines(self, branch: dict) -> list[str]:
        """A branch's week in two lines: its return, its hours against the hours due (while its returns are
        outstanding its members' hours are not judged: flags.study_hours)."""
        lang, figures = self.lang, self.branches[branch["branch_id"]]
        state, day = figures.return_state, figures.measured_to
        lines = [say(lang, "Week {week}'s return: {state}.", week=self.progress.week, state=state.word(lang))]
        if any(item.rule in RETURN_RULES for item in self.of_branch(branch["branch_id"])):
            lines.append(say(lang, "As of {date}, the members of {branch} are measured again once the returns below "
                                   "are in.", branch=branch["name"], **self.when))
        elif day and figures.members:
            lines.append(say(lang, "Hours (records up to {cutoff}): {hours}.", cutoff=day_words(lang, day),
                             hours=hours_words(lang, figures.average_hours, figures.expected_hours)))
        return lines


def _reminder(context: _Context, branch: dict) -> Reminder:
    lang, items = context.lang, context.of_branch(branch["branch_id"])
    lines = [say(lang, "Dear {secretary},", secretary=branch.get("secretary", "")), ""]
    if items:
        lines.append(say(lang, "As of {date}, {branch} has {count} open items ({levels}), each with why it is open "
                               "and how it clears:", branch=branch["name"], count=len(items),
                         levels=_levels(lang, items), **context.when))
    else:
        lines.append(say(lang, "As of {date}, {branch} has no open items. Thank you!", branch=branch["name"],
                         **context.when))
    lines += ["", *context.branch_lines(branch)]
    if items:
        lines += ["", *_item_lines(lang, items)]
    lines += ["", say(lang, "The college Party committee office")]
    return Reminder(branch["branch_id"], branch["name"], branch.get("secretary", ""), branch.get("secretary_email"),
                    "\n".join(lines) + "\n", items)


def reminders(tables: dict[str, list[dict]], as_of: date, lang: str = "zh", flags: list[Flag] | None = None,
              schemas: Schemas | None = None) -> list[Reminder]:
    """One letter per branch secretary; `flags` with their levels and states (flag_history.raised_with_history; None:
    as the rules raise them, against the week before recomputed)."""
    context = _Context(tables, as_of, lang, flags, schemas)
    return [_reminder(context, branch) for branch in tables.get("branches", [])]


def _digest(context: _Context, liaison: dict, branches: list[dict]) -> Digest:
    lang = context.lang
    items = [item for branch in branches for item in context.of_branch(branch["branch_id"])]
    lines = [say(lang, "Dear {liaison},", liaison=liaison["name"]), "",
             say(lang, "As of {date}, the branches you liaise with have {count} open items ({levels}).",
                 count=len(items), levels=_levels(lang, items) or "—", **context.when)]
    for branch in branches:
        mine = context.of_branch(branch["branch_id"])
        new = sum(item.new for item in mine)
        lines += ["", say(lang, "{branch} (secretary {secretary}): {count} open, {new} of them new this week.",
                          branch=branch["name"], secretary=branch.get("secretary", ""), count=len(mine), new=new)]
        lines += [f"  {line}" for line in context.branch_lines(branch)]
        lines += _item_lines(lang, mine)
    lines += ["", say(lang, "The college Party committee office")]
    return Digest(liaison["committee_id"], liaison["name"], liaison.get("email"),
                  [b["branch_id"] for b in branches], "\n".join(lines) + "\n", items)


def digests(tables: dict[str, list[dict]], as_of: date, lang: str = "zh", flags: list[Flag] | None = None,
            schemas: Schemas | None = None) -> list[Digest]:
    """One digest per committee member who liaises with a branch (docs/domain.md, "People")."""
    context = _Context(tables, as_of, lang, flags, schemas)
    result = []
    for liaison in tables.get("committee", []):
        branches = [b for b in tables.get("branches", []) if b.get("liaison_id") == liaison["committee_id"]]
        if branches:
            result.append(_digest(context, liaison, branches))
    return result
