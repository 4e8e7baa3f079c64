"""Fixed prose shown in the workbooks: the master's 说明 sheet and the return's 填表说明.

Numbers the schemas hold (the hours and questions a cell accepts) are filled in from them, never written here.
"""
from __future__ import annotations

from .i18n import LIST_SEPARATOR, N_, Domain
from .schema import Schemas, load_schemas

say = Domain("workbook")

_README = [
    N_("BranchBook ledger of the {campaign}"),
    N_("This workbook shows the ledger database (ledger.sqlite in the same folder): BranchBook rewrites it as a whole after each batch of returns."),
    N_("Sheets: {sheets}."),
    N_("The last sheets (committee meetings, meeting reports, plans, supervision visits, opinion channels) are the college's own records: the office types them here, no return carries them."),
    N_("You may edit members, branches, sessions and other records here: when you save, BranchBook takes your changes into the ledger and records who made them and when."),
    N_("Grey columns (source return, row fingerprint) are written by the program; merged rows edited by hand are kept when the branch sends the same week again, and listed as conflicts."),
    N_("The Returns and Flags sheets are generated; edits there are not taken in. An edit with an error (text in an hours column) is listed by sheet, row and column, and this workbook is not overwritten until it is fixed."),
    N_("Drop-downs, dates and hours are checked by Excel as you type; for a full check click Validate or run branchbook validate."),
    N_("While Excel has this workbook open, returns are still merged into the ledger; the workbook is updated once you close it, never over your changes."),
]

# A line for each sheet of phases 2 and 3 the return carries (docs/domain.md, "Phases 2 and 3").
_PHASE_SHEETS = {
    "analyses": N_("· Self-analyses: one row per step of a member's material (written, reviewed by the branch, returned "
                   "for rework, final), dated the day of the step; a step taken in a later week goes in that week's "
                   "return as a new row."),
    "talks": N_("· Heart-to-heart talks: one row per talk before the special organisation-life meeting: the member, "
                "who talked with him, and whether a branch committee member, another member or the committee liaison."),
    "appraisals": N_("· Appraisals: one row per member appraised: the votes of the democratic appraisal and the grade "
                     "the branch meeting settled; a probationary member has his votes but no grade."),
    "rectification": N_("· Rectification items: one row per item (a member's or the branch's) in each week it is "
                        "reported: the problem, the measure, who answers for it and by when, and its status; an item of "
                        "a member names his member ID."),
    "publicity": N_("· Rectification notices: the notice of the branch's rectification, and the satisfaction survey "
                    "with the number of people who took part and their answers."),
}
# A phase's sheets stay in the returns of later phases (schemas/returns.yaml `phases`): for a step, talk or appraisal
# reported late, which clears its flag (docs/domain.md, "Phases 2 and 3").
CATCHING_UP = N_("· {sheets}: sheets of an earlier phase, kept for catching up: a step, talk or appraisal not yet "
                 "reported goes in as a new row, dated the day it happened (in this week).")
PHASE_LINES = object()  # where in _GUIDE they go
RECORD_SHEETS = ("selfstudy", "inspections", "opinions")  # what line 4 speaks of, those the return carries
SHEET_NAMED = N_("'{sheet}'")

_GUIDE = [
    N_("{campaign}: {branch} return for week {week} ({start} to {end})"),
    N_("1. The Roster is pre-filled; do not change it. Report mistakes to the college office."),
    N_("2. Sessions: one row per session this week; session numbers S1–S{sessions} must be unique. Party group: the "
       "group that met, for a party group's session (only its members' attendance is expected); blank for the whole "
       "branch. Place, chair, "
       "speaker, recorder, others attending and points discussed are as the meeting record book has them (may be left "
       "blank); the numbers expected and present are counted from Attendance, not typed."),
    N_("3. Attendance: for each member and session choose {statuses}."),
    N_("3a. The college's own sessions this week (a lecture, a film), entered by the college office, are listed first "
       "in Sessions, in grey: do not change them. Mark your members' attendance at each in its column in Attendance, "
       "headed by its session ID."),
    N_("4. {records}: one row per record; pick the member ID from the list. A notebook "
       "ordered to improve in an earlier week is re-checked with a new row here, dated the day of the re-check. "
       "Self-study (or a session) that makes up a session missed names it under Makes up session: its session ID "
       "as the college's ledger lists it, or S1–S{sessions} for one of this week's. At a session held to make one up, "
       "only those absent or on leave from the session made up need their attendance marked."),
    PHASE_LINES,  # the sheets of the week's phase, when it has some
    N_("5. Summary: a few lines on the week and its problems."),
    N_("6. Dates must fall in the week, hours {hours}, questions {questions}; Excel stops a wrong entry."),
    N_("7. The Filling check area at the top of this sheet checks the return as you type: fix the cells it marks in red; "
       "when it reads Ready to send, e-mail this file to the college office."),
    N_("Sheet protection password: {password} (protection only prevents accidental changes; it is not a secret)."),
]


def readme_lines(lang: str, campaign: str | None = None, schemas: Schemas | None = None) -> list[str]:
    """The master's 说明 sheet; its title names the campaign (None: the packaged campaign.yaml's; docs/design.md,
    "Campaigns"); its list of sheets is the schema's, so that a sheet added is named."""
    schemas = schemas or load_schemas()
    campaign = campaign or schemas.campaign.title(lang)
    sheets = say(lang, LIST_SEPARATOR).join(sheet.name(lang) for sheet in schemas.master)
    return [say(lang, line, campaign=campaign, sheets=sheets) for line in _README]


def _span(fields) -> str:
    """The values the fields accept, as low–high (the widest span, if they differ)."""
    lows = [f.minimum for f in fields if f.minimum is not None]
    highs = [f.maximum for f in fields if f.maximum is not None]
    low, high = (min(lows) if lows else None), (max(highs) if highs else None)
    if low is not None and high is not None:
        return f"{low:g}–{high:g}"
    return f"≥ {low:g}" if low is not None else f"≤ {high:g}" if high is not None else "—"


def guide_lines(lang: str, schemas: Schemas | None = None, **values) -> list[str]:
    """The return's 填表说明; the ranges it quotes are the master schema's own bounds."""
    schemas = schemas or load_schemas()
    ranges = {"hours": _span([schemas.sheet(key).field("hours") for key in ("sessions", "selfstudy")]),
              "questions": _span([schemas.sheet("inspections").field("questions")]),
              "password": schemas.returns.password,  # the one place it is kept (schemas/returns.yaml)
              "statuses": " / ".join(schemas.returns.sheet("attendance").codes.labels(lang)),
              "campaign": schemas.campaign.title(lang)}
    college = values.pop("college", False)  # the line on the college's sessions, in a week that has some
    carried = {sheet.key: sheet for sheet in schemas.returns.sheets}
    ranges["records"] = say(lang, LIST_SEPARATOR).join(say(lang, SHEET_NAMED, sheet=carried[key].name(lang))
                                                     for key in RECORD_SHEETS if key in carried)
    phase = values.pop("phase", None)  # the week's phase: sheets of earlier phases only are for catching up
    earlier = [carried[key] for key in _PHASE_SHEETS if key in carried and phase is not None
               and carried[key].phases and phase > min(carried[key].phases)]
    lines = []
    for line in _GUIDE:
        if line is PHASE_LINES:
            lines += [say(lang, text) for key, text in _PHASE_SHEETS.items() if key in carried]
            if earlier:
                lines.append(say(lang, CATCHING_UP, sheets=say(lang, LIST_SEPARATOR).join(
                    say(lang, SHEET_NAMED, sheet=sheet.name(lang)) for sheet in earlier)))
        elif college or not line.startswith("3a."):
            lines.append(say(lang, line, **{**ranges, **values}))
    return lines
