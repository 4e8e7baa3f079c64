"""Where each branch's weekly return stands: 未交, 已交, 迟交, 退回待更正, 空表, 更正已收.

From the receipts in the 周报 sheet (every file received, merged or not). A return is due by the
week's end and `return_grace_days`; what counts for "on time" is the first file the branch sent for
the week, so a correction of a return rejected on time is on time too (更正已收). The flags
(flags.py), the dashboard and the bulletin read the same states (docs/domain.md, "Falling behind").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .calendar import Campaign
from .cells import as_day
from .findings import Finding
from .i18n import N_, Domain

say = Domain("flags")
STATE_WORDS = {
    "missing": N_("Not received"),        # 未交
    "on_time": N_("Received"),            # 已交
    "late": N_("Late"),                   # 迟交
    "rejected": N_("Sent back for correction"),  # 退回待更正
    "empty": N_("Empty return"),          # 空表
    "corrected": N_("Correction received"),  # 更正已收
}
ACCEPTED = ("merged", "replaced")  # a file whose rows are (or were) in the ledger
SENT = (*ACCEPTED, "rejected", "superseded")  # files the branch sent for the week (held or duplicate ones aside)


@dataclass(frozen=True)
class ReturnState:
    branch_id: str
    week: int
    state: str  # a key of STATE_WORDS
    due: date
    received: date | None = None  # the first file's day
    reasons: list[str] = field(default_factory=list)  # a rejected return's findings, as the receipt words them

    @property
    def merged(self) -> bool:
        return self.state in ("on_time", "late", "corrected")

    def word(self, lang: str = "zh") -> str:
        return state_word(self.state, lang)


def state_word(state: str, lang: str = "zh") -> str:
    """A return state's word (STATE_WORDS) in the reader's language."""
    return say(lang, STATE_WORDS[state])


def _is_empty(note: str | None) -> bool:
    empty = Finding("empty-return")
    return bool(note) and any(empty.message(lang) in note for lang in ("zh", "en"))


def due_day(campaign: Campaign, week: int, grace_days: int) -> date:
    """The last day a week's return is on time: the week's end and the grace days."""
    return campaign.week_range(week)[1] + timedelta(days=grace_days)


def late_after(campaign: Campaign, week_receipts: list[dict], week: int, grace_days: int) -> date | None:
    """The due day a week's return missed (its first file sent came after it: 迟交), or None when it is on time;
    `week_receipts`: the receipts of that branch's week."""
    days = [as_day(r.get("received_at")) for r in week_receipts if r.get("result") in SENT]
    first = min((day for day in days if day is not None), default=None)
    due = due_day(campaign, week, grace_days)
    return due if first is not None and first > due else None


def return_state(campaign: Campaign, receipts: list[dict], branch_id: str, week: int, grace_days: int,
                 as_of: date) -> ReturnState:
    """The state of one branch's return for one week, from the receipts received by `as_of`."""
    due = due_day(campaign, week, grace_days)
    sent = sorted((r for r in receipts if r.get("branch_id") == branch_id and r.get("week") == week
                   and r.get("result") in SENT and (as_day(r.get("received_at")) or as_of) <= as_of),
                  key=lambda r: str(r.get("received_at") or ""))
    if not sent:
        return ReturnState(branch_id, week, "missing", due)
    first = as_day(sent[0].get("received_at"))
    on_time = first is None or first <= due
    if any(r.get("result") in ACCEPTED for r in sent):
        corrected = sent[0].get("result") == "rejected"
        state = "late" if not on_time else "corrected" if corrected else "on_time"
        return ReturnState(branch_id, week, state, due, first)
    last = sent[-1]
    note = last.get("note")
    return ReturnState(branch_id, week, "empty" if _is_empty(note) else "rejected", due, first,
                       [note] if note else [])


def return_states(campaign: Campaign, receipts: list[dict], branch_id: str, grace_days: int,
                  as_of: date) -> list[ReturnState]:
    """The branch's returns of every week that is due by `as_of`, and of the current week once one came."""
    states = []
    by_week: dict[int, list[dict]] = {}  # the branch's receipts by week: each week reads its own, not all of them
    for receipt in receipts:
        if receipt.get("branch_id") == branch_id:
            by_week.setdefault(receipt.get("week"), []).append(receipt)
    for week in range(1, campaign.last_week + 1):
        start, _ = campaign.week_range(week)
        if start > as_of:
            break
        state = return_state(campaign, by_week.get(week, []), branch_id, week, grace_days, as_of)
        if state.due >= as_of and state.state == "missing":
            break  # not due yet, and nothing came
        states.append(state)
    return states
