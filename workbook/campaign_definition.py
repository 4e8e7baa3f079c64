"""A campaign as data (docs/design.md, "Campaigns"): its name, its phases and its own rules.

The default is the packaged `schemas/campaign.yaml`; a HOME's own `campaign.yaml` (the same keys) replaces it for
that HOME's campaign. The phases seed the master's 阶段 sheet (`phase_rows`): once there, the sheet is the office's
record of dates and targets and wins. The rules are laid over `schemas/rules.yaml` key by key, and a HOME's
`rules:` in branchbook.yaml over them (docs/configuration.md). A wrong key or value is refused at load, naming the
key and the file, as branchbook.yaml's are.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError
from .i18n import Domain
from .settings import SAFE_LOADER, Rules, load_section, merged, packaged_rules, read_config, setting

CAMPAIGN_FILE = "campaign.yaml"
PHASE_ORDINAL = "_phase"  # a threshold so named is a phase's ordinal (rules.yaml: opinions_due_phase, analysis_phase)
say = Domain("workbook")


@dataclass(frozen=True)
class Names:
    zh: str = setting(doc="in Chinese")
    en: str | None = setting(None, "in English; null: as in Chinese")

    def __call__(self, lang: str) -> str:
        return (self.en if lang == "en" else None) or self.zh


@dataclass(frozen=True)
class PhasePlan:
    name: Names = setting(doc="the phase's name, e.g. 思想发动、学习培训")
    weeks: int = setting(doc="how many weeks it lasts; the next phase starts the day after it ends", minimum=1)
    target_hours: float | None = setting(None, "its study-hours target (目标学时); null: none", minimum=0)


@dataclass(frozen=True)
class CampaignDefinition:
    """`Home.campaign` and `Schemas.campaign`."""

    name: Names  # the bulletin's, the dashboard's, the master's and the return's titles
    short_name: Names | None = None  # the letters' subjects; None: the name
    phases: tuple[PhasePlan, ...] = ()
    rules: Mapping[str, Any] = field(default_factory=dict)  # overrides of rules.yaml, as written (checked at load)
    source: str = ""  # the file it was read from, named in messages

    def title(self, lang: str) -> str:
        return self.name(lang)

    def short(self, lang: str) -> str:
        return (self.short_name or self.name)(lang)

    def phase_rows(self, start: date, lang: str) -> list[dict[str, Any]]:
        """The 阶段 sheet's rows for a campaign starting on `start`: P1, P2 … each whole weeks after the other."""
        rows = []
        for number, phase in enumerate(self.phases, start=1):
            end = start + timedelta(days=7 * phase.weeks - 1)
            rows.append({"phase_id": f"P{number}", "name": phase.name(lang), "start": start, "end": end,
                         "target_hours": phase.target_hours})
            start = end + timedelta(days=1)
        return rows

    def renamed(self, name: str) -> CampaignDefinition:
        """The same campaign under another name (next year's, as the office calls it), in every language."""
        return CampaignDefinition(Names(name), None, self.phases, self.rules, self.source)

    def as_yaml(self) -> str:
        """The definition as a HOME's campaign.yaml holds it (written by `branchbook campaign new`)."""
        def names(value: Names | None) -> Any:
            return None if value is None else {"zh": value.zh, "en": value.en} if value.en else value.zh
        data = {"name": names(self.name), "short_name": names(self.short_name),
                "phases": [{"name": names(p.name), "weeks": p.weeks, "target_hours": p.target_hours}
                           for p in self.phases], "rules": dict(self.rules)}
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)

    def checked_rules(self) -> dict[str, Any]:
        """rules.yaml with this campaign's rules laid over it (the base of a HOME's `rules:`)."""
        return merged(packaged_rules(), self.rules)


def phase_notes(definition: CampaignDefinition, phases: list[dict[str, Any]], rules: Rules, lang: str,
                sheet_lang: str | None = None) -> list[str]:
    """Where the 阶段 sheet (its names in `sheet_lang`, HOME's) differs from the campaign's definition, and the rules
    naming a phase by its ordinal that the sheet lacks (they flag nobody: flags.opinions_due, phase_flags), said in
    `lang`. The sheet is the record and counts; this is said, never silently taken (docs/design.md, "Campaigns"):
    after `import` of phases and in `campaign list`."""
    sheet_lang = sheet_lang or lang
    sheet = sorted((p for p in phases if isinstance(p.get("start"), date)), key=lambda p: p["start"])
    notes = []
    if len(sheet) != len(definition.phases):
        notes.append(say(lang, "The phases sheet has {sheet} phases and the campaign's definition ({file}) has "
                               "{defined}: the phases sheet counts, and rules naming a phase by its number count the "
                               "sheet's phases in date order.", sheet=len(sheet), defined=len(definition.phases),
                         file=definition.source))
    for number, (row, plan) in enumerate(zip(sheet, definition.phases), start=1):
        target = None if row.get("target_hours") is None else float(row["target_hours"])
        if row.get("name") != plan.name(sheet_lang) or target != plan.target_hours:
            notes.append(say(lang, "Phase {number}: the phases sheet has {sheet} (target {sheet_target}), the campaign's "
                                   "definition {defined} (target {defined_target}); the phases sheet counts.",
                             number=number, sheet=row.get("name"), defined=plan.name(sheet_lang),
                             sheet_target=_hours(target), defined_target=_hours(plan.target_hours)))
    for key in (item.name for item in fields(rules.thresholds) if item.name.endswith(PHASE_ORDINAL)):
        number = getattr(rules.thresholds, key)
        if number > len(sheet):
            notes.append(say(lang, "The rule thresholds.{key} names phase {number}, which the phases sheet does not "
                                   "have: it flags nobody.", key=key, number=number))
    return notes


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _names(raw: Any) -> Any:
    """A name may be plain text (the same in every language) or {zh: …, en: …}."""
    return {"zh": raw} if isinstance(raw, str) else raw


def load_definition(raw: Any, source: Path | str) -> CampaignDefinition:
    """The campaign from the mapping read from `source`; a wrong key or value is refused naming both."""
    source = str(source)
    if not isinstance(raw, Mapping):
        raise UserError("setting-file", file=source, reason=say.later("it should be a mapping of settings (key: value)"))
    raw = dict(raw)
    phases, rules = raw.pop("phases", None), raw.pop("rules", None) or {}
    if not isinstance(phases, list) or not phases:
        raise UserError("setting-bad", file=source, setting="phases", value=str(phases),
                        expected=say.later("a list of phases, each with its name and weeks"))
    for key in ("name", "short_name"):
        if key in raw:
            raw[key] = _names(raw[key])
    head = load_section(_Head, raw, "", source)
    plans = tuple(load_section(PhasePlan, {**item, "name": _names(item.get("name"))} if isinstance(item, Mapping)
                               else item, f"phases.{number}.", source) for number, item in enumerate(phases, start=1))
    if not isinstance(rules, Mapping):
        raise UserError("setting-bad", file=source, setting="rules", value=str(rules),
                        expected=say.later("a section of settings (key: value)"))
    load_section(Rules, merged(packaged_rules(), rules), "rules.", source)  # refused here, naming campaign.yaml
    return CampaignDefinition(head.name, head.short_name, plans, dict(rules), source)


@dataclass(frozen=True)
class _Head:
    """The keys of campaign.yaml read as settings are (phases and rules are read apart)."""

    name: Names = setting(doc="the campaign's name")
    short_name: Names | None = setting(None, "a shorter name for letters' subjects; null: the name")


@functools.lru_cache(maxsize=1)
def packaged_definition() -> CampaignDefinition:
    """schemas/campaign.yaml, read once (every Home opened without its own campaign.yaml has it)."""
    from importlib import resources

    path = resources.files("branchbook.schemas").joinpath(CAMPAIGN_FILE)
    return load_definition(yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER), "schemas/" + CAMPAIGN_FILE)


def home_definition(root: Path) -> CampaignDefinition:
    """HOME's campaign: its own campaign.yaml, else the packaged one."""
    path = Path(root) / CAMPAIGN_FILE
    return load_definition(read_config(path), path) if path.is_file() else packaged_definition()
