"""The return's 填报检查: a check area at the top of its guide sheet, computed by formulas only, and
conditional formats that mark the offending cells on the data sheets as the secretary types.

No macros, so it works alike in Excel, WPS and LibreOffice: only functions the three share (SUMPRODUCT,
COUNTIF, SUMIFS, ISNUMBER, LEN, TRIM, CLEAN, SUBSTITUTE, EXACT, IF, AND, OR, NOT, SUM, LEFT, DATE, INDEX, MATCH), no dynamic arrays. The checks count what validation reports
as errors (workbook/validation.py), from the same schemas; what a formula cannot see well is left to
validation (docs/design.md, "Live checks on the return"). The readers never read the guide sheet, and validation
skips its formulas (workbook/checks/formulas.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from . import ids, layout
from .checks.attendance import MAX_HOURS_A_DAY
from .checks.phase_records import ANSWERS, MEMBER_ITEM, PROBATIONARY
from .i18n import LIST_SEPARATOR, N_, Domain
from .offered_sessions import PAIRS_COLUMN
from .schema import CodeList, ReturnSheet, Schemas

say = Domain("workbook")

# Record rows the formulas and marks cover: five times the rows made ready (rows_per_sheet), for a
# secretary who types below them.
LIVE_ROWS_FACTOR = 5
AWAY = "away"  # codes.yaml attendance_status: 请假(在外), pre-filled; marks no session as held
TITLE_ROW, STATUS_ROW, HEADER_ROW, FIRST_CHECK_ROW = 1, 2, 3, 4
LABEL_COLUMN, COUNT_COLUMN = "A", "B"
FIRST_HELPER_COLUMN = 26  # Z: the hidden columns of per-row checks, far right of the guide's text

BAD_FILL = PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE")
BAD_FONT = Font(color="9C0006")
GOOD_FILL = PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE")
GOOD_FONT = Font(color="006100")
CHECK_FILL = PatternFill("solid", fgColor="FFEB9C", bgColor="FFEB9C")  # a reminder: validation's 提示, not an error
CHECK_FONT = Font(color="9C5700")

_LABELS = {
    "required": N_("{sheet}: required cells left blank"),
    "member": N_("{sheet}: member IDs not on the roster"),
    "range": N_("{sheet}: {field} outside {minimum} to {maximum}"),
    "week": N_("{sheet}: dates outside this week ({start} to {end})"),
    "blank": N_("{sheet}: attendance left blank in a session held (to check; not a problem)"),
    "group": N_("{sheet}: a party group no member on the roster is in"),
    "status": N_("{sheet}: attendance that is not one of {choices}"),
    "sessions": N_("{sheet}: sessions marked here but not in {sessions}, or the other way round"),
    "empty": N_("Nothing filled in yet: {sheets} are all blank"),
    "daily": N_("{sheet}: a member's hours on one day over {limit} (sessions attended and self-study)"),
    "grade-probationary": N_("{sheet}: a grade given to a probationary member (appraised without one)"),
    "item-no-member": N_("{sheet}: a member's item without his member ID"),
    "answers-over-respondents": N_("{sheet}: answers of the survey more than the respondents"),
}
READY = N_("Ready to send")
NOT_FILLED = N_("Not filled in yet: the results of the check will show here once you fill in the return.")


@dataclass(frozen=True)
class LiveCheck:
    """One line of the area: its label, the formula counting its problems, and its marks on the data sheet."""

    sheet_key: str
    label: str
    count: str  # a formula without its '='
    marks: tuple[tuple[str, str], ...]  # (range, formula relative to the range's first cell)
    # A check a single formula cannot count: a formula for each row, kept in a hidden column of the guide
    # ({row} in it is the data row, which is the helper's own row too), from row 2 to `per_row_last` (0: the
    # last record row); `count` uses that column as {helpers}, or is empty to sum it.
    per_row: str | tuple[str, ...] | None = None  # a tuple: a formula of its own for each row from row 2
    per_row_last: int = 0
    # What validation reports as a warning (提示), not an error: counted apart from the problems, marked in
    # yellow; the return can still be sent (docs/design.md, "Live checks on the return").
    reminder: bool = False
    untouched: bool = False  # the line of a return not filled in yet: while it counts, the status says only that


def add_live_checks(wb: Workbook, schemas: Schemas, lang: str, week: tuple, roster_size: int, sessions: int,
                    of_return: str, college_rows: int = 0, missed_pairs: int = 0) -> None:
    """Write the area above the guide's text and the marks on the data sheets. `week`: (start, end); `sessions`: the
    attendance grid's columns (the session numbers and the college's sessions); `of_return`: its id (B08-W03);
    `college_rows`: the college's sessions pre-filled at the top of 学习活动 (not the secretary's typing);
    `missed_pairs`: the rows of the `_元数据`'s column of who missed each earlier session (offered_sessions)."""
    guides = [sheet.name(lang) for sheet in schemas.returns.sheets if sheet.kind == "guide"]
    if not guides:
        return
    checks = sorted(_checks(schemas, lang, week, roster_size, sessions, of_return, college_rows, missed_pairs), key=lambda check: check.reminder)  # problems first
    for check in checks:
        ws = wb[schemas.returns.sheet(check.sheet_key).name(lang)]
        fill, font = (CHECK_FILL, CHECK_FONT) if check.reminder else (BAD_FILL, BAD_FONT)
        for cells, formula in check.marks:
            ws.conditional_formatting.add(cells, FormulaRule(formula=[_in_language(formula, lang)], fill=fill, font=font))
    _write_area(wb[guides[0]], checks, schemas, lang)
    wb.calculation.fullCalcOnLoad = True  # openpyxl stores no values: every program computes on opening


def _ref(title: str, letter: str, first: int, last: int) -> str:
    return f"{quote_sheetname(title)}!${letter}${first}:${letter}${last}"


def _stripped(cells: str) -> str:
    """Text as validation reads it (workbook/cells.py strips it, as Python does): TRIM takes only the ASCII
    space, so the ideographic space a Chinese input method types and the no-break space become spaces first,
    and CLEAN drops line breaks (Alt+Enter)."""
    return f'TRIM(CLEAN(SUBSTITUTE(SUBSTITUTE({cells},"\u3000"," "),"\u00a0"," ")))'


def _in_language(formula: str, lang: str) -> str:
    """An English return carries no Chinese (tests/test_languages.py), not even the ideographic space in a
    formula: there it is not looked for, and a second no-break space, a no-op, takes its place."""
    return formula if lang == "zh" else formula.replace('"\u3000"', '"\u00a0"')


def _squeezed(cells: str) -> str:
    """A status as validation compares it (schema.CodeList.parse drops every space): spaces removed, inside too."""
    return f'SUBSTITUTE(CLEAN(SUBSTITUTE(SUBSTITUTE({cells},"\u3000",""),"\u00a0",""))," ","")'


def _is(cells: str, form: str) -> str:
    return f"({_squeezed(cells)}={_text(''.join(form.split()))})"


def _blank(cells: str) -> str:
    return f"(LEN({_stripped(cells)})=0)"


def _filled(cells: str) -> str:
    return f"(LEN({_stripped(cells)})>0)"


def _text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _last_row(schemas: Schemas) -> int:
    return schemas.returns.rows_per_sheet * LIVE_ROWS_FACTOR + 1


def _checks(schemas: Schemas, lang: str, week: tuple, roster_size: int, sessions: int, of_return: str,
            college_rows: int, missed_pairs: int):
    last = _last_row(schemas)
    roster_last = max(roster_size + 1, 2)
    roster = _ref(schemas.returns.sheet("roster").name(lang), "A", 2, roster_last)
    for sheet in schemas.returns.sheets:
        if sheet.kind == "records":
            yield from _record_checks(sheet, lang, week, last, roster, roster_last)
    yield from _phase_record_checks(schemas, lang, last, roster_last)
    grid = _grid(schemas, lang, roster_size, sessions)
    yield from _grid_checks(schemas, lang, grid, last, ids.sessions_of(of_return), missed_pairs)
    yield _group_check(schemas, lang, last, roster_last)
    yield _daily_hours_check(schemas, lang, grid, last)
    yield _empty_check(schemas, lang, grid, last, college_rows)


def _letters(sheet: ReturnSheet) -> dict[str, str]:
    return {f.key: get_column_letter(i) for i, f in enumerate(sheet.fields, start=1)}


def _rows_started(sheet: ReturnSheet, lang: str, last: int) -> str:
    """Each record row: is anything typed in it? A row is read once it is (workbook/sheetio.py)."""
    letters = _letters(sheet)
    return _filled("&".join(_ref(sheet.name(lang), letters[f.key], 2, last) for f in sheet.fields))


def _record_checks(sheet: ReturnSheet, lang: str, week: tuple, last: int, roster: str, roster_last: int):
    title = sheet.name(lang)
    letters = _letters(sheet)

    def column(key: str) -> str:
        return _ref(title, letters[key], 2, last)

    def cells(key: str) -> str:
        return f"{letters[key]}2:{letters[key]}{last}"

    # Only in a row begun are blanks missing.
    row_started = _rows_started(sheet, lang, last)
    row_typed = _filled("&".join(f"${letters[f.key]}2" for f in sheet.fields))
    required = [f.key for f in sheet.fields if f.required]
    if required:
        blanks = "+".join(_blank(column(key)) for key in required)
        yield LiveCheck(sheet.key, say(lang, _LABELS["required"], sheet=title),
                        f"SUMPRODUCT({row_started}*({blanks}))",
                        tuple((cells(key), f"AND({_blank(letters[key] + '2')},{row_typed})") for key in required))
    if "member_id" in letters:
        # Compared as validation compares (checks/roster_ids.py): stripped, then exactly, case and all; COUNTIF
        # would ignore case and read * and ? as wildcards.
        def unknown(cell: str) -> str:
            return f"AND({_filled(cell)},SUMPRODUCT(--EXACT({roster},{_stripped(cell)}))=0)"

        # Counted as the IDs typed less those that are a roster member's: one formula a member (the roster's
        # rows; its IDs are unique), not one a record row, which made LibreOffice twice as slow to open.
        ids = column("member_id")
        member = roster.split("!$A$")[0] + "!$A{row}"  # one cell of the roster's ID column
        yield LiveCheck(sheet.key, say(lang, _LABELS["member"], sheet=title),
                        f"SUMPRODUCT(--{_filled(ids)})-SUM({{helpers}})",
                        ((cells("member_id"), unknown(f"{letters['member_id']}2")),),
                        per_row=f"IF(LEN({member})=0,0,SUMPRODUCT(--EXACT({_stripped(ids)},{member})))",
                        per_row_last=roster_last)
    for field in sheet.fields:
        if field.type in ("number", "integer") and field.minimum is not None and field.maximum is not None:
            values, cell = column(field.key), f"{letters[field.key]}2"
            low, high = f"{field.minimum:g}", f"{field.maximum:g}"
            label = say(lang, _LABELS["range"], sheet=title, field=field.label(lang), minimum=low, maximum=high)
            yield LiveCheck(sheet.key, label, f"SUMPRODUCT(ISNUMBER({values})*(({values}<{low})+({values}>{high})))",
                            ((cells(field.key), f"AND(ISNUMBER({cell}),OR({cell}<{low},{cell}>{high}))"),))
    start, end = week
    first_day = f"DATE({start.year},{start.month},{start.day})"
    day_after = f"(DATE({end.year},{end.month},{end.day})+1)"  # a date with a time of day is still its day
    for key in sheet.date_within_week:
        days, cell = column(key), f"{letters[key]}2"
        label = say(lang, _LABELS["week"], sheet=title, start=start.isoformat(), end=end.isoformat())
        yield LiveCheck(sheet.key, label,
                        f"SUMPRODUCT(ISNUMBER({days})*(({days}<{first_day})+({days}>={day_after})))",
                        ((cells(key), f"AND(ISNUMBER({cell}),OR({cell}<{first_day},{cell}>={day_after}))"),))


def _phase_record_checks(schemas: Schemas, lang: str, last: int, roster_last: int):
    """What checks/phase_records.py refuses in the records of phases 2 and 3, on the sheets the return carries: a
    等次 of a member the roster lists as 预备, a member's 整改 item without his ID, a survey's answers more than
    its respondents."""
    carried = {sheet.key: sheet for sheet in schemas.returns.sheets}
    roster = carried["roster"]
    on_roster = quote_sheetname(roster.name(lang)) + "!"
    standing_letter = _letters(roster)["standing"]
    standing = roster.field("standing").codes

    def probationary(cells: str) -> str:
        return "(" + "+".join(_is(cells, form) for form in _accepted(standing, lang)
                              if standing.parse(form) == PROBATIONARY) + ")"

    if "appraisals" in carried:
        sheet = carried["appraisals"]
        title, letters = sheet.name(lang), _letters(sheet)
        ids, grades = _ref(title, letters["member_id"], 2, last), _ref(title, letters["grade"], 2, last)
        member, cell = f"{on_roster}$A{{row}}", f"{letters['grade']}2"
        # One helper cell a roster member, as the member line counts: his rows given a grade, when he is 预备.
        per_member = (f"IF(AND(LEN({member})>0,{probationary(f'{on_roster}${standing_letter}{{row}}')}>0),"
                      f"SUMPRODUCT(EXACT({_stripped(ids)},{member})*{_filled(grades)}),0)")
        standings = f"{on_roster}${standing_letter}$2:${standing_letter}${roster_last}"
        mark = (f"AND({_filled(cell)},SUMPRODUCT(EXACT({on_roster}$A$2:$A${roster_last},"
                f"{_stripped(letters['member_id'] + '2')})*{probationary(standings)})>0)")
        yield LiveCheck(sheet.key, say(lang, _LABELS["grade-probationary"], sheet=title), "",
                        ((f"{cell}:{letters['grade']}{last}", mark),), per_row=per_member, per_row_last=roster_last)
    if "rectification" in carried:
        sheet = carried["rectification"]
        title, letters = sheet.name(lang), _letters(sheet)
        codes = sheet.field("level").codes
        forms = [form for form in _accepted(codes, lang) if codes.parse(form) == MEMBER_ITEM]

        def of_member(cells: str) -> str:
            return "(" + "+".join(_is(cells, form) for form in forms) + ")"

        levels, ids = _ref(title, letters["level"], 2, last), _ref(title, letters["member_id"], 2, last)
        cell = f"{letters['member_id']}2"
        yield LiveCheck(sheet.key, say(lang, _LABELS["item-no-member"], sheet=title),
                        f"SUMPRODUCT({of_member(levels)}*{_blank(ids)})",
                        ((f"{cell}:{letters['member_id']}{last}",
                          f"AND({of_member(letters['level'] + '2')}>0,{_blank(cell)})"),))
    if "publicity" in carried:
        sheet = carried["publicity"]
        title, letters = sheet.name(lang), _letters(sheet)
        on_sheet = quote_sheetname(title) + "!"

        def over(on: str, row: str) -> str:  # SUM skips text, which the type check reports (a sum would fail)
            people = f"{on}${letters['respondents']}{row}"
            answers = ",".join(f"{on}${letters[key]}{row}" for key in ANSWERS)
            return f"IF(AND(ISNUMBER({people}),SUM({answers})>{people}),1,0)"

        cell = f"{letters['respondents']}2"
        yield LiveCheck(sheet.key, say(lang, _LABELS["answers-over-respondents"], sheet=title), "",
                        ((f"{cell}:{letters['respondents']}{last}", f"{over('', '2')}=1"),),
                        per_row=over(on_sheet, "{row}"))


def _accepted(codes: CodeList, lang: str) -> list[str]:
    """The spellings validation takes for a status (schema.CodeList.parse): the label, the code, and in a
    Chinese return the full-width forms a Chinese input method types and the English labels. An English
    return carries no Chinese: 出席 typed in one is marked, though validation would read it. Text is
    compared without case."""
    forms: list[str] = []
    for item in codes.codes:
        labels = item.labels.values() if lang == "zh" else [item.label(lang)]
        for text in (*labels, item.code):
            wide = text.replace("(", "（").replace(")", "）") if lang == "zh" else text
            for form in (text, wide):
                if form.casefold() not in {known.casefold() for known in forms}:
                    forms.append(form)
    return forms


@dataclass(frozen=True)
class _Grid:
    """Where the attendance grid's status cells are (the template's layout), and the spellings of 请假(在外)."""

    title: str
    letters: list[str]
    bottom: int
    accepted: list[str]
    away: list[str]

    @property
    def every(self) -> str:
        return f"{quote_sheetname(self.title)}!${self.letters[0]}$2:${self.letters[-1]}${self.bottom}"

    def not_away(self, cells: str) -> str:
        return "".join(f"*(1-{_is(cells, form)})" for form in self.away)


def _grid(schemas: Schemas, lang: str, roster_size: int, count: int) -> _Grid:
    from .return_template import GRID_FIRST_COLUMN  # the grid's layout is the template's

    sheet = schemas.returns.sheet("attendance")
    accepted = _accepted(sheet.codes, lang)
    return _Grid(sheet.name(lang), [get_column_letter(GRID_FIRST_COLUMN + i) for i in range(count)],
                 max(roster_size + 1, 2), accepted, [form for form in accepted if sheet.codes.parse(form) == AWAY])


def _group_check(schemas: Schemas, lang: str, last: int, roster_last: int) -> LiveCheck:
    """A session's 党小组 that no member on the roster is in (checks/attendance.py check_session_groups). COUNTIF
    ignores case, as membership.group_form does."""
    sessions, roster = schemas.returns.sheet("sessions"), schemas.returns.sheet("roster")
    letter = _letters(sessions)["party_group"]
    groups = _ref(sessions.name(lang), letter, 2, last)
    members = _ref(roster.name(lang), _letters(roster)["party_group"], 2, roster_last)
    return LiveCheck(sessions.key, say(lang, _LABELS["group"], sheet=sessions.name(lang)),
                     f"SUMPRODUCT({_filled(groups)}*(COUNTIF({members},{_stripped(groups)})=0))",
                     ((f"{letter}2:{letter}{last}", f"AND({_filled(letter + '2')},COUNTIF({members},{_stripped(letter + '2')})=0)"),))


def _empty_check(schemas: Schemas, lang: str, grid: _Grid, last: int, college_rows: int) -> LiveCheck:
    """An untouched template is refused as empty (checks/empty.py): it is not ready to send either. The college's
    sessions pre-filled in 学习活动 are not her typing."""
    records = [sheet for sheet in schemas.returns.sheets if sheet.kind == "records"]
    typed = [f"SUMPRODUCT(--{_rows_started(sheet, lang, last)})" + (f"-{college_rows}" if sheet.key == "sessions"
                                                                  and college_rows else "") for sheet in records]
    typed.append(f"SUMPRODUCT({_filled(grid.every)}{grid.not_away(grid.every)})")
    names = say(lang, LIST_SEPARATOR).join(sheet.name(lang) for sheet in (*records, schemas.returns.sheet("attendance")))
    return LiveCheck(records[0].key, say(lang, _LABELS["empty"], sheets=names), f"IF({'+'.join(typed)}=0,1,0)", (),
                     untouched=True)


def _daily_hours_check(schemas: Schemas, lang: str, grid: _Grid, last: int) -> LiveCheck:
    """A member's sessions attended and self-study on one day over MAX_HOURS_A_DAY, counted on the self-study
    row that passes it, as checks/attendance.py check_daily_hours does (a row over the field's maximum is
    the range line's, and left out)."""
    study, sessions = schemas.returns.sheet("selfstudy"), schemas.returns.sheet("sessions")
    on_study, on_grid = quote_sheetname(study.name(lang)) + "!", quote_sheetname(grid.title) + "!"
    mine, held = _letters(study), _letters(sessions)
    member, day, hours = (f"{on_study}${mine[key]}{{row}}" for key in ("member_id", "date", "hours"))

    def so_far(key: str) -> str:  # this row and the ones above it
        return f"{on_study}${mine[key]}$2:${mine[key]}{{row}}"

    def of_sessions(key: str) -> str:
        return _ref(sessions.name(lang), held[key], 2, last)

    first, final = grid.letters[0], grid.letters[-1]
    statuses = f"{on_grid}${first}$2:${final}${grid.bottom}"
    present = "+".join(_is(statuses, form) for form in grid.accepted
                       if schemas.returns.sheet("attendance").codes.parse(form) == "present")
    attended = (f"SUMPRODUCT(({on_grid}$A$2:$A${grid.bottom}={member})*({present})*SUMIFS({of_sessions('hours')},"
                f"{of_sessions('session_no')},{on_grid}${first}$1:${final}$1,{of_sessions('date')},{day}))")
    studied = (f"SUMIFS({so_far('hours')},{so_far('member_id')},{member},{so_far('date')},{day},"
               f"{so_far('hours')},{_text(f'<={MAX_HOURS_A_DAY}')})")
    over = (f"IF(AND(ISNUMBER({hours}),ISNUMBER({day}),{_filled(member)}),"
            f"IF({hours}<={MAX_HOURS_A_DAY},IF({studied}+{attended}>{MAX_HOURS_A_DAY},1,0),0),0)")
    return LiveCheck(study.key, say(lang, _LABELS["daily"], sheet=study.name(lang), limit=MAX_HOURS_A_DAY), "",
                     ((f"{mine['hours']}2:{mine['hours']}{last}", over.format(row=2)),),
                     per_row=over)


def _grid_checks(schemas: Schemas, lang: str, grid: _Grid, last: int, own_prefix: str, missed_pairs: int):
    sessions, statuses = schemas.returns.sheet("sessions"), schemas.returns.sheet("attendance").codes
    title, letters, bottom, accepted, away = grid.title, grid.letters, grid.bottom, grid.accepted, grid.away
    on_grid = quote_sheetname(title) + "!"
    held = _ref(sessions.name(lang), get_column_letter(sessions.keys.index("session_no") + 1), 2, last)
    first, final = letters[0], letters[-1]

    def declared(letter: str, on: str = "") -> str:  # the session of this column is in the sessions sheet
        return f"(COUNTIF({held},{on}{letter}$1)>0)"

    def marked(letter: str, on: str = "") -> str:  # anything but 请假(在外) typed in the column
        cells = f"{on}{letter}$2:{letter}${bottom}"
        return f"(SUMPRODUCT({_filled(cells)}{grid.not_away(cells)})>0)"

    marks = f"{first}2:{final}{bottom}"
    # A 党小组 session expects its group's members only (checks/attendance.py session_groups): each session
    # number's group, stripped ("" for the whole branch), is kept in a hidden helper cell of the guide, one a
    # number; a member is expected where it is blank or his own (compared as membership.group_form does, case
    # ignored: so does =).
    groups = _ref(sessions.name(lang), get_column_letter(sessions.keys.index("party_group") + 1), 2, last)
    roster = schemas.returns.sheet("roster")
    roster_group = f"{quote_sheetname(roster.name(lang))}!${get_column_letter(roster.keys.index('party_group') + 1)}"

    def group_of(letter: str, on: str = "") -> str:
        number = f"{on}{letter}$1"
        return f'IF(COUNTIF({held},{number})=0,"",{_stripped(f"INDEX({groups},MATCH({number},{held},0))")})'

    def expected(group: str, members: str) -> str:  # 1 where a member is expected at the session of `group`
        return f"(1-(LEN({group})>0)*({members}<>{group}))"

    # A 补学 session expects only those who missed the session it makes up (checks/attendance.py expected_members):
    # its 补学活动, stripped and without this return's own prefix (B08-W03-), is looked up among the grid's numbers,
    # where those marked 缺席 or 请假 are expected; else among the `_元数据`'s pairs (session|member) of earlier sessions
    # (offered_sessions.missed_pairs), where those listed are; a session named in neither expects everyone.
    makes_up = _ref(sessions.name(lang), get_column_letter(sessions.keys.index("makes_up") + 1), 2, last)
    missed = [form for form in accepted if statuses.parse(form) in statuses.codes_where("missed")]
    meta = schemas.returns.sheet("meta").name(lang)
    pairs = f"{quote_sheetname(meta)}!${PAIRS_COLUMN}$1:${PAIRS_COLUMN}${missed_pairs}" if missed_pairs else None

    def made_up(letter: str, on: str = "") -> str:  # the session the column's session makes up, as typed
        number = f"{on}{letter}$1"
        return (f'IF(COUNTIF({held},{number})=0,"",SUBSTITUTE('
                f'{_stripped(f"INDEX({makes_up},MATCH({number},{held},0))")},{_text(own_prefix)},""))')

    def who_missed(letter: str, statuses_of: str, ids_of: str, on: str = "", one_row: bool = False) -> str:
        """1 where a member is expected at a 补学 session; `statuses_of`: the grid's status cells, every row (the
        count: INDEX's row 0 takes the whole column) or `one_row` (a mark); `ids_of`: those rows' member IDs."""
        target = made_up(letter, on)
        found = f"MATCH({target},{on}${first}$1:${final}$1,0)"
        here = f"ISNUMBER({found})"
        cells = f"INDEX({statuses_of},{1 if one_row else 0},IF({here},{found},1))"
        this_week = f"{here}*({'+'.join(_is(cells, form) for form in missed)})"
        if pairs is None:
            return f"(1-{here}+{this_week})"
        listed = f'(COUNTIF({pairs},{target}&"|*")>0)'
        theirs = f'(COUNTIF({pairs},{target}&"|"&{ids_of})>0)'
        return f"({this_week}+(1-{here})*(1-{listed}+{listed}*{theirs}))"

    # A session held with nobody marked is the 'sessions' line's (one error, as validation says): its blanks
    # are not counted again; in a marked column each blank of a member expected at it counts.
    members = f"{roster_group}$2:${roster_group.rsplit('$', 1)[1]}${bottom}"
    # One hidden helper cell a session number (a grid column) counts its blanks: a grid of 16 columns in one
    # formula would pass Excel's 8,192 characters.
    block = f"{on_grid}${first}$2:${final}${bottom}"
    yield LiveCheck("attendance", say(lang, _LABELS["blank"], sheet=title), "",
                    tuple((f"{x}2:{x}{bottom}", f"AND({_blank(x + '2')},{declared(x)},{expected(group_of(x), roster_group + '2')},"
                                                f"{who_missed(x, f'${first}2:${final}2', '$A2', one_row=True)}>0)")
                          for x in letters),
                    per_row=tuple(f"IF(AND({declared(x, on_grid)},{marked(x, on_grid)}),"
                                  f"SUMPRODUCT({_blank(f'{on_grid}{x}$2:{x}${bottom}')}*{expected(group_of(x, on_grid), members)}"
                                  f"*{who_missed(x, block, f'{on_grid}$A$2:$A${bottom}', on_grid)}),0)"
                                  for x in letters), reminder=True)
    every = grid.every
    valid = "+".join(_is(every, form) for form in accepted)
    not_away = "".join(f",NOT{_is(first + '2', form)}" for form in away)
    unlisted = ",".join(f"NOT{_is(first + '2', form)}" for form in accepted)
    yield LiveCheck("attendance", say(lang, _LABELS["status"], sheet=title, choices="/".join(statuses.labels(lang))),
                    f"SUMPRODUCT({_filled(every)}*(({valid})=0))",
                    ((marks, f"AND({_filled(first + '2')},{unlisted})"),))
    yield LiveCheck("attendance", say(lang, _LABELS["sessions"], sheet=title, sessions=sessions.name(lang)),
                    "", ((marks, f"AND({_filled(first + '2')},NOT({declared(first)}){not_away})"),),
                    per_row=tuple(f"IF({declared(x, on_grid)}<>{marked(x, on_grid)},1,0)" for x in letters))


def _formula_text(text: str, **parts: str) -> str:
    """A message rendered with markers where formula values go, made into a text formula."""
    result = _text(text)
    for key, expression in parts.items():
        result = result.replace(_marker(key), f'"&{expression}&"')
    return result


def _marker(key: str) -> str:
    return "\x00" + key + "\x00"


def _write_area(ws: Worksheet, checks: list[LiveCheck], schemas: Schemas, lang: str) -> None:
    size = FIRST_CHECK_ROW + len(checks)  # the checks and a blank row before the guide's text
    ws.insert_rows(1, amount=size)
    title = ws[f"{LABEL_COLUMN}{TITLE_ROW}"]
    title.value = say(lang, "Filling check (worked out as you type; nothing to run)")
    title.font = Font(bold=True, size=14, color=layout.PARTY_RED)
    for column, text in ((LABEL_COLUMN, say(lang, "Check")), (COUNT_COLUMN, say(lang, "Problems"))):
        layout.style_header(ws[f"{column}{HEADER_ROW}"])
        ws[f"{column}{HEADER_ROW}"].value = text
    # The guide prints its text and the area; the hidden helper cells would stretch it to row 1,001.
    ws.print_area = f"{LABEL_COLUMN}1:{COUNT_COLUMN}{ws.max_row}"
    helpers = FIRST_HELPER_COLUMN
    for row, check in enumerate(checks, start=FIRST_CHECK_ROW):
        ws[f"{LABEL_COLUMN}{row}"] = check.label
        count = check.count
        if check.per_row:
            letter, bottom = get_column_letter(helpers), check.per_row_last or _last_row(schemas)
            if isinstance(check.per_row, tuple):
                formulas, bottom = check.per_row, len(check.per_row) + 1
            else:
                formulas = tuple(check.per_row.format(row=data_row) for data_row in range(2, bottom + 1))
            for data_row, formula in enumerate(formulas, start=2):
                ws[f"{letter}{data_row}"] = "=" + _in_language(formula, lang)
            ws.column_dimensions[letter].hidden = True
            column = f"{letter}2:{letter}{bottom}"
            count, helpers = count.format(helpers=column, helper=letter) if count else f"SUM({column})", helpers + 1
        ws[f"{COUNT_COLUMN}{row}"] = "=" + _in_language(count, lang)
    problems = [row for row, check in enumerate(checks, start=FIRST_CHECK_ROW) if not check.reminder]
    reminders = [row for row, check in enumerate(checks, start=FIRST_CHECK_ROW) if check.reminder]
    untouched = "+".join(f"{COUNT_COLUMN}{row}" for row, check in enumerate(checks, start=FIRST_CHECK_ROW)
                         if check.untouched) or "0"
    total = f"{COUNT_COLUMN}{STATUS_ROW}"
    ws[total] = f"=SUM({COUNT_COLUMN}{problems[0]}:{COUNT_COLUMN}{problems[-1]})"
    ws[total].font = Font(bold=True)
    ws.column_dimensions[COUNT_COLUMN].width = 10
    separator = say(lang, LIST_SEPARATOR)

    def where(rows: list[int]) -> str:  # the sheets with a count on one of `rows`, in the order of the checks
        by_sheet: dict[str, list[int]] = {}
        for row in rows:
            by_sheet.setdefault(checks[row - FIRST_CHECK_ROW].sheet_key, []).append(row)
        listed = "&".join(
            f"IF(SUM({','.join(f'{COUNT_COLUMN}{r}' for r in rows)})>0,{_text(schemas.returns.sheet(key).name(lang) + separator)},\"\")"
            for key, rows in by_sheet.items())
        return f"LEFT({listed},LEN({listed})-{len(separator)})"

    words = {count: say.plural(lang, "{problems} problem to fix, on: {sheets}. The cell is marked in red; "
                                     "correct it, then send the return.",
                               "{problems} problems to fix, on: {sheets}. The cells are marked in red; "
                               "correct them, then send the return.", count,
                               problems=_marker("problems"), sheets=_marker("sheets"))
             for count in (1, 2)}
    reminded = f"SUM({','.join(f'{COUNT_COLUMN}{r}' for r in reminders)})" if reminders else "0"
    noted = {count: say.plural(lang, "Ready to send. Check first the {cells} cell marked in yellow, on: {sheets}.",
                               "Ready to send. Check first the {cells} cells marked in yellow, on: {sheets}.", count,
                               cells=_marker("cells"), sheets=_marker("sheets"))
             for count in (1, 2)}
    ready = (f"IF({reminded}=0,{_text(say(lang, READY))},IF({reminded}=1,"
             f"{_formula_text(noted[1], cells=reminded, sheets=where(reminders))},"
             f"{_formula_text(noted[2], cells=reminded, sheets=where(reminders))}))") if reminders else _text(say(lang, READY))
    status = ws[f"{LABEL_COLUMN}{STATUS_ROW}"]
    status.value = (f"=IF({untouched}>0,{_text(say(lang, NOT_FILLED))},IF({total}=0,{ready},"
                    f"IF({total}=1,{_formula_text(words[1], problems=total, sheets=where(problems))},"
                    f"{_formula_text(words[2], problems=total, sheets=where(problems))})))")
    status.font = Font(bold=True, size=12)
    status.alignment = Alignment(wrap_text=True, vertical="center")
    # An untouched return is neither green nor red: nothing is wrong in it yet.
    ws.conditional_formatting.add(status.coordinate, FormulaRule(formula=[f"AND({untouched}=0,{total}=0)"],
                                                                 fill=GOOD_FILL, font=GOOD_FONT))
    ws.conditional_formatting.add(status.coordinate, FormulaRule(formula=[f"AND({untouched}=0,{total}>0)"],
                                                                 fill=BAD_FILL, font=BAD_FONT))
    for rows, fill, font in ((problems, BAD_FILL, BAD_FONT), (reminders, CHECK_FILL, CHECK_FONT)):
        if rows:
            first = f"{COUNT_COLUMN}{rows[0]}"
            ws.conditional_formatting.add(f"{first}:{COUNT_COLUMN}{rows[-1]}",
                                          FormulaRule(formula=[f"{first}>0"], fill=fill, font=font))

