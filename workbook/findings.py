"""Findings: what validation says about one place in a workbook, worded in the reader's language.

Each finding has a stable `code`; its message is built from the code's template and the
finding's values, prefixed with where it is (sheet, row, column) so a secretary can go there.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from .i18n import N_, Domain

ERROR, WARNING = "error", "warning"
say = Domain("checks")
TEMPLATES: dict[str, tuple[str, str]] = {  # code -> (severity, message: English; the Chinese is in the checks catalog)
    "required": (ERROR, N_("must not be blank.")),
    "type": (ERROR, N_("'{value}' is not {expected}.")),
    "enum": (ERROR, N_("'{value}' is not one of {choices}.")),
    "range": (ERROR, N_("{value} is outside {minimum} to {maximum}.")),
    "date-outside-week": (ERROR, N_("date {value} is not in the week ({start} to {end}).")),
    "unknown-member": (ERROR, N_("member ID '{value}' is not on this branch's roster.")),
    "duplicate-key": (ERROR, N_("duplicates row {other_row} ({key}).")),
    "foreign-key": (ERROR, N_("'{value}' is not found in {target}.")),
    "roster-changed": (ERROR, N_("the roster differs from the one sent out; fill in the original template.")),
    "template-version": (ERROR, N_("template version {found} is newer than the supported {supported}.")),
    "template-old": (WARNING, N_("old template version {found} (current {supported}); read as far as possible.")),
    "meta-missing": (ERROR, N_("the return's hidden metadata sheet is missing: branch and week are unknown.")),
    "missing-sheet": (ERROR, N_("sheet '{expected}' is missing.")),
    "extra-sheet": (WARNING, N_("extra sheet: its content is not read.")),
    "header-moved": (WARNING, N_("the header should be on row 1; it is on row {row} and was read there.")),
    "header-renamed": (ERROR, N_("header '{value}' should be '{expected}'.")),
    "header-translated": (WARNING, N_("the headers are in {found_lang}; read as such.")),
    "missing-column": (ERROR, N_("column '{expected}' is missing.")),
    "unknown-column": (WARNING, N_("unknown column '{value}' is not read.")),
    "unknown-session": (ERROR, N_("attendance is filled under {session} but Sessions has no {session}.")),
    "status-blank": (WARNING, N_("attendance for {session} is blank.")),
    "hours-total": (ERROR, N_("{detail}")),
    "not-a-return": (ERROR, N_("this is not a branch return; use the template the college sent.")),
    "identity-unknown": (ERROR, N_("cannot tell which branch and week this return is for: {reason}.")),
    "identity-guessed": (WARNING, N_("metadata missing; taken as {branch}, week {week} from the file name and roster.")),
    "other-branch": (ERROR, N_("member '{value}' belongs to {owner}, not to this branch.")),
    "formula-uncalculated": (ERROR, N_("a formula with no calculated value; open and save the file in Excel, or type the value.")),
    "unknown-branch": (ERROR, N_("no branch '{value}' in the master.")),
    "text-cleaned": (WARNING, N_("the text held control characters or characters a workbook cannot store; they were "
                                 "removed (a line break from Word is kept as a line break).")),
    "text-too-long": (ERROR, N_("the text is {length} characters long; a cell holds at most {limit}. Shorten it.")),
    "meta-forged": (ERROR, N_("the return's hidden metadata (branch, week, template, roster) was changed after the "
                              "college sent it. Fill in the template the college sent, without editing it.")),
    "meta-foreign": (ERROR, N_("this template was made by another BranchBook office ({home}), not by this college's. "
                               "Use the template this college sent.")),
    "meta-unsealed": (ERROR, N_("the return's hidden metadata carries no seal, so its branch and week cannot be "
                                "trusted. Use the template the college sent this week.")),
    "meta-unsealed-accepted": (WARNING, N_("the template was made before returns were sealed; its branch and week "
                                           "are taken as written.")),
}

_TYPE_NAMES = {"date": N_("a date such as 2005-03-28"), "number": N_("a number"), "integer": N_("a whole number")}


@dataclass
class Finding:
    code: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None  # column letter
    column_label: str | None = None
    value: Any = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return TEMPLATES[self.code][0]

    @property
    def cell(self) -> str | None:
        return f"{self.column}{self.row}" if self.column and self.row else None

    def _values(self, lang: str) -> dict[str, Any]:
        values = {"value": _show(self.value), **self.params}
        expected = self.params.get("type")
        if expected in _TYPE_NAMES:
            values["expected"] = say(lang, _TYPE_NAMES[expected])
        return values

    def where(self, lang: str) -> str:
        parts = []
        if self.sheet:
            parts.append(say(lang, "sheet {sheet}", sheet=self.sheet))
        if self.row:
            parts.append(say(lang, "row {row}", row=self.row))
        if self.column_label:
            parts.append(say(lang, "column {column}", column=self.column_label))
        return " ".join(parts)

    def message(self, lang: str = "zh") -> str:
        text = say(lang, TEMPLATES[self.code][1], **self._values(lang))
        where = self.where(lang)
        return say(lang, "{where}: {text}", where=where, text=text) if where else text

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        data = asdict(self)
        data.pop("params")
        data["value"] = _show(self.value) if self.value is not None else None
        return {**data, "cell": self.cell, "severity": self.severity, "message": self.message(lang)}


def _show(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


@dataclass
class Report:
    kind: str  # master | return
    findings: list[Finding]
    stats: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_json(self, lang: str = "zh") -> str:
        return json.dumps([f.to_dict(lang) for f in self.findings], ensure_ascii=False, indent=1, default=str)

    def summary(self, lang: str = "zh") -> str:
        errors, warnings = len(self.errors), len(self.findings) - len(self.errors)
        if not self.findings:
            return say(lang, "No problems found.")
        return say(lang, "{errors} errors, {warnings} warnings.", errors=errors, warnings=warnings)
