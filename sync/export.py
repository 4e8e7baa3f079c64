"""Keep master.xlsx the ledger's face: take in what the office edited by hand, then write the
master from the ledger (after a burst of merges, or on demand).

The master is written only when the office's edits in it are in the ledger: an edit that breaks
the schema is refused with its report, and the master is then left alone until it is fixed, so a
hand edit is never overwritten (docs/design.md, "The ledger").
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date

from ..workbook import flag_history, journal
from ..workbook.body_cache import CACHE_ROWS, BodyCache
from ..workbook.body_cache import FOLDER as BODIES_FOLDER
from ..workbook.body_cache import TOKEN as BODIES_TOKEN
from ..workbook.books import (
    EXPORTED_SEQ,
    MASTER_STATE,
    MASTER_WORDS,
    OfficeChanges,
    file_state,
    journal_path,
    master_changed,
    master_words,
    office_changes,
    open_ledger,
    record_master,
    record_written,
    state_folder,
    upgrade_posts,
)
from ..workbook.calendar import has_campaign
from ..workbook.errors import UserError
from ..workbook.flags import Facts, Flag, compute_flags, flag_rows
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.ledger import Ledger, TablesAhead
from ..workbook.office_edits import apply
from ..workbook.reports.dashboard import dashboard_painter
from ..workbook.safe_open import UnreadableFile
from ..workbook.sheetio import paused_gc
from .backup import backup_ledger_now_and_then
from .master_store import MasterBusy, MasterStore
from .writer import writing

log = logging.getLogger("branchbook.sync")

say = Domain("service")
REFUSED = "office_edits_refused"  # meta key: the state of a master whose edits were refused, and why
# The most records the running service keeps between two writes of the master (KeptRecords), some 660 bytes
# each: a 2,400-member college's 152,000 hold 96 MB; a university's 845,000 would hold some 560 MB between
# bursts, beside what the next burst needs, too near the 1 GB the service must stay under: it reads them whole.
KEPT_ROWS = 300_000


@dataclass
class Export:
    written: bool = False
    busy: str | None = None
    refused: list[str] = field(default_factory=list)  # why the office's edits in the master were not taken
    taken: int = 0  # office edits taken into the ledger
    problems: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)  # open, with level, first seen and state
    cleared: list[Flag] = field(default_factory=list)  # last week's flags that are gone this week

    def why_waiting(self, lang: str) -> str | None:
        """Why the master is not written yet (the ledger is up to date all the same), or None."""
        if self.refused:
            return say(lang, "the hand edits in master.xlsx have errors; nothing is taken in and the file is not "
                             "updated until they are fixed: {errors}", errors=say(lang, "; ").join(self.refused[:5]))
        return self.busy


class KeptRecords:
    """The records the running service last wrote the master from, and the token that write left in the ledger
    (BODIES_TOKEN): its next export brings them up to date (Ledger.tables_since) instead of reading every record
    again (docs/design.md, "Writing the master"). They are the ledger as it was at that write, and changed_from
    counts the rows updated or deleted since that same write (both set in one transaction), so they are brought
    up to date rightly for as long as the token is the same, whether exports meanwhile were refused or found
    the master busy. Any other writer of the master (a merge, a rebuild, a restore, an import, the macros) sets
    another token: they are then dropped, and the ledger read whole."""

    def __init__(self, budget: int | None = None):
        self.budget = KEPT_ROWS if budget is None else budget
        self.token: str | None = None
        self.records: TablesAhead | None = None

    def ahead(self, ledger: Ledger) -> TablesAhead | None:
        """The kept records, if the master was last written from them; to bring up to date. tables_since takes
        the lists it is given: it gets copies of them (references only), so that an export that does not write
        leaves the kept records as they were. The records themselves are never changed by an export."""
        if self.records is None or ledger.get_meta(BODIES_TOKEN) != self.token:
            self.drop()
            return None
        return TablesAhead({key: list(records) for key, records in self.records.tables.items()}, self.records.ids)

    def keep(self, token: str | None, tables: dict[str, list[dict]], ids: dict[str, list[int]],
             tracked: set[str]) -> None:
        """The master was just written from `tables` and the ledger given `token`. A sheet that triggers do not
        follow (flags, whose records here are the flags just raised, not as the ledger reads them) is read whole
        by tables_since: nothing of it is kept. Nothing is kept above the budget, nor without a token (the body
        cache could not be kept): None is what every such write leaves, ours or another writer's."""
        self.drop()
        if token is None or sum(len(ids[key]) for key in tracked if key in ids) > self.budget:
            return
        self.token = token
        self.records = TablesAhead({key: tables[key] if key in tracked else [] for key in ids},
                                   {key: ids[key] if key in tracked else [] for key in ids})

    def drop(self) -> None:
        self.token, self.records = None, None


def take_office_edits(home: Home, ledger: Ledger, result: Export | None = None) -> Export:
    """If the office changed master.xlsx, take its edits into the ledger (or refuse them, with the report)."""
    result = result or Export()
    if not master_changed(home, ledger):
        return result
    refused = json.loads(ledger.get_meta(REFUSED) or "null")
    state = file_state(home.master)
    if refused and state and refused.get("sha256") == state["sha256"]:
        result.refused = refused["messages"]  # the same bytes as last time: the same answer, without reading
        return result
    try:
        changes: OfficeChanges = office_changes(home, ledger, home.lang)
    except UnreadableFile as error:
        # A damaged master holds no edit to keep: it is written anew (its bytes go to backups/ first).
        log.warning(say(home.lang, "master.xlsx cannot be read ({why}): it is written anew from the ledger",
                        why=error.message(home.lang)))
        return result
    if changes.refused:
        messages = [f.message(home.lang) for f in changes.report.errors]
        with ledger.transaction():
            ledger.set_meta(REFUSED, json.dumps({"sha256": state["sha256"], "messages": messages}, ensure_ascii=False))
        log.warning(say(home.lang, "the hand edits in master.xlsx have {count} errors: nothing is taken in and the file "
                                   "is not updated", count=len(messages)))
        result.refused = messages
        return result
    with ledger.transaction():
        result.problems = [say(home.lang, "{sheet} {key}: replaced by a return after the master was written; the hand "
                                          "edit was not taken.", sheet=ledger.schemas.sheet(edit.sheet).name(home.lang),
                               key=" / ".join(map(str, edit.identity))) for edit in apply(ledger, changes.edits)]
        if changes.edits:
            ledger.journal("office", {"edits": [e.to_json() for e in changes.edits], "problems": result.problems},
                           who=changes.who)
        ledger.set_meta(REFUSED, None)
        record_master(home, ledger)
    journal.mirror(ledger, journal_path(home))
    result.taken = len(changes.edits)
    if changes.edits:
        log.info(say(home.lang, "took in {count} hand edits from the master ({who})", count=len(changes.edits),
                     who=changes.who))
    return result


def needs_export(home: Home, ledger: Ledger) -> bool:
    """The ledger moved on, the master is gone or edited, or it is in words of an earlier version (books.master_words)."""
    return int(ledger.get_meta(EXPORTED_SEQ) or 0) < ledger.last_seq() or not home.master.exists() \
        or master_changed(home, ledger) or ledger.get_meta(MASTER_WORDS) != master_words(ledger.schemas)


def export_master(home: Home, ledger: Ledger, as_of: date | None = None, ahead: TablesAhead | None = None,
                  kept: KeptRecords | None = None) -> Export:
    """Write master.xlsx from the ledger, with the flags and the dashboard as of HOME's date. `ahead`: the
    records read before the batch was committed (while its returns were read), brought up to date here.
    `kept`: the records the master was last written from (the running service's), used likewise when still
    valid, and set to the records of this write."""
    # Without cyclic collections meanwhile: a 2,400-member college's records are some 140,000 dicts, and the
    # collections they set off took a tenth of the export (docs/design.md, "Writing the master").
    with writing(home, "export"), paused_gc():
        result = take_office_edits(home, ledger)
        upgrade_posts(ledger, home.lang)  # an administrative post as 党内职务 again, from an old master's edit or an import
        ids: dict[str, list[int]] = {}
        if ahead is None and kept is not None:
            ahead = kept.ahead(ledger)
        tables = ledger.tables(ids=ids) if ahead is None else ledger.tables_since(ahead, ids)
        day = as_of or home.as_of
        # A new HOME whose phases are not filled in yet (its roster just imported) has no weeks: no flags, no dashboard.
        facts = Facts(tables, day, ledger.schemas) if has_campaign(tables) else None  # indexed once for both
        result.flags, result.cleared = [], []
        if facts:
            raised = compute_flags(tables, day, ledger.schemas, facts)
            result.flags, result.cleared = flag_history.keep(ledger, tables, raised, day, ledger.schemas)
        tables["flags"] = flag_rows(flag_history.by_level([*result.flags, *result.cleared]), home.lang)
        journal.mirror(ledger, journal_path(home))  # a changed week of flags is a journal entry of its own

        def keep_flags() -> None:  # the flags follow the ledger, whether the master is written or not
            with ledger.transaction():
                ledger.replace_all("flags", tables["flags"])

        if result.refused:
            keep_flags()
            return result  # the master waits until the office fixes its edits
        known = json.loads(ledger.get_meta(MASTER_STATE) or "null")
        bodies = body_cache(home, ledger, ids)
        try:
            MasterStore(home).write(tables, painters=(dashboard_painter(day, result.flags, facts, home.campaign),) if facts else (),
                                    unchanged_since=known, bodies=bodies)
        except MasterBusy as busy:
            keep_flags()
            result.busy = str(busy)
            return result
        except BaseException:
            keep_flags()
            raise
        with ledger.transaction():  # one commit (one fsync) for the flags and the master's record
            keep_flags()
            record_written(home, ledger)
            ledger.set_meta(BODIES_TOKEN, token := bodies.commit())
            ledger.forget_changes()
        if kept is not None:
            kept.keep(token, tables, ids, ledger.tracked)
        result.written = True
        backup_ledger_now_and_then(home, ledger)
        return result


def body_cache(home: Home, ledger: Ledger, ids: dict[str, list[int]]) -> BodyCache:
    """The XML of the master's rows that are unchanged since it was last written, for the writer to reuse;
    `ids`: each sheet's `_row`s, as read with the records written."""
    cached = {key: rows for key, rows in ids.items() if len(rows) >= CACHE_ROWS and key in ledger.tracked}
    return BodyCache(state_folder(home) / BODIES_FOLDER, ledger.get_meta(BODIES_TOKEN), cached, ledger.changed_from())


def refused_lines(lang: str, refused: list[str]) -> list[str]:
    """What a command prints of the office's hand edits it could not take in: what to do, then each finding (sheet,
    row, column), one a line; every command that takes the edits in says it so (export, returns, reports, flags)."""
    return [say(lang, "The hand edits in master.xlsx have errors: nothing was taken in and the file was not "
                      "overwritten. Fix these and save:")] + ["  " + line for line in refused]


def _take_edits_or_stop(home: Home, ledger: Ledger) -> None:
    """The office's latest hand edits taken in; a UserError listing them when they have errors, so that nothing is
    made from a ledger the office has changed in the master (a return without a college session she added)."""
    if master_changed(home, ledger):
        with writing(home, "read"):
            refused = take_office_edits(home, ledger).refused
        if refused:
            raise UserError("master-edits-refused", findings="\n".join(refused_lines(home.lang, refused)))


def current_tables(home: Home, keys=None) -> dict[str, list[dict]]:
    """The ledger's records with the office's latest hand edits in them: what reports and returns read."""
    with open_ledger(home) as ledger:
        _take_edits_or_stop(home, ledger)
        return ledger.tables(keys)


def current_flags(home: Home, as_of: date) -> list[Flag]:
    """The open flags as of a day, most pressing first, with level, first seen and state from the weeks kept
    (what is kept is not changed: only writing the master keeps a week's flags)."""
    with open_ledger(home) as ledger:
        _take_edits_or_stop(home, ledger)
        tables = ledger.tables()
        facts = Facts(tables, as_of, ledger.schemas)
        flags = compute_flags(tables, as_of, ledger.schemas, facts)
        opened, _ = flag_history.annotate(ledger, tables, flags, as_of, ledger.schemas)
        return flag_history.by_level(opened)
