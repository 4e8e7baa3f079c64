"""Records dated outside a member's period in the branch (docs/domain.md; workbook/membership.py).

Checked when a return is taken in, against the master's members: a member who joined on 3/25 cannot be
absent on 3/23, and a member who left on 3/24 cannot study on 3/26, in this branch's return.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ..cells import column_letter
from ..findings import Finding
from ..membership import away_on, in_branch
from ..return_reader import ReturnRead


def check_periods(data: ReturnRead, parsed: dict, record_keys: tuple[str, ...], members: dict[str, dict],
                  branch_id: str) -> Iterator[Finding]:
    """`members`: the master's members by ID; record sheets' `date` and the grid's sessions' dates are checked."""
    def outside(member_id: str | None, day: date | None) -> bool:
        member = members.get(member_id)
        return member is not None and isinstance(day, date) and not in_branch(member, branch_id, day, day)

    for key in record_keys:
        read = data.tables.get(key)
        if read is None or "member_id" not in read.columns or "date" not in read.columns:
            continue
        for number, record in parsed.get(key, []):
            if outside(record.get("member_id"), record.get("date")):
                yield Finding("outside-membership", sheet=read.title, row=number,
                              column=column_letter(read.columns["date"]), value=record["date"],
                              params={"member": record["member_id"]})
    session_days = {r.get("session_no"): r.get("date") for _, r in parsed.get("sessions", [])}
    grid = data.grid
    for number, member_id, cells in grid.rows:
        for session, raw in cells.items():
            if raw not in (None, "") and outside(member_id, session_days.get(session)):
                yield Finding("outside-membership", sheet=grid.title, row=number,
                              column=column_letter(grid.session_columns[session]), column_label=session,
                              value=session_days[session], params={"member": member_id})


def check_report_dates(data: ReturnRead, parsed: dict, members: dict[str, dict], week: tuple[date, date]
                       ) -> Iterator[Finding]:
    """A report received (汇报收到) is dated in the return's week, or earlier within the member's time away:
    a letter from 3/15 entered in week 3's return is his week-2 report (docs/domain.md)."""
    read = data.tables.get("reports")
    if read is None or "date" not in read.columns:
        return
    first, last = week
    for number, record in parsed.get("reports", []):
        day, member = record.get("date"), members.get(record.get("member_id"))
        if not isinstance(day, date) or member is None or first <= day <= last:
            continue
        if day > last or not away_on(member, day):
            yield Finding("report-date", sheet=read.title, row=number, column=column_letter(read.columns["date"]),
                          value=day, params={"member": record["member_id"], "start": first.isoformat(),
                                             "end": last.isoformat()})
