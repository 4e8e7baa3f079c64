"""The office's jobs on HOME: create the master, make the week's returns."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from .books import journal_path, open_ledger, record_written, snapshot
from .calendar import Campaign
from .errors import UserError
from .home import Home, create_home
from .journal import mirror
from .master import SheetPainter, write_master
from .membership import in_branch
from .return_template import ReturnSpec, return_file_name, write_return
from .schema import load_schemas
from .seal import home_seal


def init_home(root: Path | str, lang: str = "zh", tables: dict[str, list[dict]] | None = None,
              painters: Iterable[SheetPainter] = ()) -> Home:
    """Create HOME with its ledger and master, empty or holding `tables` (the demo's college)."""
    home = create_home(root, lang)
    home_seal(home.root, new_home=True)  # returns are sealed from the first (workbook/seal.py)
    tables = tables or {}
    with open_ledger(home) as ledger:
        with ledger.transaction():
            snapshot(ledger, tables, "first records" if tables else "new HOME")
            write_master(home.master, tables, lang=lang, painters=painters)
            record_written(home, ledger)
        mirror(ledger, journal_path(home))
    return home


def default_week(campaign: Campaign, weeks_received: set[int], today: date | None = None) -> int:
    """This week while the campaign runs; otherwise the week after the last one returned."""
    today = today or date.today()
    if campaign.start <= today <= campaign.end:
        return campaign.week_of(today)
    return min(max(weeks_received, default=0) + 1, campaign.last_week)


def make_returns(home: Home, week: int | None = None, branch_ids: list[str] | None = None,
                 tables: dict[str, list[dict]] | None = None) -> dict[str, Path]:
    """Write each branch's return for the week into outbox/, roster pre-filled (from `tables`, or the ledger)."""
    schemas = load_schemas()
    if tables is None:
        with open_ledger(home, schemas) as ledger:
            tables = ledger.tables(("phases", "branches", "members", "returns"))
    campaign = Campaign.from_records(tables["phases"])
    if week is None:
        week = default_week(campaign, {r["week"] for r in tables["returns"] if isinstance(r.get("week"), int)})
    start, end = campaign.week_range(week)
    branches = tables["branches"]
    if not branches:
        raise UserError("no-branches")
    known = {b["branch_id"] for b in branches}
    for wanted in branch_ids or ():
        if wanted not in known:
            raise UserError("unknown-branch", branch=wanted)
    outbox = home.folder("outbox")
    outbox.mkdir(exist_ok=True)
    seal = home_seal(home.root)
    made = {}
    for branch in branches:
        if branch_ids and branch["branch_id"] not in branch_ids:
            continue
        # Who was in the branch some day of the week: not yet joined or gone is left out, a member transferred
        # since stays on the old branch's roster for the weeks before the move (membership.py).
        roster = [m for m in tables["members"] if in_branch(m, branch["branch_id"], start, end)]
        spec = ReturnSpec(branch["branch_id"], branch["name"], week, start, end, roster, campaign.ordinal_on(start))
        path = outbox / return_file_name(branch["name"], week, home.lang)
        made[branch["branch_id"]] = write_return(path, spec, home.lang, schemas, seal)
    return made
