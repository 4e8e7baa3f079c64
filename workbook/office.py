"""The office's jobs on HOME: create the master, make the week's returns."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path

from .books import journal_path, open_ledger, record_written, snapshot
from .calendar import Campaign
from .errors import UserError, say
from .home import Home, create_home
from .journal import mirror
from .master import SheetPainter, write_master
from .membership import in_branch
from .offered_sessions import college_sessions, missed_before, missed_by_session
from .return_template import ReturnSpec, return_file_name, write_return
from .seal import home_seal


def init_home(root: Path | str, lang: str = "zh", tables: dict[str, list[dict]] | None = None,
              painters: Iterable[SheetPainter] = (), start: date | None = None) -> Home:
    """Create HOME with its ledger and master, empty or holding `tables` (the demo's college); with `start`, its
    阶段 sheet seeded with the campaign's phases from that day (campaign.yaml: docs/design.md, "Campaigns")."""
    home = create_home(root, lang)
    tables = dict(tables or {})
    if start is not None:
        tables["phases"] = home.campaign.phase_rows(start, lang)
    start_ledger(home, tables, painters, "first records" if tables else "new HOME")
    return home


def start_ledger(home: Home, tables: dict[str, list[dict]], painters: Iterable[SheetPainter] = (),
                 reason: str = "new HOME") -> None:
    """A new ledger in HOME holding `tables`, its first journal entry, its master and its seal: a new HOME's, or a
    new campaign's (sync/campaigns.py), whose returns are sealed from the first (workbook/seal.py)."""
    home_seal(home.root, new_home=True)
    with open_ledger(home) as ledger:
        with ledger.transaction():
            snapshot(ledger, tables, reason)
            write_master(home.master, tables, lang=home.lang, painters=painters, schemas=home.schemas)
            record_written(home, ledger)
        mirror(ledger, journal_path(home))


def default_week(campaign: Campaign, weeks_received: set[int], today: date | None = None) -> int:
    """This week while the campaign runs; otherwise the week after the last one returned."""
    today = today or date.today()
    if campaign.start <= today <= campaign.end:
        return campaign.week_of(today)
    return min(max(weeks_received, default=0) + 1, campaign.last_week)


def make_returns(home: Home, week: int | None = None, branch_ids: list[str] | None = None,
                 tables: dict[str, list[dict]] | None = None, sessions: int | None = None) -> dict[str, Path]:
    """Write each branch's return for the week into outbox/, roster pre-filled (from `tables`, or the ledger);
    `sessions`: the attendance grid's columns at least, for a branch that holds more sessions in a week."""
    schemas, seal = home.schemas, home_seal(home.root)  # the HOME's campaign names the guide's title
    made = {}
    for spec, path in week_returns(home, week, branch_ids, tables):
        spec = replace(spec, sessions=sessions)
        path.parent.mkdir(exist_ok=True)
        made[spec.branch_id] = write_return(path, spec, home.lang, schemas, seal)
    return made


def branch_ids_named(branches: list[dict], wanted: list[str], lang: str) -> list[str]:
    """The branches asked for (`--branch`), each by its ID or its name, as IDs; an unknown one is refused
    with the branches listed, ID and name, to choose from."""
    # As typed at a prompt: b03 or " B03" is B03 (IDs and names compared without case or blanks around them).
    by_id = {str(b["branch_id"]).strip().casefold(): b["branch_id"] for b in branches}
    by_name = {str(b["name"]).strip().casefold(): b["branch_id"] for b in branches if b.get("name")}
    found = []
    for asked in wanted:
        key = asked.strip().casefold()
        if key not in by_id and key not in by_name:
            listed = say(lang, ", ").join(f"{b['branch_id']} {b.get('name') or ''}".strip() for b in branches)
            raise UserError("unknown-branch", branch=asked, branches=listed)
        found.append(by_id.get(key) or by_name[key])
    return found


RETURN_TABLES = ("phases", "branches", "members", "returns", "sessions")  # what a return is made from, with who missed


def week_returns(home: Home, week: int | None = None, branch_ids: list[str] | None = None,
                 tables: dict[str, list[dict]] | None = None) -> list[tuple[ReturnSpec, Path]]:
    """What make_returns writes: each branch's return for the week, and its place in outbox/."""
    schemas = home.schemas  # the HOME's campaign names the guide's title (docs/design.md, "Campaigns")
    missed_codes = schemas.returns.sheet("attendance").codes.codes_where("missed")
    if tables is None:
        with open_ledger(home, schemas) as ledger:
            tables = ledger.tables(RETURN_TABLES)
    if "attendance" in tables:
        missed_at = missed_by_session(tables["attendance"], missed_codes)
    else:  # only the rows of those who missed a session: a few of a university's 800,000
        with open_ledger(home, schemas) as ledger:
            marks = ", ".join("?" * len(missed_codes))
            missed_at = missed_by_session(ledger.rows("attendance", f'WHERE "status" IN ({marks})', sorted(missed_codes),
                                               columns=("session_id", "member_id", "status")), missed_codes)
    campaign = Campaign.from_records(tables["phases"])
    if week is None:
        week = default_week(campaign, {r["week"] for r in tables["returns"] if isinstance(r.get("week"), int)},
                            home.as_of)  # the HOME's day (branchbook.yaml `as_of`), not the computer's
    start, end = campaign.week_range(week)
    branches = tables["branches"]
    if not branches:
        raise UserError("no-branches")
    branch_ids = branch_ids and branch_ids_named(branches, branch_ids, home.lang)
    outbox = home.folder("outbox")
    made = []
    college = college_sessions(tables.get("sessions", []), start, end)  # the office's, offered in every return
    for branch in branches:
        if branch_ids and branch["branch_id"] not in branch_ids:
            continue
        # Who was in the branch some day of the week: not yet joined or gone is left out, a member transferred
        # since stays on the old branch's roster for the weeks before the move (membership.py).
        roster = [m for m in tables["members"] if in_branch(m, branch["branch_id"], start, end)]
        missed = missed_before(tables.get("sessions", []), missed_at, branch["branch_id"],
                               {m["member_id"] for m in roster}, start)
        spec = ReturnSpec(branch["branch_id"], branch["name"], week, start, end, roster, campaign.ordinal_on(start),
                          missed=missed, college=college)
        made.append((spec, outbox / return_file_name(branch["name"], week, home.lang)))
    return made
