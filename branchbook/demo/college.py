"""The built-in demo college: the seed's 生仪学院 with its branches, liaisons and about 300 members.

Deterministic (a fixed random seed), so tests and the README can rely on it.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from ..workbook import ids
from ..workbook.provenance import stamp
from ..workbook.schema import load_schemas

CAMPAIGN_START = date(2005, 3, 7)
DEMO_AS_OF = date(2005, 3, 30)  # the demo college lives in 2005: its flags and dashboard are as of this day
DEMO_SEED = 2005

PHASES = [
    {"phase_id": "P1", "name": "思想发动、学习培训", "start": date(2005, 3, 7), "end": date(2005, 4, 24),
     "target_hours": 40},
    {"phase_id": "P2", "name": "党性分析、民主评议", "start": date(2005, 4, 25), "end": date(2005, 5, 22),
     "target_hours": None},
    {"phase_id": "P3", "name": "整改提高", "start": date(2005, 5, 23), "end": date(2005, 6, 19),
     "target_hours": None},
]

COMMITTEE = [
    {"committee_id": "C01", "name": "楼正国", "role": "secretary", "email": "louzg@bme.example.edu.cn"},
    {"committee_id": "C02", "name": "郑筱祥", "role": "dean", "email": "zhengxx@bme.example.edu.cn"},
    {"committee_id": "C03", "name": "郑胜", "role": "deputy_secretary", "email": "zhengs@bme.example.edu.cn"},
    {"committee_id": "C04", "name": "陆金芳", "role": "deputy_dean", "email": "lujf@bme.example.edu.cn"},
    {"committee_id": "C05", "name": "杨祥龙", "role": "dean_assistant", "email": "yangxl@bme.example.edu.cn"},
]

# (id, name, kind, liaison, members, party groups); liaisons as the seed assigns them.
BRANCHES = [
    ("B01", "博士生党支部", "doctoral", "C01", 40, 0),
    ("B02", "生物医学工程研究所党支部", "institute", "C02", 26, 0),
    ("B03", "生医系硕士生党支部", "master", "C03", 48, 4),
    ("B04", "临床工程研究所党支部", "institute", "C04", 20, 0),
    ("B05", "检测技术研究所党支部", "institute", "C05", 22, 0),
    ("B06", "生医本科生第一党支部", "undergrad", None, 38, 0),
    ("B07", "生医本科生第二党支部", "undergrad", None, 45, 4),
    ("B08", "院机关支部", "office", None, 16, 0),
    ("B09", "生医教工党支部", "staff", None, 45, 3),
]

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉红玉兰晶海燕鹏飞宇浩然思雨欣怡子涵俊博志成佳琪嘉"
_GROUP_NAMES = ["第一党小组", "第二党小组", "第三党小组", "第四党小组"]
_CATEGORY = {"doctoral": "student", "master": "student", "undergrad": "student", "office": "office"}

COLLEGE_SESSIONS = [
    # (week, weekday offset, kind, topic, hours)
    (1, 2, "lecture", "全院党员动员大会：学习张浚生书记动员报告", 3),
    (2, 4, "film", "观看影片《惊涛骇浪》", 2.5),
]
BRANCH_SESSION_TOPICS = [
    ("central", "学习《保持共产党员先进性教育读本》", 3),
    ("group", "党小组讨论：党的十六大报告", 2),
    ("central", "学习新党章，交流学习体会", 3),
    ("orglife", "组织生活会：8个思考题交流", 2),
]


def _people(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    names = []
    while len(names) < count:
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def demo_tables() -> dict[str, list[dict[str, Any]]]:
    """Every master sheet's records for the demo college, weeks 1 and 2 already merged."""
    rng = random.Random(DEMO_SEED)
    taken = {c["name"] for c in COMMITTEE} | {"夏顺仁"}
    branches, members = [], []
    serial = 0
    for branch_id, name, kind, liaison, size, groups in BRANCHES:
        secretary, *rest = _people(rng, size, taken)
        if branch_id == "B02":
            rest[0] = "夏顺仁"  # the seed's member who studied while travelling
        group_names = _GROUP_NAMES[:groups]
        branches.append({
            "branch_id": branch_id, "name": name, "kind": kind, "secretary": secretary,
            "secretary_email": f"{branch_id.lower()}.secretary@bme.example.edu.cn",
            "deputy_emails": None, "liaison_id": liaison, "party_groups": "、".join(group_names) or None,
        })
        for index, person in enumerate([secretary, *rest]):
            serial += 1
            members.append({
                "member_id": f"M{serial:04d}", "name": person, "branch_id": branch_id,
                "party_group": group_names[index % groups] if groups else None,
                "category": _CATEGORY.get(kind, "staff"),
                "standing": "probationary" if kind in ("undergrad", "master") and rng.random() < 0.2 else "full",
                "away": "yes" if branch_id == "B02" and index in (3, 7) else "no",
                "joined": CAMPAIGN_START + timedelta(days=21) if index == size - 1 and kind == "undergrad" else None,
                "contact": f"1{rng.randrange(3, 9)}{rng.randrange(10**8, 10**9)}",
            })
    tables: dict[str, list[dict[str, Any]]] = {
        "phases": PHASES, "committee": COMMITTEE, "branches": branches, "members": members,
        "sessions": [], "attendance": [], "selfstudy": [], "inspections": [], "opinions": [],
        "returns": [], "flags": [],
    }
    _history(rng, tables)
    schemas = load_schemas()
    for key, rows in tables.items():
        sheet = schemas.sheet(key)
        if sheet.provenance:
            tables[key] = [stamp(sheet, row, row["source_return"]) for row in rows]
    return tables


def _history(rng: random.Random, tables: dict[str, list[dict[str, Any]]]) -> None:
    """College-wide sessions and weeks 1-2 of every branch, as if already merged."""
    members = tables["members"]
    for week, offset, kind, topic, hours in COLLEGE_SESSIONS:
        session_id = f"ALL-W{week:02d}-S1"
        day = CAMPAIGN_START + timedelta(days=7 * (week - 1) + offset)
        tables["sessions"].append({"session_id": session_id, "branch_id": None, "date": day, "kind": kind,
                                   "topic": topic, "hours": hours, "source_return": "college"})
        _attend(rng, tables, members, session_id, day, hours, "college")
    for branch in tables["branches"]:
        roster = [m for m in members if m["branch_id"] == branch["branch_id"]]
        for week in (1, 2):
            return_id = ids.return_id(branch["branch_id"], week)
            kind, topic, hours = BRANCH_SESSION_TOPICS[week - 1]
            day = CAMPAIGN_START + timedelta(days=7 * (week - 1) + 3)
            session_id = ids.session_id(return_id, "S1")
            tables["sessions"].append({"session_id": session_id, "branch_id": branch["branch_id"], "date": day,
                                       "kind": kind, "topic": topic, "hours": hours, "source_return": return_id})
            for member in _attend(rng, tables, roster, session_id, day, hours, return_id):
                if rng.random() < 0.85:
                    tables["selfstudy"].append({
                        "member_id": member["member_id"], "date": day + timedelta(days=1),
                        "hours": rng.choice((3, 4, 5)), "material": "《保持共产党员先进性教育读本》",
                        "source_return": return_id})
            tables["returns"].append({
                "receipt_id": f"demo-{return_id}", "return_id": return_id, "branch_id": branch["branch_id"], "week": week,
                "summary": f"本周组织{topic}，党员积极参加。", "problems": None,
                "file_name": f"{branch['name']}_第{week}周.xlsx", "sha256": None,
                "sender": branch["secretary_email"], "filled_at": f"{day + timedelta(days=4)} 17:00:00",
                "received_at": f"{day + timedelta(days=4)} 18:00:00",
                "merged_at": f"{day + timedelta(days=4)} 18:05:00", "result": "merged"})


def _attend(rng: random.Random, tables: dict, members: list[dict], session_id: str, day: date, hours: float,
            source: str) -> list[dict]:
    """Attendance of a session by the members who had joined by then; returns those members."""
    present = [m for m in members if not (m["joined"] and m["joined"] > day)]
    for member in present:
        status = _status(rng, member)
        tables["attendance"].append({"session_id": session_id, "member_id": member["member_id"], "status": status,
                                     "hours": hours if status == "present" else 0, "source_return": source})
    return present


def _status(rng: random.Random, member: dict[str, Any]) -> str:
    if member["away"] == "yes":
        return "excused"
    roll = rng.random()
    return "present" if roll < 0.88 else ("excused" if roll < 0.95 else "absent")
