"""Campaign weeks: week 1 starts on the first phase's start date; weeks are seven days."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .errors import UserError


@dataclass(frozen=True)
class Phase:
    phase_id: str
    name: str
    start: date
    end: date
    target_hours: float | None


def has_campaign(tables: dict[str, list[dict[str, Any]]]) -> bool:
    """Whether the phases have dates, so that weeks exist (Campaign.from_records would refuse otherwise)."""
    return any(isinstance(r.get("start"), date) and isinstance(r.get("end"), date) for r in tables.get("phases", []))


@dataclass(frozen=True)
class Campaign:
    phases: tuple[Phase, ...]

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> Campaign:
        phases = tuple(
            sorted(
                (
                    Phase(r["phase_id"], r["name"], r["start"], r["end"], r.get("target_hours"))
                    for r in records
                    if isinstance(r.get("start"), date) and isinstance(r.get("end"), date)
                ),
                key=lambda p: p.start,
            )
        )
        if not phases:
            raise UserError("no-phases")
        return cls(phases)

    @property
    def start(self) -> date:
        return self.phases[0].start

    @property
    def end(self) -> date:
        return self.phases[-1].end

    @property
    def last_week(self) -> int:
        return self.week_of(self.end)

    def week_of(self, day: date) -> int:
        return (day - self.start).days // 7 + 1

    def week_range(self, week: int) -> tuple[date, date]:
        if not 1 <= week <= self.last_week:
            raise UserError("bad-week", week=week, last=self.last_week)
        first = self.start + timedelta(days=7 * (week - 1))
        return first, first + timedelta(days=6)

    def ordinal_on(self, day: date) -> int:
        """The ordinal (1 is the first) of the phase under way on `day`: between two phases, the earlier one; a week
        is of the phase its first day falls in (docs/domain.md, "Phases 2 and 3")."""
        return max((number for number, phase in enumerate(self.phases, start=1) if phase.start <= day), default=1)

    def phase_on(self, day: date) -> Phase | None:
        for phase in self.phases:
            if phase.start <= day <= phase.end:
                return phase
        return None
