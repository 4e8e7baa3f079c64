"""A short reminder per branch secretary: her members who fall behind and what each still needs."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..flags import compute_flags, day_words
from ..i18n import Domain

say = Domain("reports")


@dataclass
class Reminder:
    branch_id: str
    branch: str
    secretary: str
    email: str | None
    text: str


def semicolons(lang: str, parts: list[str]) -> str:
    """Parts of one sentence, one after another ("a; b" in English, "a；b" in Chinese)."""
    text = parts[0] if parts else ""
    for part in parts[1:]:
        text = say(lang, "{earlier}; {later}", earlier=text, later=part)
    return text


def reminders(tables: dict[str, list[dict]], as_of: date, lang: str = "zh") -> list[Reminder]:
    flags = compute_flags(tables, as_of)
    when = {"date": day_words(lang, as_of), "month": as_of.month, "day": as_of.day}
    result = []
    for branch in tables.get("branches", []):
        mine = [f for f in flags if f.branch == branch["name"]]
        members: dict[str, list] = {}
        for flag in mine:
            if flag.subject_kind == "member":
                members.setdefault(flag.name, []).append(flag)
        lines = [say(lang, "Dear {secretary},", secretary=branch.get("secretary", "")), ""]
        own = [f for f in mine if f.subject_kind == "branch"]
        if not members and not own:
            lines.append(say(lang, "As of {date}, no member of {branch} needs following up. Thank you!",
                             branch=branch["name"], **when))
        elif members:
            lines.append(say(lang, "As of {date}, these members of {branch} need following up ({count}):",
                             branch=branch["name"], count=len(members), **when))
        elif any(f.rule in ("return-missing", "return-rejected") for f in own):
            # Hours are not judged while a return is outstanding (flags.study_hours): "on track" would be a guess.
            lines.append(say(lang, "As of {date}, the members of {branch} are measured again once the returns below "
                                   "are in.", branch=branch["name"], **when))
        else:
            lines.append(say(lang, "As of {date}, the members of {branch} are on track.", branch=branch["name"], **when))
        for name, flags_of in members.items():
            needs = semicolons(lang, [f.shortfall(lang) or f.title(lang) for f in flags_of])
            lines.append(say(lang, "  {name}: {needs}", name=name, needs=needs))
        for flag in own:
            lines.append(say(lang, "  This branch: {detail}", detail=flag.detail(lang)))
        lines += ["", say(lang, "The college Party committee")]
        result.append(Reminder(branch["branch_id"], branch["name"], branch.get("secretary", ""),
                               branch.get("secretary_email"), "\n".join(lines) + "\n"))
    return result
