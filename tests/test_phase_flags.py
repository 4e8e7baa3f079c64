"""The rules of phases 2 and 3 as a table of scenarios, in the style of test_flag_scenarios.py: each a small ledger,
a day, and the flags a reader of docs/domain.md expects, worked out by hand below; then the dashboard and the
bulletin of those phases against figures counted here from the rows.

Calendar (the demo's phases): phase 2 runs 4/25–5/22, phase 3 5/23–6/19. Week 9 is 5/2–5/8, week 10 5/9–5/15,
week 11 5/16–5/22, week 12 5/23–5/29, week 13 5/30–6/5, week 14 6/6–6/12; a week's return comes the day after its
end (receipt()) and is due two days after it.
Due days (rules.yaml): talks (at least 1 with a 支委) 14 days before phase 2 ends: 5/8; the self-analysis final
7 days before: 5/15; the appraisal by the end: 5/22. Flagged from the day after the due day, once the branch's
returns run through it and none is outstanding.
Every member has what phase 1 asks (40 hours, a notebook check in each phase), so only the new rules speak.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import pytest
from test_flag_scenarios import assert_scenario, found, member, merged, receipt, study, tables

from branchbook.workbook.schema import load_schemas


def D(month, day):
    """A day of 2005, the campaign's year: D(5, 12) is 12 May."""
    return date(2005, month, day)


def baseline(members, weeks, **sheets):
    """A ledger in which phase 1 and the notebook checks are in order for every member: 40 hours studied, a
    passing check on 4/27 (phase 2) and on 5/24 (phase 3); the returns of `weeks` merged for both branches."""
    ids = [m["member_id"] for m in members]
    checks = [{"member_id": i, "date": day, "questions": 8, "result": "pass"} for i in ids for day in (D(4, 27), D(5, 24))]
    opinions = [{"member_id": i, "date": D(3, 10), "people": 3} for i in ids]
    return tables(members, merged(weeks), selfstudy=[study(i, D(3, 10), 40) for i in ids], inspections=checks,
                  opinions=opinions, **sheets)


def step(member_id, day, stage):
    return {"member_id": member_id, "date": day, "stage": stage}


def talk(member_id, day, kind="committee"):
    return {"member_id": member_id, "date": day, "partner": "支委甲", "kind": kind}


def appraised(member_id, day, grade="qualified"):
    return {"member_id": member_id, "date": day, "votes_qualified": 20, "grade": grade}


def done_in_phase_2(*ids):
    """Rows that settle phase 2 for these members: talked with on 5/3, final on 5/12, appraised on 5/20."""
    return {"talks": [talk(i, D(5, 3)) for i in ids], "analyses": [step(i, D(5, 12), "final") for i in ids],
            "appraisals": [appraised(i, D(5, 20)) for i in ids]}


# -- 党性分析材料 ----------------------------------------------------------------------------------------------

def analysis_members():
    """A1 written 4/28, reviewed 5/5, final 5/12: done. A2 reviewed on 5/5: at that step. A3 returned for rework on
    5/10. A4 no row. A5 written on 5/3. A6 final on 5/6, then returned on 5/12: the latest row is the state. A7
    graduated on 5/10. A8 away on training mailed his, final on 5/11; A9 away, nothing (away is no excuse: the
    material is mailed, as his notebook is). A10 joined on 5/16, after the due day: owes nothing of it."""
    people = [member(f"A{n}") for n in range(1, 7)] + [
        member("A7", left=D(5, 10), leave_reason="graduated"), member("A8", away="yes"), member("A9", away="yes"),
        member("A10", joined=D(5, 16))]
    steps = [step("A1", D(4, 28), "written"), step("A1", D(5, 5), "reviewed"), step("A1", D(5, 12), "final"),
             step("A2", D(4, 28), "written"), step("A2", D(5, 5), "reviewed"),
             step("A3", D(4, 28), "written"), step("A3", D(5, 10), "returned"), step("A5", D(5, 3), "written"),
             step("A6", D(5, 6), "final"), step("A6", D(5, 12), "returned"), step("A8", D(5, 11), "final")]
    others = done_in_phase_2(*[m["member_id"] for m in people])
    reports = [{"member_id": m, "date": D(5, 13), "channel": "letter"} for m in ("A8", "A9")]
    return people, {**others, "analyses": steps, "reports": reports}


def analysis_on_the_due_day():
    """5/15 itself: the day is not over, so no flag yet."""
    people, sheets = analysis_members()
    return baseline(people, range(1, 10), **sheets), D(5, 15), {}


def analysis_one_day_after():
    """5/16, week 10's return merged that morning (it runs to 5/15): A2, A3, A4, A5, A6 and A9 are flagged, each
    with the step it is at; A1 and A8 are final; A7 has left; A10 joined after the due day."""
    people, sheets = analysis_members()
    expected = {("A2", "analysis-not-final"): {"step": "reviewed", "step_day": D(5, 5), "due": D(5, 15)},
                ("A3", "analysis-not-final"): {"step": "returned", "step_day": D(5, 10)},
                ("A4", "analysis-not-final"): {"step": None},
                ("A5", "analysis-not-final"): {"step": "written", "step_day": D(5, 3)},
                ("A6", "analysis-not-final"): {"step": "returned", "step_day": D(5, 12)},
                ("A9", "analysis-not-final"): {"step": None}}
    return baseline(people, range(1, 11), **sheets), D(5, 16), expected


def analysis_before_the_return_is_in():
    """5/16 with week 10's return still to come (due 5/17): what is known runs to 5/8, before the due day, so
    nobody is judged yet (A2 may have made his final on 5/14)."""
    people, sheets = analysis_members()
    return baseline(people, range(1, 10), **sheets), D(5, 16), {}


def analysis_made_final_late():
    """A2 made it final on 5/18 (week 11's return): on 5/24 his flag is gone; A4, still without a row, stays."""
    people, sheets = analysis_members()
    sheets["analyses"] = [*sheets["analyses"], step("A2", D(5, 18), "final")]
    expected = {(m, "analysis-not-final"): {} for m in ("A3", "A4", "A5", "A6", "A9")}
    return baseline(people, range(1, 12), **sheets), D(5, 24), expected


def analysis_while_a_return_is_missing():
    """On 5/18 B1's week-10 return (due 5/17) is missing: its members wait, the branch is flagged."""
    people, sheets = analysis_members()
    ledger = baseline(people, range(1, 10), **sheets)
    ledger["returns"] += [receipt("B2", 10)]
    return ledger, D(5, 18), {("B1", "return-missing"): {"weeks": [10]}}


# -- 谈心谈话 ------------------------------------------------------------------------------------------------

def talk_members():
    """T1 talked with a 支委 on 5/3. T2 only with another member (5/4), T3 only with the liaison (5/5): neither is
    a talk with the branch committee. T4 none. T5 graduated on 5/1 without one. T6 away, talked with by phone
    on 5/6 (a talk may be at a distance)."""
    people = [member(f"T{n}") for n in range(1, 5)] + [member("T5", left=D(5, 1), leave_reason="graduated"),
                                                       member("T6", away="yes")]
    ids = [m["member_id"] for m in people]
    sheets = {"talks": [talk("T1", D(5, 3)), talk("T2", D(5, 4), "members"), talk("T3", D(5, 5), "liaison"),
                        talk("T6", D(5, 6))],
              "reports": [{"member_id": "T6", "date": D(5, 6), "channel": "phone"}],
              "analyses": [step(i, D(5, 12), "final") for i in ids], "appraisals": [appraised(i, D(5, 20)) for i in ids]}
    return people, sheets


def talks_on_the_due_day():
    """5/8 itself: no flag."""
    people, sheets = talk_members()
    return baseline(people, range(1, 9), **sheets), D(5, 8), {}


def talks_one_day_after():
    """5/9, week 9's return merged that morning: T2, T3 and T4 have had no talk with a 支委 (0 of 1)."""
    people, sheets = talk_members()
    expected = {(m, "talks-missing"): {"count": 0, "needed": 1, "due": D(5, 8)} for m in ("T2", "T3", "T4")}
    return baseline(people, range(1, 10), **sheets), D(5, 9), expected


# -- 民主评议 ------------------------------------------------------------------------------------------------

def appraisal_members():
    """P1 appraised 合格 on 5/20. P2, a 预备党员, appraised on 5/20 without 等次 (he gets none). P3 not appraised.
    P4 left on 5/20 (transferred out) without one."""
    people = [member("P1"), member("P2", standing="probationary"), member("P3"),
              member("P4", left=D(5, 20), leave_reason="transfer_out")]
    ids = [m["member_id"] for m in people]
    sheets = {**done_in_phase_2(*ids), "appraisals": [appraised("P1", D(5, 20)), appraised("P2", D(5, 20), None)]}
    return people, sheets


def appraisal_at_the_phase_end():
    """5/22, the last day of phase 2: no flag."""
    people, sheets = appraisal_members()
    return baseline(people, range(1, 11), **sheets), D(5, 22), {}


def appraisal_after_the_phase():
    """5/23, week 11's return merged: P3 only. The 预备党员 P2 is not flagged."""
    people, sheets = appraisal_members()
    return baseline(people, range(1, 12), **sheets), D(5, 23), {("P3", "appraisal-missing"): {"due": D(5, 22)}}


# -- 整改 items ----------------------------------------------------------------------------------------------

def item(no, day, status, deadline, level="member", branch="B1", member_id=None, recheck=None):
    return {"item_no": no, "date": day, "level": level, "branch_id": branch, "member_id": member_id,
            "problem": f"问题{no}", "measure": "措施", "owner": "书记", "deadline": deadline, "status": status,
            "recheck": recheck}


def rectification_ledger():
    """Items of branch B1 (R1-R7, R9), of B2 (R10) and of the college committee (C1, C2: 支部编号 blank):
    R1 (M1, by 6/3) in progress 5/25, done 6/2: on time.
    R2 (M2, by 5/27) in progress 5/25, done 6/4: late.
    R3 (M3, by 5/27) planned on 5/25 and nothing since.
    R4 (the branch's, by 6/3) done 6/2, re-check failed 6/4.
    R5 (M5, by 5/27) and R6 (M5, by 5/28), both in progress: two items of one member.
    R7 (M4, who left on 6/1, by 5/27) planned.
    R9 (the branch's, by 5/30) done 5/28, re-check failed 5/30, passed 6/3.
    R10 (B2's member M6, by 5/27) planned: B2's week-13 return is missing.
    C1 (the committee's, by 6/5) in progress. C2 (by 6/8) planned."""
    people = [member(f"M{n}") for n in (1, 2, 3, 5)] + [member("M4", left=D(6, 1), leave_reason="graduated"),
                                                       member("M6", "B2")]
    ids = [m["member_id"] for m in people]
    rows = [item("R1", D(5, 25), "in_progress", D(6, 3), member_id="M1"),
            item("R1", D(6, 2), "done", D(6, 3), member_id="M1"),
            item("R2", D(5, 25), "in_progress", D(5, 27), member_id="M2"),
            item("R2", D(6, 4), "done", D(5, 27), member_id="M2"),
            item("R3", D(5, 25), "planned", D(5, 27), member_id="M3"),
            item("R4", D(5, 25), "in_progress", D(6, 3), "branch"), item("R4", D(6, 2), "done", D(6, 3), "branch"),
            item("R4", D(6, 4), "done", D(6, 3), "branch", recheck="fail"),
            item("R5", D(5, 25), "in_progress", D(5, 27), member_id="M5"),
            item("R6", D(5, 25), "in_progress", D(5, 28), member_id="M5"),
            item("R7", D(5, 25), "planned", D(5, 27), member_id="M4"),
            item("R9", D(5, 25), "in_progress", D(5, 30), "branch"), item("R9", D(5, 28), "done", D(5, 30), "branch"),
            item("R9", D(5, 30), "done", D(5, 30), "branch", recheck="fail"),
            item("R9", D(6, 3), "done", D(5, 30), "branch", recheck="pass"),
            item("R10", D(5, 25), "planned", D(5, 27), branch="B2", member_id="M6"),
            item("C1", D(5, 25), "in_progress", D(6, 5), "committee", None),
            item("C2", D(5, 25), "planned", D(6, 8), "committee", None)]
    ledger = baseline(people, range(1, 13), **done_in_phase_2(*ids), rectification=rows)
    return ledger


def rectification_in_week_13():
    """6/1, weeks 1-12 merged (known to 5/29): R2, R3 (planned), R5+R6 (two items: one flag), R10 and R9's failed
    re-check of 5/30 are not known yet (week 13). R7's member has left. R1, R4 and C1 are not due. R9 was done on
    5/28 before its 5/30 deadline."""
    ledger = rectification_ledger()
    ledger["rectification"] = [r for r in ledger["rectification"] if r["date"] <= D(5, 29)]
    expected = {("M2", "rectification-overdue"): {"items": ["R2"], "status": "in_progress", "deadline": D(5, 27)},
                ("M3", "rectification-overdue"): {"items": ["R3"], "status": "planned"},
                ("M5", "rectification-overdue"): {"items": ["R5", "R6"], "count": 2, "deadline": D(5, 27)},
                ("M6", "rectification-overdue"): {"items": ["R10"]}}
    return ledger, D(6, 1), expected


def rectification_in_week_14():
    """6/8, B1's weeks 1-13 merged, B2's week 13 missing (due 6/7): R2 was done late on 6/4: no longer flagged.
    R4 failed its re-check on 6/4: the branch. R9 passed its re-check on 6/3: closed. C1 (by 6/5) is the
    committee's; C2 is due today. M6 (B2) waits for the missing return, which is B2's flag."""
    ledger = rectification_ledger()
    ledger["returns"] += [receipt("B1", 13)]
    expected = {("M3", "rectification-overdue"): {"items": ["R3"]},
                ("M5", "rectification-overdue"): {"count": 2},
                ("B1", "rectification-overdue"): {"items": ["R4"], "failed": True, "checked": D(6, 4)},
                ("", "rectification-overdue"): {"items": ["C1"], "deadline": D(6, 5)},
                ("B2", "return-missing"): {"weeks": [13]}}
    return ledger, D(6, 8), expected


SCENARIOS = [analysis_on_the_due_day, analysis_one_day_after, analysis_before_the_return_is_in,
             analysis_made_final_late, analysis_while_a_return_is_missing, talks_on_the_due_day, talks_one_day_after,
             appraisal_at_the_phase_end, appraisal_after_the_phase, rectification_in_week_13,
             rectification_in_week_14]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_scenario(scenario):
    assert_scenario(scenario)


def test_talks_min_from_the_rules_asks_for_more_talks():
    """With talks_min 2, T1 (one talk with a 支委) is 1 short on 5/9; T6 too; T2, T3, T4 are 2 short."""
    schemas = load_schemas()
    schemas = replace(schemas, rules=replace(schemas.rules, thresholds=replace(schemas.rules.thresholds, talks_min=2)))
    ledger, as_of, _ = talks_one_day_after()
    flags = found(ledger, as_of, schemas)
    assert {key: flag.values["missing"] for key, flag in flags.items()} == {
        ("T1", "talks-missing"): 1, ("T6", "talks-missing"): 1, ("T2", "talks-missing"): 2,
        ("T3", "talks-missing"): 2, ("T4", "talks-missing"): 2}


# -- the dashboard and the bulletin of phases 2 and 3, through a HOME's export -----------------------------------

PHASE3_DAY = D(6, 8)  # week 14: week 13 (5/30-6/5) is the report week
LATE_BRANCH = "B05"  # its returns stop after week 11: its items are not judged, its members' steps stop there


def _week_of(day):
    return (day - D(3, 7)).days // 7 + 1


def campaign_tables():
    """The demo college with weeks 3-13 returned by every branch (B05 to week 11 only), and rows of phases 2 and 3
    dated in those weeks, each stamped with its week's return as a merge stamps it. Member by member (i, in roster
    order): the self-analysis none (i % 4 == 0), written (1), final on 5/12 (2), returned and final on 5/20 (3);
    a talk with a 支委 when i % 3 == 1, with another member when i % 3 == 2; appraised on 5/20 unless i % 5 == 0
    (a 预备党员 without 等次). Each branch but B05: a member's item in progress (by 5/27), the branch's item done on
    6/1 (by 6/3) and one done on 5/28 whose re-check failed on 6/1; a committee item in progress (by 6/5); a
    satisfaction survey per branch."""
    from branchbook.demo.college import demo_tables
    from branchbook.workbook import ids
    from branchbook.workbook.provenance import stamp
    from branchbook.workbook.return_template import return_file_name

    tables = demo_tables("zh")
    schemas = load_schemas()
    names = {b["branch_id"]: b["name"] for b in tables["branches"]}
    last = {bid: 11 if bid == LATE_BRANCH else 13 for bid in names}
    week2 = {r["branch_id"]: r for r in tables["returns"] if r["week"] == 2}
    for bid, receipt_row in week2.items():
        for week in range(3, last[bid] + 1):
            day = D(3, 7) + timedelta(days=7 * week)  # the Monday after the week
            return_id = ids.return_id(bid, week)
            tables["returns"].append({**receipt_row, "receipt_id": f"test-{return_id}", "return_id": return_id,
                                      "week": week, "file_name": return_file_name(names[bid], week, "zh"),
                                      "filled_at": f"{day} 08:00:00", "received_at": f"{day} 09:00:00",
                                      "merged_at": f"{day} 09:05:00"})
    rows: dict[str, list[dict]] = {"analyses": [], "talks": [], "appraisals": [], "rectification": [], "publicity": []}
    for i, m in enumerate(tables["members"]):
        mid = m["member_id"]
        steps = {1: [(D(4, 28), "written")], 2: [(D(4, 28), "written"), (D(5, 12), "final")],
                 3: [(D(4, 28), "written"), (D(5, 10), "returned"), (D(5, 20), "final")]}.get(i % 4, [])
        rows["analyses"] += [step(mid, day, stage) for day, stage in steps]
        if i % 3:
            rows["talks"].append(talk(mid, D(5, 3) if i % 3 == 1 else D(5, 4), "committee" if i % 3 == 1 else "members"))
        if i % 5:
            grade = None if m["standing"] == "probationary" else ("excellent" if i % 7 == 0 else "qualified")
            rows["appraisals"].append(appraised(mid, D(5, 20), grade))
    for bid in names:
        if bid == LATE_BRANCH:
            continue
        first = next(m["member_id"] for m in tables["members"] if m["branch_id"] == bid)
        rows["rectification"] += [
            item(f"{bid}-1", D(5, 25), "in_progress", D(5, 27), branch=bid, member_id=first),
            item(f"{bid}-2", D(5, 25), "in_progress", D(6, 3), "branch", bid),
            item(f"{bid}-2", D(6, 1), "done", D(6, 3), "branch", bid),
            item(f"{bid}-3", D(5, 25), "in_progress", D(6, 3), "branch", bid),
            item(f"{bid}-3", D(5, 28), "done", D(6, 3), "branch", bid),
            item(f"{bid}-3", D(6, 1), "done", D(6, 3), "branch", bid, recheck="fail")]
        rows["publicity"].append({"branch_id": bid, "date": D(6, 2), "kind": "satisfaction", "how": "问卷",
                                  "respondents": 20, "satisfied": 15, "fairly": 4, "dissatisfied": 1})
    rows["rectification"].append(item("C-1", D(5, 25), "in_progress", D(6, 5), "committee", None))
    branch_of = {m["member_id"]: m["branch_id"] for m in tables["members"]}
    for key, found_rows in rows.items():
        sheet = schemas.sheet(key)
        for row in found_rows:
            bid = row.get("branch_id") or branch_of.get(row.get("member_id"))
            source = ids.return_id(bid, _week_of(row["date"])) if bid else "college"
            tables[key] = [*tables.get(key, []), stamp(sheet, row, source)]
    return tables


@pytest.fixture(scope="module")
def phase3_home(tmp_path_factory):
    """A HOME made from campaign_tables() and exported by `branchbook export` as of 6/8."""
    import yaml

    from branchbook.cli import main
    from branchbook.workbook.home import CONFIG_NAME, Home
    from branchbook.workbook.office import init_home

    root = tmp_path_factory.mktemp("phase3") / "home"
    home = init_home(root, "zh", campaign_tables())
    config = {**home.config, "as_of": PHASE3_DAY.isoformat()}
    (root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert main(["export", str(root)]) == 0
    return Home.open(root)


def _latest(rows):
    return max(rows, key=lambda r: r["date"]) if rows else None


def _expected_figures(tables, as_of):
    """Per branch, from the rows alone: n/N of the members final, talked with a 支委, appraised; items done of
    all; items overdue (a failed latest re-check, or past the deadline and not done while every return due is in:
    B05's are not)."""
    complete = {bid for bid in {b["branch_id"] for b in tables["branches"]}
                if {r["week"] for r in tables["returns"] if r["branch_id"] == bid} >= set(range(1, 14))}
    figures = {}
    for branch in tables["branches"]:
        bid = branch["branch_id"]
        ids = [m["member_id"] for m in tables["members"] if m["branch_id"] == bid
               and (m["joined"] is None or m["joined"] <= as_of)]
        final = sum((_latest([r for r in tables["analyses"] if r["member_id"] == i]) or {}).get("stage") == "final"
                    for i in ids)
        talked = sum(any(r["member_id"] == i and r["kind"] == "committee" for r in tables["talks"]) for i in ids)
        appraised_ = sum(any(r["member_id"] == i for r in tables["appraisals"]) for i in ids)
        items = {}
        for r in tables["rectification"]:
            if r["branch_id"] == bid:
                items.setdefault(r["item_no"], []).append(r)
        done = overdue = 0
        for found_rows in items.values():
            now = _latest(found_rows)
            checks = [r for r in found_rows if r.get("recheck")]
            failed = bool(checks) and _latest(checks)["recheck"] == "fail"
            done += now["status"] == "done" and not failed
            overdue += failed or (now["status"] != "done" and now["deadline"] < as_of and bid in complete)
        figures[branch["name"]] = (f"{final}/{len(ids)}", f"{talked}/{len(ids)}", f"{appraised_}/{len(ids)}",
                                   f"{done}/{len(items)}", overdue)
    return figures


def test_the_dashboard_shows_the_figures_of_phases_2_and_3_from_the_rows(phase3_home, fresh_demo):
    from openpyxl import load_workbook

    from branchbook.workbook.master import read_master

    tables = read_master(phase3_home.master)
    sheet = load_workbook(phase3_home.master)["进度看板"]
    header = [cell.value for cell in sheet[3]]
    phase_columns = ["党性分析定稿", "谈心谈话", "民主评议", "整改完成", "整改逾期"]
    assert header[-5:] == phase_columns
    at = [header.index(name) for name in phase_columns]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=4, max_row=3 + len(tables["branches"]), values_only=True)}
    expected = _expected_figures(tables, PHASE3_DAY)
    assert {name: tuple(row[i] for i in at) for name, row in rows.items()} == expected
    late = next(b["name"] for b in tables["branches"] if b["branch_id"] == LATE_BRANCH)
    assert expected[late][3:] == ("0/0", 0) and sum(f[4] for f in expected.values()) == 2 * (len(expected) - 1)
    # A phase-1 dashboard (the demo's, as of 3/30) keeps its width: none of these columns.
    assert not set(phase_columns) & {c.value for c in load_workbook(fresh_demo.master)["进度看板"][3]}


def test_the_flags_sheet_names_the_college_committee_for_its_own_item(phase3_home):
    from openpyxl import load_workbook

    from branchbook.workbook.master import read_master

    sheet = load_workbook(phase3_home.master)["进度提醒"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    [committee] = [r for r in rows if r["对象"] == "学院党委"]
    assert (committee["编号"], committee["姓名/名称"], committee["所在支部"], committee["提醒事项"]) == \
           ("学院党委", "学院党委", "学院党委", "整改事项逾期")
    assert committee["具体情况"] == "整改事项 C-1（问题C-1）完成时限6月5日已过，仍在整改中。"
    # Every other branch has its member's item overdue and its failed re-check; B05's wait for its returns.
    overdue = {(r["对象"], r["编号"]) for r in rows if r["提醒事项"] == "整改事项逾期"}
    branches = {r["branch_id"] for r in read_master(phase3_home.master)["branches"]} - {LATE_BRANCH}
    firsts = {r["member_id"] for r in read_master(phase3_home.master)["rectification"] if r["level"] == "member"}
    assert overdue == {("学院党委", "学院党委"), *(("党支部", b) for b in branches), *(("党员", m) for m in firsts)}


def test_the_bulletin_counts_phases_2_and_3_and_names_no_member(phase3_home):
    from branchbook.workbook.master import read_master
    from branchbook.workbook.reports.bulletin import build_bulletin

    tables = read_master(phase3_home.master)
    bulletin = build_bulletin(tables, PHASE3_DAY)
    members = [m for m in tables["members"] if m["joined"] is None or m["joined"] <= PHASE3_DAY]
    ids = {m["member_id"] for m in members}
    latest_step = {i: _latest([r for r in tables["analyses"] if r["member_id"] == i]) for i in ids}
    final = sum(s is not None and s["stage"] == "final" for s in latest_step.values())
    steps = Counter(s["stage"] if s else None for s in latest_step.values() if not (s and s["stage"] == "final"))
    talked = len({r["member_id"] for r in tables["talks"] if r["kind"] == "committee"} & ids)
    grades = Counter(r["grade"] for r in tables["appraisals"] if r["member_id"] in ids)
    figures = _expected_figures(tables, PHASE3_DAY)
    items = sum(int(f[3].split("/")[1]) for f in figures.values()) + 1  # and the committee's own
    done = sum(int(f[3].split("/")[0]) for f in figures.values())
    overdue = sum(f[4] for f in figures.values()) + 1
    failed = len(figures) - 1  # each branch but B05 has one failing its re-check
    n = len(members)
    assert (f"党性分析材料：{n} 名党员中已定稿 {final} 人，其余：撰写完成 {steps['written']}、尚无记录 {steps[None]}。"
            in bulletin.headline), bulletin.headline
    assert f"谈心谈话（支委与党员）：{n} 名党员中已谈 {talked} 人（每人至少 1 次）。" in bulletin.headline
    assert (f"民主评议：{n} 名党员中已评议 {sum(grades.values())} 人（优秀 {grades['excellent']}、合格 {grades['qualified']}、"
            f"不定等次（预备党员） {grades[None]}）。" in bulletin.headline)
    assert f"整改事项 {items} 项，已完成 {done} 项，逾期 {overdue} 项（其中复查不合格 {failed} 项）。" in bulletin.headline
    surveys = len(tables["publicity"])
    assert f"满意度测评 {surveys} 次，参评 {20 * surveys} 人：满意 75%，基本满意 20%，不满意 5%。" in bulletin.headline
    assert any("涉及" in line and "及学院党委" in line for line in bulletin.headline)
    text = bulletin.text()
    assert not [m["name"] for m in tables["members"] if m["name"] in text]
    english = build_bulletin(tables, PHASE3_DAY, lang="en").headline
    assert f"Rectification items: {items}, {done} done; {overdue} overdue ({failed} of them failed the re-check)." in english
    assert any(line.startswith("Self-analyses: final for") for line in english)
    assert not [line for line in english if re.search("[\u4e00-\u9fff]", line)]  # the phase lines name no branch


def test_the_roll_up_counts_the_committees_flag_for_the_college_and_sums_the_phase_figures(phase3_home, tmp_path):
    """The university reads the college's master: the committee's flag counts for the college but for none of its
    branches, and the college's row on the university dashboard carries its phase-2/3 figures added up."""
    from openpyxl import load_workbook

    from branchbook.workbook.master import read_master
    from branchbook.workbook.reports.university import write_university
    from branchbook.workbook.rollup import read_college, rollup

    college = read_college(phase3_home.master)
    flags = read_master(phase3_home.master)["flags"]
    open_flags = [f for f in flags if f["state"] != "已消除"]
    assert sum(college.levels.values()) == len(open_flags)
    assert sum(sum(levels.values()) for levels in college.branch_levels.values()) == len(open_flags) - 1
    result = rollup([phase3_home.root])
    write_university(tmp_path / "u.xlsx", result)
    sheet = load_workbook(tmp_path / "u.xlsx")["进度看板"]
    header, row = [c.value for c in sheet[3]], [c.value for c in sheet[4]]
    figures = _expected_figures(read_master(phase3_home.master), PHASE3_DAY)

    def total(index):
        parts = [f[index].split("/") for f in figures.values()]
        return f"{sum(int(p[0]) for p in parts)}/{sum(int(p[1]) for p in parts)}"

    items = total(3).split("/")
    assert dict(zip(header[-5:], row[-5:])) == {
        "党性分析定稿": total(0), "谈心谈话": total(1), "民主评议": total(2),
        "整改完成": f"{items[0]}/{int(items[1]) + 1}", "整改逾期": sum(f[4] for f in figures.values()) + 1}
