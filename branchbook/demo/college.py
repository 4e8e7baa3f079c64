"""The built-in demo college: the seed's 生仪学院 with its branches, liaisons and about 300 members.

Deterministic (a fixed random seed), so tests and the README can rely on it.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from ..workbook import ids
from ..workbook.i18n import N_, Domain
from ..workbook.provenance import stamp
from ..workbook.return_template import return_file_name
from ..workbook.schema import load_schemas

CAMPAIGN_START = date(2005, 3, 7)
DEMO_AS_OF = date(2005, 3, 30)  # the demo college lives in 2005: its flags and dashboard are as of this day
DEMO_SEED = 2005
say = Domain("demo")

PHASES = [
    {"phase_id": "P1", "name": N_("Mobilisation and study"), "start": date(2005, 3, 7), "end": date(2005, 4, 24),
     "target_hours": 40},
    {"phase_id": "P2", "name": N_("Party-spirit analysis and appraisal"), "start": date(2005, 4, 25), "end": date(2005, 5, 22),
     "target_hours": None},
    {"phase_id": "P3", "name": N_("Rectification"), "start": date(2005, 5, 23), "end": date(2005, 6, 19),
     "target_hours": None},
]

COMMITTEE = [
    {"committee_id": "C01", "name": N_("Lou Zhengguo"), "role": "secretary", "email": "louzg@bme.example.edu.cn"},
    {"committee_id": "C02", "name": N_("Zheng Xiaoxiang"), "role": "member", "post": N_("Dean"),
     "email": "zhengxx@bme.example.edu.cn"},
    {"committee_id": "C03", "name": N_("Zheng Sheng"), "role": "deputy_secretary", "email": "zhengs@bme.example.edu.cn"},
    {"committee_id": "C04", "name": N_("Lu Jinfang"), "role": "member", "post": N_("Deputy dean"),
     "email": "lujf@bme.example.edu.cn"},
    {"committee_id": "C05", "name": N_("Yang Xianglong"), "role": "member", "post": N_("Dean's assistant"),
     "email": "yangxl@bme.example.edu.cn"},
]

# (id, name, kind, liaison, members, party groups); liaisons as the seed assigns them.
BRANCHES = [
    ("B01", N_("Doctoral students' branch"), "doctoral", "C01", 40, 0),
    ("B02", N_("Institute of Biomedical Engineering branch"), "institute", "C02", 26, 0),
    ("B03", N_("Master's students' branch"), "master", "C03", 48, 4),
    ("B04", N_("Institute of Clinical Engineering branch"), "institute", "C04", 20, 0),
    ("B05", N_("Institute of Testing Technology branch"), "institute", "C05", 22, 0),
    ("B06", N_("First undergraduate branch"), "undergrad", None, 38, 0),
    ("B07", N_("Second undergraduate branch"), "undergrad", None, 45, 4),
    ("B08", N_("College office branch"), "office", None, 16, 0),
    ("B09", N_("Teaching staff branch"), "staff", None, 45, 3),
]

# Names are drawn as positions in these lists, then spelt in the HOME's language (Chinese, or pinyin).
_SURNAMES = {"zh": list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"),
             "en": ("Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Gao Lin Luo Zheng Liang Xie "
                    "Song Tang Xu Han Feng Deng Cao Peng Zeng Xiao Tian Dong Yuan Pan Yu Jiang Cai Yu Du Ye Cheng Su Wei "
                    "Lv Ding Ren Shen Yao Lu").split()}
_GIVEN = {"zh": list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉红玉兰晶海燕鹏飞宇浩然思雨欣怡子涵俊博志成佳琪嘉"),
          "en": ("wei fang na min jing li qiang lei jun yang yong yan jie juan tao ming chao xiu xia ping gang gui ying "
                 "hua jian guo wen hui hong yu lan jing hai yan peng fei yu hao ran si yu xin yi zi han jun bo zhi cheng "
                 "jia qi jia").split()}
_GROUP_NAMES = [N_("Party group 1"), N_("Party group 2"), N_("Party group 3"), N_("Party group 4")]
TRAVELLER = N_("Xia Shunren")  # the seed's member who studied while travelling
_CATEGORY = {"doctoral": "student", "master": "student", "undergrad": "student", "office": "office"}

COLLEGE_SESSIONS = [
    # (week, weekday offset, kind, topic, hours)
    (1, 2, "lecture", N_("College members' mobilisation meeting: the Party secretary's report"), 3),
    (2, 4, "film", N_("Film: Raging Waves"), 2.5),
]
READER = N_("The campaign reader")
MEETING_ROOM = N_("Branch meeting room")  # where a branch meets (学习活动's 地点)
READER_REPORT = N_("Studied the reader's first part; notes on the thinking questions enclosed.")
BRANCH_SESSION_TOPICS = [
    ("central", N_("Studying the campaign reader"), 3),
    ("group", N_("Party group discussion: the 16th Congress report"), 2),
    ("central", N_("Studying the new Party constitution, sharing what we learnt"), 3),
    ("orglife", N_("Organisation-life meeting: the 8 thinking questions"), 2),
]


def _people(rng: random.Random, count: int, taken: set[tuple]) -> list[tuple]:
    """Names as positions in the name lists, unique; `_spelt` writes them out."""
    names = []
    while len(names) < count:
        name = (rng.randrange(len(_SURNAMES["zh"])), *(rng.randrange(len(_GIVEN["zh"])) for _ in range(rng.choice((1, 2)))))
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _spelt(name: tuple | str, lang: str) -> str:
    if isinstance(name, str):
        return say(lang, name)
    surname, *given = name
    if lang == "zh":
        return _SURNAMES["zh"][surname] + "".join(_GIVEN["zh"][g] for g in given)
    return f"{_SURNAMES['en'][surname]} " + "".join(_GIVEN["en"][g] for g in given).capitalize()


def demo_tables(lang: str = "zh") -> dict[str, list[dict[str, Any]]]:
    """Every master sheet's records for the demo college, weeks 1 and 2 already merged, in `lang`."""
    rng = random.Random(DEMO_SEED)
    taken: set[tuple] = set()
    branches, members = [], []
    serial = 0
    for branch_id, name, kind, liaison, size, groups in BRANCHES:
        secretary, *rest = _people(rng, size, taken)
        if branch_id == "B02":
            rest[0] = TRAVELLER
        group_names = [say(lang, group) for group in _GROUP_NAMES[:groups]]
        branches.append({
            "branch_id": branch_id, "name": say(lang, name), "kind": kind, "secretary": _spelt(secretary, lang),
            "secretary_email": f"{branch_id.lower()}.secretary@bme.example.edu.cn",
            "deputy_emails": None, "liaison_id": liaison, "party_groups": say(lang, ", ").join(group_names) or None,
        })
        for index, person in enumerate([secretary, *rest]):
            serial += 1
            members.append({
                "member_id": f"M{serial:04d}", "name": _spelt(person, lang), "branch_id": branch_id,
                "party_group": group_names[index % groups] if groups else None,
                "category": _CATEGORY.get(kind, "staff"),
                "standing": "probationary" if kind in ("undergrad", "master") and rng.random() < 0.2 else "full",
                "away": "yes" if branch_id == "B02" and index in (3, 7) else "no",
                "joined": CAMPAIGN_START + timedelta(days=21) if index == size - 1 and kind == "undergrad" else None,
                "contact": f"1{rng.randrange(3, 9)}{rng.randrange(10**8, 10**9)}",
            })
    tables: dict[str, list[dict[str, Any]]] = {
        "phases": [{**p, "name": _spelt(p["name"], lang)} for p in PHASES],
        "committee": [{**c, "name": _spelt(c["name"], lang), "post": say(lang, c["post"]) if c.get("post") else None}
                      for c in COMMITTEE], "branches": branches,
        "members": members,
        "sessions": [], "attendance": [], "selfstudy": [], "inspections": [], "opinions": [], "reports": [],
        "returns": [], "flags": [],
    }
    _history(rng, tables, lang)
    schemas = load_schemas()
    for key, rows in tables.items():
        sheet = schemas.sheet(key)
        if sheet.provenance:
            tables[key] = [stamp(sheet, row, row["source_return"]) for row in rows]
    return tables


def _history(rng: random.Random, tables: dict[str, list[dict[str, Any]]], lang: str) -> None:
    """College-wide sessions and weeks 1-2 of every branch, as if already merged."""
    members = tables["members"]
    for week, offset, kind, topic, hours in COLLEGE_SESSIONS:
        session_id = f"ALL-W{week:02d}-S1"
        day = CAMPAIGN_START + timedelta(days=7 * (week - 1) + offset)
        tables["sessions"].append({"session_id": session_id, "branch_id": None, "date": day, "kind": kind,
                                   "topic": say(lang, topic), "hours": hours, "source_return": "college"})
        _attend(rng, tables, members, session_id, day, hours, "college")
    for branch in tables["branches"]:
        roster = [m for m in members if m["branch_id"] == branch["branch_id"]]
        for week in (1, 2):
            return_id = ids.return_id(branch["branch_id"], week)
            kind, topic, hours = BRANCH_SESSION_TOPICS[week - 1]
            day = CAMPAIGN_START + timedelta(days=7 * (week - 1) + 3)
            session_id = ids.session_id(return_id, "S1")
            tables["sessions"].append({"session_id": session_id, "branch_id": branch["branch_id"], "date": day,
                                       "kind": kind, "topic": say(lang, topic), "hours": hours,
                                       "place": say(lang, MEETING_ROOM), "chair": branch["secretary"],
                                       "source_return": return_id})
            for member in _attend(rng, tables, roster, session_id, day, hours, return_id):
                if rng.random() < 0.85:
                    tables["selfstudy"].append({
                        "member_id": member["member_id"], "date": day + timedelta(days=1),
                        "hours": rng.choice((3, 4, 5)), "material": say(lang, READER),
                        "source_return": return_id})
            if week == 2 and branch["branch_id"] == "B02":  # one member away wrote in; the other has not
                away = [m for m in roster if m["away"] == "yes"][0]
                tables["reports"].append({"member_id": away["member_id"], "date": day + timedelta(days=1),
                                          "channel": "letter", "summary": say(lang, READER_REPORT),
                                          "source_return": return_id})
            tables["returns"].append({
                "receipt_id": f"demo-{return_id}", "return_id": return_id, "branch_id": branch["branch_id"], "week": week,
                "summary": say(lang, "This week: {topic}; the members took an active part.", topic=say(lang, topic)),
                "problems": None, "file_name": return_file_name(branch["name"], week, lang), "sha256": None,
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
        return "away"
    roll = rng.random()
    return "present" if roll < 0.88 else ("excused" if roll < 0.95 else "absent")
