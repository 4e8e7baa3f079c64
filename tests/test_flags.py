"""Each falling-behind rule on a small hand-made ledger, with thresholds from schemas/."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from branchbook.cli import main
from branchbook.demo.college import PHASES, demo_tables
from branchbook.workbook.flags import compute_flags

START = date(2005, 3, 7)
BRANCHES = [
    {"branch_id": "B1", "name": "一支部", "kind": "staff", "secretary": "甲", "liaison_id": "C1"},
    {"branch_id": "B2", "name": "机关支部", "kind": "office", "secretary": "乙", "liaison_id": None},
]


def member(member_id, branch="B1", **extra):
    return {"member_id": member_id, "name": f"党员{member_id}", "branch_id": branch, "away": "no", "joined": None, **extra}


def session(number, kind="central", hours=3, branch="B1"):
    return {"session_id": f"S{number}", "branch_id": branch, "date": START + timedelta(days=2 + 7 * (number - 1)),
            "kind": kind, "hours": hours}


def ledger(members, sessions=(), attendance=(), selfstudy=(), inspections=(), opinions=(), returns=()):
    return {"phases": PHASES, "committee": [{"committee_id": "C1", "name": "楼正国"}], "branches": BRANCHES,
            "members": list(members), "sessions": list(sessions), "attendance": list(attendance),
            "selfstudy": list(selfstudy), "inspections": list(inspections), "opinions": list(opinions),
            "returns": list(returns)}


def att(session_id, member_id, status, hours=0):
    return {"session_id": session_id, "member_id": member_id, "status": status, "hours": hours}


def merged(weeks, branches=("B1", "B2"), day=None):
    """Receipts of returns merged on time (the day after each week's end) for the branches and weeks."""
    return [{"branch_id": b, "week": w, "result": "merged",
             "received_at": f"{day or START + timedelta(days=7 * w)} 09:00:00"} for b in branches for w in weeks]


def rules_for(tables, as_of, subject):
    return {f.rule for f in compute_flags(tables, as_of) if f.subject_id == subject}


def test_two_unexcused_absences_in_a_row_but_excused_is_not_absent():
    sessions = [session(n) for n in (1, 2, 3)]
    tables = ledger([member("A"), member("B")], sessions,
                    [att("S1", "A", "absent"), att("S2", "A", "absent"), att("S3", "A", "present", 3),
                     att("S1", "B", "absent"), att("S2", "B", "excused"), att("S3", "B", "absent")])
    as_of = date(2005, 3, 25)
    assert "absent-in-row" in rules_for(tables, as_of, "A")
    assert "absent-in-row" not in rules_for(tables, as_of, "B")


def test_absences_run_in_day_order_the_ledgers_order_within_a_day_and_only_while_he_is_a_member():
    """The rule reads his sessions by day (the ledger may hold them in any order), two sessions of one day in
    the ledger's order, and not the days before he joined or while he was away on training."""
    same_day = {**session(2), "session_id": "S2b"}
    sessions = [session(1), session(2), same_day, session(3)]
    rows = [att("S3", "A", "absent"), att("S2", "A", "absent"), att("S1", "A", "present", 3),
            att("S2", "B", "absent"), att("S2b", "B", "present", 3), att("S3", "B", "absent"),
            att("S2b", "C", "present", 3), att("S2", "C", "absent"), att("S3", "C", "absent"),
            att("S1", "D", "absent"), att("S2", "D", "absent"), att("S3", "D", "present", 3),
            att("S1", "E", "absent"), att("S2", "E", "absent"), att("S3", "E", "absent")]
    members = [member("A"), member("B"), member("C"), member("D", joined=START + timedelta(days=5)),
               member("E", away_from=START, away_until=START + timedelta(days=10))]
    as_of = date(2005, 3, 30)
    flagged = {m: "absent-in-row" in rules_for(ledger(members, sessions, rows), as_of, m) for m in "ABCDE"}
    assert flagged == {"A": True, "B": False, "C": True, "D": False, "E": False}
    # Reversing the ledger changes no day's order but the two sessions of one day.
    flagged = {m: "absent-in-row" in rules_for(ledger(members, sessions, rows[::-1]), as_of, m) for m in "ABCDE"}
    assert flagged == {"A": True, "B": True, "C": False, "D": False, "E": False}


def test_a_blank_or_unknown_status_is_reported_not_counted_absent():
    sessions = [session(n) for n in (1, 2)]
    tables = ledger([member("A")], sessions, [att("S1", "A", None), att("S2", "A", "出息")])
    flags = {f.rule: f for f in compute_flags(tables, date(2005, 3, 20)) if f.subject_id == "A"}
    assert "status-unknown" in flags and "absent-in-row" not in flags and "attendance-rate" not in flags
    assert "2 次" in flags["status-unknown"].detail("zh")


def test_no_records_is_no_data_not_zero_percent():
    rules = rules_for(ledger([member("A")], returns=merged((1, 2))), date(2005, 3, 23), "A")
    assert "no-data" in rules and "study-hours" not in rules


def test_study_hours_pro_rata_and_a_member_who_joined_late_is_measured_from_joining():
    as_of = date(2005, 3, 28)  # weeks 1-3 known: 21 of 49 days of the study phase, 40 * 21/49 = 17.1 hours due
    study = [{"member_id": m, "date": START + timedelta(days=1), "hours": 12, "material": "读本"} for m in ("A", "L")]
    joined = member("L", joined=date(2005, 3, 21))  # 7 days since he joined: 40 * 7/49 = 5.7 hours due
    tables = ledger([member("A"), joined], selfstudy=study, returns=merged((1, 2, 3)))
    assert "study-hours" in rules_for(tables, as_of, "A")
    assert "study-hours" not in rules_for(tables, as_of, "L")
    [flag] = [f for f in compute_flags(tables, as_of) if f.subject_id == "A" and f.rule == "study-hours"]
    assert flag.detail("zh") == "截至3月27日已学 12 学时，按进度应达 17.1，差 5.1。"
    assert flag.shortfall("zh").startswith("还差 28 学时")
    assert flag.detail("en") == "Studied 12 hours by 27 Mar; 17.1 due by then, 5.1 short."
    assert "5.1 short" in flag.detail("en") and flag.shortfall("en").startswith("28 hours to go")


def test_attendance_rate_below_the_threshold():
    sessions = [session(n) for n in range(1, 6)]
    statuses = ["present", "absent", "present", "absent", "present"]  # 60 %, never two in a row
    tables = ledger([member("A")], sessions, [att(f"S{n}", "A", s) for n, s in enumerate(statuses, 1)],
                    returns=merged((1, 2, 3, 4, 5)))
    rules = rules_for(tables, date(2005, 4, 10), "A")
    assert "attendance-rate" in rules and "absent-in-row" not in rules


def test_an_absence_made_up_breaks_a_run_and_is_said_beside_the_rate():
    """补学 (docs/domain.md, "Falling behind"): by a self-study row naming the session, or by attending a session
    that makes it up. The rate stays as recorded; its detail says how many absences were made up."""
    sessions = [session(n) for n in range(1, 6)]
    makeup = {**session(6), "session_id": "S6", "makes_up": "S2"}  # a 补学 session for those who missed S2
    statuses = ["present", "absent", "absent", "present", "absent"]  # 2/5 = 40 %; S2–S3 in a row
    rows = [att(f"S{n}", who, s) for who in ("A", "B", "C") for n, s in enumerate(statuses, 1)]
    study = {"member_id": "A", "date": START + timedelta(days=11), "hours": 2, "material": "补学", "makes_up": "S3"}
    tables = ledger([member("A"), member("B"), member("C")], [*sessions, makeup], [*rows, att("S6", "B", "present", 3)],
                    selfstudy=[study], returns=merged((1, 2, 3, 4, 5, 6)))
    as_of = date(2005, 4, 20)
    flags = {(f.subject_id, f.rule): f for f in compute_flags(tables, as_of)}
    # C made up nothing: S2 and S3 in a row. A made up S3 (self-study), B made up S2 (present at S6): no run.
    assert flags[("C", "absent-in-row")].values["count"] == 2
    assert ("A", "absent-in-row") not in flags and ("B", "absent-in-row") not in flags
    # A: present at 2 of 5 (S6 is B's only); B: 3 of 6 with S6. Each had one absence made up.
    assert flags[("A", "attendance-rate")].detail("zh") == "集中学习出席 2/5 次（40%，请假不计），低于 80%；缺席中已补学 1 次。"
    assert flags[("B", "attendance-rate")].detail("en") == ("Present at 3 of 6 central sessions (50%; leave not counted), "
                                                           "below 80%; absences made up since: 1.")


def test_notebook_rules():
    inspections = [
        {"member_id": "Q", "date": date(2005, 3, 20), "questions": 6, "result": "fix", "deadline": date(2005, 3, 27)},
        {"member_id": "R", "date": date(2005, 3, 20), "questions": 5, "result": "fix", "deadline": date(2005, 3, 27),
         "recheck_result": "pass"},
        {"member_id": "OK", "date": date(2005, 3, 20), "questions": 8, "result": "pass"},
    ]
    tables = ledger([member("Q"), member("R"), member("OK"), member("N")], inspections=inspections)
    as_of = date(2005, 4, 15)
    assert "fix-overdue" in rules_for(tables, as_of, "Q")
    assert "questions" not in rules_for(tables, as_of, "Q")  # his short answers are what the overdue fix is about
    assert "fix-overdue" not in rules_for(tables, as_of, "R")
    assert not {"questions", "fix-overdue"} & rules_for(tables, as_of, "OK")
    assert not {"questions", "fix-overdue"} & rules_for(tables, as_of, "N")  # not yet inspected: a branch figure


def test_opinions_only_for_the_office_branch():
    opinions = [{"member_id": m, "date": date(2005, 3, 10), "people": 2} for m in ("O", "S")]
    tables = ledger([member("O", "B2"), member("S", "B1")], opinions=opinions)
    assert "opinions" in rules_for(tables, date(2005, 4, 27), "O")  # due at the end of phase 1 (4/24)
    assert "opinions" not in rules_for(tables, date(2005, 4, 20), "O")
    assert "opinions" not in rules_for(tables, date(2005, 4, 27), "S")


def test_a_member_away_on_training_must_report():
    study = [{"member_id": m, "date": date(2005, 3, 25), "hours": 2, "material": "读本"} for m in "WV"]
    tables = ledger([member("W", away="yes"), member("V", away="yes")], selfstudy=study)
    tables["reports"] = [{"member_id": "W", "date": date(2005, 3, 8), "channel": "email"}]
    assert "away-silent" not in rules_for(tables, date(2005, 3, 20), "W")  # 12 days since his e-mail
    # A record of self-study is not a report received (issue 12): only 汇报收到 counts.
    assert "away-silent" in rules_for(tables, date(2005, 3, 30), "W")
    assert "away-silent" in rules_for(tables, date(2005, 3, 30), "V")


def test_branch_returns_missing_and_late():
    returns = [{"branch_id": "B1", "week": 1, "result": "merged", "received_at": "2005-03-14 09:00:00"},
               {"branch_id": "B1", "week": 2, "result": "merged", "received_at": "2005-03-25 09:00:00"},
               {"branch_id": "B2", "week": 1, "result": "rejected", "received_at": "2005-03-14 09:00:00"}]
    flags = [f for f in compute_flags(ledger([member("A")], returns=returns), date(2005, 3, 26))
             if f.subject_kind == "branch"]
    assert {(f.subject_id, f.rule) for f in flags} == {("B1", "return-late"), ("B2", "return-rejected"),
                                                      ("B2", "return-missing")}
    assert all(f.liaison == ("楼正国" if f.subject_id == "B1" else "") for f in flags)
    assert next(f for f in flags if f.rule == "return-missing").values["weeks"] == [2]  # rejected is not missing
    late = next(f for f in flags if f.rule == "return-late")
    assert (late.title("zh"), late.detail("zh")) == ("周报迟交", "第2周：3月25日才收到，晚于3月22日。")  # not 周报 twice


def test_returns_sent_late_together_are_each_named_late():
    """Weeks 2 and 3 came together on 4/2, both late: one flag names both (the last alone said only week 3)."""
    returns = merged((1,), ("B1",)) + merged((2, 3), ("B1",), day=date(2005, 4, 2))
    [late] = [f for f in compute_flags(ledger([member("A")], returns=returns), date(2005, 4, 3))
              if f.rule == "return-late"]
    assert late.values["weeks"] == [2, 3] and late.since == date(2005, 3, 22)
    assert late.detail("zh") == "第2–3周：各周都晚于截止日才收到，最早一周截止于3月22日，最后一份4月2日才收到。"
    # A week on time after them clears the flag, as before: it is about the returns coming late now.
    on_time = returns + merged((4,), ("B1",))
    assert "return-late" not in rules_for(ledger([member("A")], returns=on_time), date(2005, 4, 6), "B1")


def test_a_return_sent_back_is_flagged_from_that_day_each_weeks_reasons_under_its_week():
    returns = merged((1, 2), ("B1",)) + [
        {"branch_id": "B1", "week": 3, "result": "rejected", "received_at": "2005-03-28 09:00:00", "note": "缺出勤。"},
        {"branch_id": "B1", "week": 4, "result": "rejected", "received_at": "2005-03-29 09:00:00", "note": "学时超出。"}]
    # Week 4 (due 4/5) was sent back on 3/29: flagged on 3/30 already, before its due day.
    [sent_back] = [f for f in compute_flags(ledger([member("A")], returns=returns), date(2005, 3, 30))
                   if f.rule == "return-rejected"]
    assert sent_back.values["weeks"] == [3, 4] and sent_back.since == date(2005, 3, 28)
    assert sent_back.detail("zh") == "第3周：缺出勤。第4周：学时超出。"


def test_cli_flags_as_of_and_json(demo_home, capsys):
    import json

    assert main(["flags", str(demo_home.root), "--as-of", "2005-03-30", "--json"]) == 0
    flags = json.loads(capsys.readouterr().out)
    assert flags and {"subject_kind", "rule", "detail", "liaison", "secretary", "code", "values"} <= set(flags[0])
    missing = next(f for f in flags if f["code"] == "return-missing")  # the code and values beside the words
    assert missing["rule"] == "周报未交" and missing["values"] == {"weeks": [3], "week": 3}
    assert missing["detail"] == "第3周。"  # beside its rule: "周报未交" is said once
    assert main(["flags", str(demo_home.root), "--as-of", "2005-03-30"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  [")]
    assert lines and all(line.count(title) == 1 for line in lines for title in ("周报未交", "周报退回待更正") if title in line)
    assert main(["flags", str(demo_home.root), "--as-of", "三月"]) == 2
    assert "无法识别" in capsys.readouterr().err


@pytest.mark.parametrize("threshold,expected", [(2, True), (3, False)])
def test_a_threshold_from_schemas_changes_the_flag(tmp_path, threshold, expected):
    import shutil

    import yaml

    from branchbook.workbook.schema import load_schemas

    folder = tmp_path / "schemas"
    shutil.copytree(load_schemas.__globals__["resources"].files("branchbook.schemas"), folder,
                    ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    rules = yaml.safe_load((folder / "rules.yaml").read_text(encoding="utf-8"))
    rules["thresholds"]["absences_in_row"] = threshold
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    tables = ledger([member("A")], [session(1), session(2)], [att("S1", "A", "absent"), att("S2", "A", "absent")])
    rules_found = {f.rule for f in compute_flags(tables, date(2005, 3, 20), load_schemas(folder))}
    assert ("absent-in-row" in rules_found) is expected


CJK = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ENGLISH = re.compile("[A-Za-z]+ [A-Za-z]+ [A-Za-z]+")  # a run of three English words: a sentence, not a code


def every_rule_ledger(lang):
    """A ledger on which each rule flags someone on 4/15 or on 4/27, its names and phases in `lang`."""
    names = {"zh": ("一支部", "机关支部", "党员"), "en": ("First branch", "Office branch", "Member ")}[lang]
    branches = [{**BRANCHES[0], "name": names[0]}, {**BRANCHES[1], "name": names[1]}]
    people = [{**member(m, "B2" if m == "O" else "B1", away="yes" if m in ("W", "V") else "no"), "name": names[2] + m}
              for m in ("A", "U", "N", "Q", "O", "W", "V", "X", "R")]
    inspections = [{"member_id": "Q", "date": date(2005, 3, 20), "questions": 6, "result": "fix",
                    "deadline": date(2005, 3, 27)},
                   {"member_id": "X", "date": date(2005, 4, 1), "questions": 7, "result": "pass"}]
    returns = [*merged((1, 2, 3, 4), ("B1",)), *merged((5,), ("B1",), day=date(2005, 4, 14)),
               {"branch_id": "B2", "week": 1, "result": "rejected", "received_at": "2005-03-14 09:00:00",
                "note": "bad"}]
    rate = ["present", "absent", "present", "absent", "present"]
    tables = ledger(people, [session(n) for n in (1, 2, 3, 4, 5)],
                    [att("S1", "A", "absent"), att("S2", "A", "absent"), att("S3", "A", "present", 3), att("S1", "U", None),
                     *(att(f"S{n}", "R", s, 3 if s == "present" else 0) for n, s in enumerate(rate, 1))],
                    selfstudy=[{"member_id": "W", "date": date(2005, 3, 8), "hours": 2},
                               {"member_id": "R", "date": date(2005, 3, 8), "hours": 30}],
                    inspections=inspections, opinions=[{"member_id": "O", "date": date(2005, 3, 10), "people": 2}],
                    returns=returns)
    reports = [{"member_id": "W", "date": date(2005, 3, 8), "channel": "letter"}]  # W wrote once, V never
    plans = [{"kind": "study_plan", "phase_id": "P1", "branch_id": "B1", "due": date(2005, 3, 11)}]  # never received
    return {**tables, "branches": branches, "phases": demo_tables(lang)["phases"], "reports": reports, "plans": plans}


def phase_rule_ledger(lang):
    """Phases 2 and 3 (test_phase_flags.py works them out): on 6/8, with B1's returns in to week 13, Y has no record
    of phase 2, Z's self-analysis is at the step Written; Z has an item not started, the branch one failing its
    re-check, the college committee two overdue; B1's appraisal report never came."""
    names = {"zh": ("一支部", "党员", "笔记不全"), "en": ("First branch", "Member ", "notes missing")}[lang]
    people = [{**member(m), "name": names[1] + m} for m in "YZ"]

    def item(no, level, status, member_id=None, recheck=None, branch="B1"):
        return {"item_no": no, "date": date(2005, 5, 25), "level": level, "branch_id": branch, "member_id": member_id,
                "problem": names[2], "deadline": date(2005, 5, 27), "status": status, "recheck": recheck}

    return {**ledger(people, returns=merged(range(1, 14), ("B1",))),
            "branches": [{**BRANCHES[0], "name": names[0]}], "phases": demo_tables(lang)["phases"],
            "analyses": [{"member_id": "Z", "date": date(2005, 5, 3), "stage": "written"}],
            "rectification": [item("Z1", "member", "planned", "Z"), item("B1", "branch", "done", recheck="fail"),
                              item("C1", "committee", "in_progress", branch=None),
                              item("C2", "committee", "planned", branch=None)],
            "plans": [{"kind": "appraisal_report", "phase_id": "P2", "branch_id": "B1", "due": date(2005, 5, 25)}]}


def every_rule_flags(lang):
    tables = every_rule_ledger(lang)
    return (compute_flags(tables, date(2005, 4, 15)) + compute_flags(tables, date(2005, 4, 27))
            + compute_flags(phase_rule_ledger(lang), date(2005, 6, 8)))


def words_of(rows):
    return [row[key] for row in rows for key in ("rule", "detail", "shortfall")]


def test_every_rule_speaks_english_and_chinese():
    from branchbook.workbook.flags import RULE_TITLES, flag_rows

    english = every_rule_flags("en")
    assert {f.rule for f in english} == set(RULE_TITLES)
    assert {f.values.get("last") is None for f in english if f.rule == "away-silent"} == {True, False}  # both wordings
    variants = {f.variant for f in english}
    assert {"analysis-not-final", "analysis-not-final:written", "plan-missing:appraisal_report",
            "rectification-overdue:planned", "rectification-overdue:failed", "rectification-overdue:more"} <= variants
    assert {f.subject_kind for f in english} == {"member", "branch", "committee"}
    assert not [text for text in words_of(flag_rows(english, "en")) if CJK.search(text)]
    chinese = every_rule_flags("zh")
    assert not [text for text in words_of(flag_rows(chinese, "zh")) if ENGLISH.search(text)]
    overdue = next(f for f in chinese if f.rule == "fix-overdue")
    assert overdue.detail("zh") == "读书笔记限期改进，期限3月27日已过，尚无合格的复查。"
    assert overdue.shortfall("zh") == "笔记检查限期3月27日，已逾期"
    assert "27 Mar" in overdue.detail("en") and "27 Mar" in overdue.shortfall("en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_demo_homes_flags_are_in_its_language(tmp_path, lang):
    from branchbook.demo import demo_home
    from branchbook.workbook.flags import flag_rows
    from branchbook.workbook.master import read_master

    home = demo_home(tmp_path / "home", lang)
    tables = read_master(home.master)  # weeks 1-2 merged: on 3/23 members are measured, on 3/30 week 3 is missing
    flags = compute_flags(tables, date(2005, 3, 23)) + compute_flags(tables, date(2005, 3, 30))
    texts = words_of(flag_rows(flags, home.lang))
    assert len({f.rule for f in flags}) >= 3 and all(texts[::3])
    assert not [text for text in texts if (CJK if lang == "en" else ENGLISH).search(text)]
