"""Findings: what validation says about one place in a workbook, worded in the reader's language.

Each finding has a stable `code`; its message is built from the code's template and the
finding's values, prefixed with where it is (sheet, row, column) so a secretary can go there.
A report lists them as a secretary fixes them: by sheet (in the workbook's order), row and column,
and one finding for a run of rows with the same problem in the same column (an empty column), or of
columns on one row (a member left blank in every session).
"""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from xlsxwriter.utility import xl_cell_to_rowcol

from .i18n import N_, Domain, Words

ERROR, WARNING = "error", "warning"
say = Domain("checks")
TEMPLATES: dict[str, tuple[str, str]] = {  # code -> (severity, message: English; the Chinese is in the checks catalog)
    "required": (ERROR, N_("must not be blank: fill it in.")),
    "type": (ERROR, N_("'{value}' is not {expected}: write it that way.")),
    "enum": (ERROR, N_("'{value}' is not one of {choices}: choose one of them from the list.")),
    "range": (ERROR, N_("{value} is outside {minimum} to {maximum}: write a number from {minimum} to {maximum}.")),
    "date-outside-week": (ERROR, N_("date {value} is not in the week ({start} to {end}): write a day of this week; a "
                                    "record of another week goes in that week's return.")),
    "date-in-future": (WARNING, N_("date {value} is after today ({today}): a record is entered once it has "
                                   "happened; check the date.")),
    "year-added": (WARNING, N_("'{value}' has no year: read as {day}, the week's. Nothing to change; a full date "
                               "({day}) says it for certain.")),
    "unknown-member": (ERROR, N_("member ID '{value}' is not on this branch's roster: choose an ID from the Roster "
                                 "sheet, such as {example}.")),
    "name-for-id": (ERROR, N_("'{value}' is a name, and the column wants the member ID: write {suggestion} instead.")),
    "member-id-close": (ERROR, N_("member ID '{value}' is not on this branch's roster: write {suggestion} ({name}) if "
                                  "that is who is meant.")),
    "duplicate-key": (ERROR, N_("duplicates row {other_row} ({key}): delete one of the two rows, or correct it.")),
    "foreign-key": (ERROR, N_("'{value}' is not found in {target}: correct it, or add it to {target} first.")),
    "foreign-key-name": (ERROR, N_("'{value}' is a name in {target}: type its ID there, {suggestion}.")),
    "roster-changed": (ERROR, N_("the roster differs from the one sent out; fill in the original template.")),
    "template-version": (ERROR, N_("template version {found} is newer than the supported {supported}.")),
    "template-old": (WARNING, N_("old template version {found} (current {supported}); read as far as possible. Next time, fill in the "
                                  "template the college sends.")),
    "meta-missing": (ERROR, N_("the return's hidden metadata sheet is missing: branch and week are unknown.")),
    "missing-sheet": (ERROR, N_("sheet '{expected}' is missing: fill in the template the college sent, which has it.")),
    "extra-sheet": (WARNING, N_("extra sheet: its content is not read; move anything to be reported into the "
                                "template's sheets.")),
    "header-moved": (WARNING, N_("the header should be on row 1; it is on row {row} and was read there. Nothing needs changing.")),
    "header-renamed": (ERROR, N_("header '{value}' should be '{expected}'.")),
    "header-translated": (WARNING, N_("the headers are in {found_lang}; read as such. Nothing needs changing.")),
    "missing-column": (ERROR, N_("column '{expected}' is missing: put it back as in the template.")),
    "unknown-column": (WARNING, N_("unknown column '{value}' is not read; move anything to be reported into the "
                                   "template's columns.")),
    "unknown-session": (ERROR, N_("attendance is filled under {session} but Sessions has no {session}: add session "
                                  "{session} to Sessions, or clear this column.")),
    "session-no-column": (ERROR, N_("the Attendance sheet has no column {session}: this return's sessions go up to "
                                    "S{last}. Number the sessions S1–S{last}; a branch with more sessions in a week asks "
                                    "the office for a return with more columns (branchbook returns --sessions {wanted}) "
                                    "and copies what it has filled in across.")),
    "session-unmarked": (ERROR, N_("{session} is in Sessions but no member's attendance is marked for it: choose "
                                   "{choices} for each member.")),
    "unknown-party-group": (ERROR, N_("no member on the Roster is in party group '{value}': write one of {groups}, "
                                      "or leave it blank for a session of the whole branch.")),
    "makeup-unknown": (ERROR, N_("'{value}' is not a session of this branch to make up: write the session ID as the "
                                 "master lists it (such as {example}), or S1–S{sessions} for a session of this week "
                                 "listed in Sessions.")),
    "makeup-not-missed": (WARNING, N_("{member} did not miss {session} (not marked absent or on leave there): a make-up "
                                      "is for those who missed it. Check the member and the session made up.")),
    "makeup-again": (WARNING, N_("{member} already made up {session} (return {where}): check that this is not the same "
                                 "make-up twice.")),
    "college-session-gone": (WARNING, N_("this is no longer a session of the whole college in the master (the office "
                                         "removed or changed it): the attendance marked in this column is not "
                                         "recorded. Nothing needs changing.")),
    "status-blank": (WARNING, N_("attendance for {session} is blank: choose {choices} for each member.")),
    "hours-total": (ERROR, N_("{detail}")),
    "not-a-return": (ERROR, N_("this is not a branch return; use the template the college sent.")),
    "identity-unknown": (ERROR, N_("cannot tell which branch and week this return is for: {reason}.")),
    "identity-guessed": (WARNING, N_("metadata missing; taken as {branch}, week {week} from the file name and roster. If "
                                      "that is wrong, fill in the template the college sent.")),
    "other-branch": (ERROR, N_("member '{value}' belongs to {owner}, not to this branch: delete this entry ({owner} "
                                  "reports it).")),
    "formula-uncalculated": (ERROR, N_("a formula with no calculated value; open and save the file in Excel, or type the value.")),
    "unknown-branch": (ERROR, N_("no branch '{value}' in the master: fill in the return the college sent your branch.")),
    "empty-return": (ERROR, N_("the return is empty: no sessions, attendance, self-study, notebook checks or "
                               "opinions are filled in. Fill in the week and send it again.")),
    "outside-membership": (ERROR, N_("{member} was not a member of this branch on {value}: clear this entry, or correct the "
                                        "date.")),
    "report-date": (ERROR, N_("a report of {member} dated {value}: only a report received while he was away may "
                              "be dated before this week ({start} to {end}), and none after it: correct the date.")),
    "fix-no-deadline": (ERROR, N_("a result of fix by deadline needs its fix deadline: fill it in.")),
    # phases 2 and 3 (checks/phase_records.py)
    "analysis-no-reviewer": (ERROR, N_("a step '{stage}' names who reviewed the material: fill in the reviewer.")),
    "grade-probationary": (ERROR, N_("{member} is a probationary member (Roster): he is appraised but given no grade; "
                                     "clear '{value}' and keep his votes.")),
    "votes-over-members": (WARNING, N_("the votes add up to {value}, more than the branch's {members} members on the "
                                       "Roster: check the counts.")),
    "item-no-member": (ERROR, N_("an item of a member names him: fill in his member ID.")),
    "item-of-committee": (ERROR, N_("an item of the college committee is the college office's to enter, not a "
                                    "branch's: choose member or branch, or delete the row.")),
    "deadline-before-date": (WARNING, N_("the deadline {value} is before this row's date {date} and the item is not "
                                         "done: if the deadline is mistyped, correct it; an item overdue is reported "
                                         "as it is, and shows among the flags.")),
    "answers-over-respondents": (ERROR, N_("the answers (satisfied, fairly satisfied, dissatisfied) add up to "
                                           "{answers}, more than the {value} people who took part: correct the counts.")),
    # branchbook import (roster_import.py)
    "import-no-sheet": (ERROR, N_("no sheet of members, branches or committee found: give the columns headers such as "
                                  "Name and Branch, or name yours with --map column=field.")),
    "import-sheet-unread": (WARNING, N_("not imported: its headers name no members, branches or committee; name them with "
                                        "--map column=field if it holds some.")),
    "import-unused-column": (WARNING, N_("column(s) {columns} not imported (the ledger has no such field); if one is a "
                                         "field, name it with --map '{value}=field', the fields being {fields}.")),
    "import-row-unread": (WARNING, N_("the columns imported are all empty (only '{value}'): this row is not imported; "
                                      "if it is a person, fill in the name and the other columns.")),
    "import-id-other-name": (ERROR, N_("ID '{value}' is {ledger_name} in the ledger, and {name} is {other}: if this "
                                       "column only numbers the rows, leave it out with --map '{header}='; otherwise "
                                       "correct the ID.")),
    "import-id-unknown": (ERROR, N_("'{value}' is not an ID in the ledger, but the ledger has {name} as {candidates}: "
                                    "write the ledger's ID ({candidates}) in this column, or leave the column out with "
                                    "--map '{header}=' to match by name.")),
    "import-unknown-reference": (ERROR, N_("'{value}' is neither an ID nor a name in {target}; correct it, or add it to "
                                           "{target} first.")),
    "import-ambiguous": (ERROR, N_("'{value}' could be {candidates}; add a column of IDs (or write the ID instead) to "
                                   "say which.")),
    "import-enum": (ERROR, N_("'{value}' is not a value of this column: write one of {choices}.")),
    "import-unknown-branches": (ERROR, N_("{count} rows name branches the ledger does not have ({names}): import the "
                                          "branches first (a sheet or a file with the columns Branch, Kind and "
                                          "Secretary, such as the Branches sheet of the guide's example), then the "
                                          "members again.")),
    "import-duplicate": (ERROR, N_("the same person or branch as row {other_row}; keep one of the two rows.")),
    "import-needs-column": (ERROR, N_("a new row needs {expected}: add that column, or name yours with --map "
                                      "column={expected}.")),
    "text-cleaned": (WARNING, N_("the text held control characters or characters a workbook cannot store; they were "
                                 "removed (a line break from Word is kept as a line break). Nothing needs changing.")),
    "text-too-long": (ERROR, N_("the text is {length} characters long; a cell holds at most {limit}. Shorten it.")),
    "meta-forged": (ERROR, N_("the return's hidden metadata (branch, week, template, roster) was changed after the "
                              "college sent it. Fill in the template the college sent, without editing it.")),
    "meta-foreign": (ERROR, N_("this return's template was not issued by this college's office: ask the college's "
                               "office for your branch's template for this week, fill it in and send it again.")),
    "meta-earlier-campaign": (ERROR, N_("this return belongs to the earlier campaign “{campaign}”, which has "
                                        "ended: the college's ledger now keeps the new campaign and takes no more "
                                        "returns of that one. Ask the college's office for this week's template of "
                                        "the new campaign.")),
    "meta-unsealed": (ERROR, N_("the return's hidden metadata carries no seal, so its branch and week cannot be "
                                "trusted. Use the template the college sent this week.")),
    "meta-unsealed-accepted": (WARNING, N_("the template was made before returns were sealed; its branch and week "
                                           "are taken as written. Nothing needs changing; next time, fill in this week's template.")),
}

_TYPE_NAMES = {"date": N_("a date such as {example}"), "datetime": N_("a date and time such as {example} 17:30")}
# A number typed with words around it ("2小时"): the message says so and gives the number it holds as the example.
_NUMBER_MESSAGES = {"number": N_("'{value}' is not a number: write only the number, such as {example}."),
                    "integer": N_("'{value}' is not a whole number: write only the number, such as {example}.")}
_NUMBER_IN_TEXT = re.compile(r"\d+(?:\.\d+)?")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")
DEFAULT_NUMBER_EXAMPLE = "2"
QUOTED = N_("'{text}'")  # a header or value named in a message, as the language quotes it
# How each line of a plain listing says what it is (validate's output).
SEVERITY_MARKS = {ERROR: N_("[error] {message}"), WARNING: N_("[note] {message}")}


@dataclass
class Finding:
    code: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None  # column letter
    column_label: str | None = None
    value: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    last_row: int | None = None  # a run of rows with the same problem: row to last_row
    last_column: str | None = None  # a run of columns on the row(s): column to last_column

    @property
    def severity(self) -> str:
        return TEMPLATES[self.code][0]

    @property
    def cell(self) -> str | None:
        """The cell (D5), or the cells of a run (D5:D40, C5:J5, C5:J6)."""
        if not (self.column and self.row):
            return None
        last = f"{self.last_column or self.column}{self.last_row or self.row}"
        first = f"{self.column}{self.row}"
        return first if last == first else f"{first}:{last}"

    def _values(self, lang: str) -> dict[str, Any]:
        values = {"value": _show(self.value), **self.params}
        expected = self.params.get("type")
        if expected in _TYPE_NAMES:
            # An example from the return's own week when it has one (validation.py fills it in).
            example = self.params.get("example") or date.today().isoformat()
            values["expected"] = say(lang, _TYPE_NAMES[expected], example=example)
        return values

    def where(self, lang: str) -> str:
        parts = []
        if self.sheet:
            parts.append(say(lang, "sheet {sheet}", sheet=self.sheet))
        if self.row and self.last_row and self.last_row != self.row:
            parts.append(say(lang, "rows {row}–{last_row}", row=self.row, last_row=self.last_row))
        elif self.row:
            parts.append(say(lang, "row {row}", row=self.row))
        if self.column_label:
            parts.append(say(lang, "column {column}", column=self.column_label))
        return " ".join(parts)

    def text(self, lang: str = "zh") -> str:
        """What is wrong and what to change, without where."""
        number_type = self.params.get("type") if self.code == "type" else None
        if number_type in _NUMBER_MESSAGES:
            return say(lang, _NUMBER_MESSAGES[number_type], value=_show(self.value),
                       example=_number_example(self.value, number_type))
        return say(lang, TEMPLATES[self.code][1], **self._values(lang))

    def message(self, lang: str = "zh") -> str:
        text = self.text(lang)
        where = self.where(lang)
        return say(lang, "{where}: {text}", where=where, text=text) if where else text

    def marked(self, lang: str = "zh") -> str:
        """The message with its severity in front (【错误】 or 【提示】), for a listing read line by line."""
        return say(lang, SEVERITY_MARKS[self.severity], message=self.message(lang))

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        data = asdict(self)
        data.pop("params")
        data["value"] = _show(self.value) if self.value is not None else None
        return {**data, "cell": self.cell, "severity": self.severity, "message": self.message(lang)}


def quoted(text: str) -> Words:
    """Text quoted the reader's way, as an item of a list in a message (“性别”、“民族”)."""
    return Words("checks", QUOTED, {"text": text})


def _number_example(value: Any, number_type: str) -> str:
    """The number in the text typed ("2小时" -> 2), else a plain one: the example is the secretary's own figure."""
    found = _NUMBER_IN_TEXT.search(str(value).translate(_FULL_WIDTH_DIGITS))
    if found and (number_type == "number" or "." not in found.group()):
        return found.group()
    return DEFAULT_NUMBER_EXAMPLE


def _show(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _column_number(letters: str | None) -> int:
    return xl_cell_to_rowcol(f"{letters}1")[1] if letters else -1


def ordered(findings: list[Finding], sheet_order: list[str]) -> list[Finding]:
    """By sheet (the workbook's order; findings about no sheet first), row, then column; ties keep their order."""
    position = {title: number for number, title in enumerate(sheet_order)}
    return sorted(findings, key=lambda f: (f.sheet is not None, position.get(f.sheet, len(position)), f.sheet or "",
                                           f.row or 0, _column_number(f.column)))


def grouped(findings: list[Finding]) -> list[Finding]:
    """Ordered findings with runs of rows joined: the same problem, in the same column(s), on consecutive rows,
    is one finding naming the rows (an empty session column is one, not one per member), though findings of
    other columns come between them in the order."""
    out: list[Finding] = []
    runs: dict[tuple, Finding] = {}
    for finding in findings:
        key = (finding.code, finding.sheet, finding.column, finding.last_column, finding.column_label,
               finding.text("en")) if finding.row and finding.sheet else None
        run = runs.get(key)
        if run is not None and finding.row == (run.last_row or run.row) + 1:
            run.last_row = finding.row
            continue
        out.append(dataclasses.replace(finding))
        if key is not None:
            runs[key] = out[-1]
    return out


@dataclass
class Report:
    kind: str  # master | return
    findings: list[Finding]
    stats: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    sheet_order: list[str] = field(default_factory=list)  # the workbook's sheets, as the findings are sorted

    def tidy(self) -> Report:
        """The findings in the order a secretary fixes them, runs of rows joined."""
        self.findings = grouped(ordered(self.findings, self.sheet_order))
        return self

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
