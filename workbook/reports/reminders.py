"""A short reminder per branch secretary: her members who fall behind and what each still needs."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..flags import RULE_TITLES, compute_flags


@dataclass
class Reminder:
    branch_id: str
    branch: str
    secretary: str
    email: str | None
    text: str


def reminders(tables: dict[str, list[dict]], as_of: date) -> list[Reminder]:
    flags = compute_flags(tables, as_of)
    result = []
    for branch in tables.get("branches", []):
        mine = [f for f in flags if f.branch == branch["name"]]
        members: dict[str, list] = {}
        for flag in mine:
            if flag.subject_kind == "member":
                members.setdefault(flag.name, []).append(flag)
        lines = [f"{branch.get('secretary', '')}同志：", "",
                 f"截至 {as_of.month} 月 {as_of.day} 日，{branch['name']}"]
        own = [f for f in mine if f.subject_kind == "branch"]
        if not members and not own:
            lines[-1] += "没有需要跟进的党员，谢谢！"
        else:
            lines[-1] += f"有 {len(members)} 名党员需要跟进：" if members else "的党员进度正常。"
            for name, flags_of in members.items():
                needs = "；".join(f.shortfall or RULE_TITLES[f.rule] for f in flags_of)
                lines.append(f"  {name}：{needs}")
            for flag in own:
                lines.append(f"  本支部：{flag.detail}")
        lines += ["", "学院党委"]
        result.append(Reminder(branch["branch_id"], branch["name"], branch.get("secretary", ""),
                               branch.get("secretary_email"), "\n".join(lines) + "\n"))
    return result
