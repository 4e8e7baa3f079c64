"""The buttons' code, written once against the `xlwings.Book` API.

Every macro takes the Book it acts on; called without one (classic desktop xlwings, RunPython)
it uses `xw.Book.caller()`. `xw.script` marks them, here and only here, for xlwings Lite and for
Import Functions (Lite's main.py imports them as they are). Each is thin: read the book's values,
call the core, write the result back, say it in an alert, return None (docs/design.md, "Buttons").
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import xlwings as xw

from ..workbook.annotate import RESULT_HEADERS, RESULT_SHEET, result_rows
from ..workbook.errors import UserError
from ..workbook.findings import Report
from ..workbook.i18n import Domain
from ..workbook.sheetio import ValuesSheet
from ..workbook.validation import validate_sheets
from .marks import clear_marks, mark

say = Domain("addin")
ADDIN_SUFFIXES = (".xlam", ".xla")
HOME_VARIABLE = "BRANCHBOOK_HOME"  # where Excel cannot tell us the workbook's folder (xlwings Lite/Server)


def target_book(caller: xw.Book) -> xw.Book:
    """The workbook a button means: the caller, unless the caller is the add-in itself, whose
    `Book.caller()` is the .xlam and not the sheet the secretary is looking at."""
    if caller.name.lower().endswith(ADDIN_SUFFIXES):
        return caller.app.books.active
    return caller


def _book(book: xw.Book | None) -> xw.Book:
    return target_book(book if book is not None else xw.Book.caller())


def book_lang(book: xw.Book) -> str:
    """The language the book's sheets are named in (what a button writes into it follows this)."""
    names = {s.name for s in book.sheets}
    return "en" if "_meta" in names or "Members" in names else "zh"


def _alert(book: xw.Book, text: str) -> None:
    book.app.alert(text, title="BranchBook")


def guarded(macro):
    """A button never shows a traceback: an unexpected failure is logged (the HOME's errors log) and said in
    a sentence with where the details are (docs/design.md, "The service")."""

    @functools.wraps(macro)
    def run(*args, **kwargs):
        try:
            return macro(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the one place a button's unexpected failure becomes a sentence
            from ..sync.logs import write_failure
            from ..sync.status import failure_kind

            book = _book(args[0] if args else kwargs.get("book"))
            try:
                root = home_of(book)
            except NoHomeFolder:
                root = None
            details = write_failure(root if root and (root / "branchbook.yaml").is_file() else None,
                                    "button " + macro.__name__)
            lang = book_lang(book)
            if failure_kind(error) == "disk-full":
                text = say(lang, "The disk is full: the button did not finish. Free some space and try again. "
                                 "Details: {log}", log=details or "-")
            else:
                text = say(lang, "BranchBook failed unexpectedly and did not finish. The details are in {log}: please "
                                 "send that file to whoever maintains BranchBook.", log=details or "-")
            _alert(book, text)
            return None

    return run


def _as_rows(values) -> list[list]:
    if values is None:
        return []
    if not isinstance(values, list):
        return [[values]]
    if values and not isinstance(values[0], list):
        return [values]
    return values


def book_sheets(book: xw.Book) -> list[ValuesSheet]:
    """Each sheet's values from A1, as the core's readers want them."""
    sheets = []
    for sheet in book.sheets:
        if sheet.name in RESULT_SHEET.values():
            continue
        last = sheet.used_range.last_cell
        values = sheet.range((1, 1), (last.row, last.column)).value
        sheets.append(ValuesSheet(sheet.name, _as_rows(values)))
    return sheets


def _clear_marks(book: xw.Book) -> None:
    """Undo an earlier run: its 校验结果 sheet lists the cells it coloured and noted."""
    names = {s.name for s in book.sheets}
    for title in RESULT_SHEET.values():
        if title not in names:
            continue
        result = book.sheets[title]
        clear_marks(book, _as_rows(result.used_range.value)[1:])
        result.delete()


def _write_results(book: xw.Book, report: Report, lang: str, noted: set[int]) -> None:
    sheet = book.sheets.add(RESULT_SHEET[lang], before=book.sheets[0])
    yes = say(lang, "yes")
    rows = [[*row, yes if number in noted else ""] for number, row in enumerate(result_rows(report, lang))]
    sheet["A1"].value = [[*RESULT_HEADERS[lang], say(lang, "Note added")], *rows]
    for row, finding in enumerate(report.findings, start=2):
        if finding.cell:
            sheet[f"C{row}"].add_hyperlink(f"#'{finding.sheet}'!{finding.cell}", finding.cell)


@xw.script
@guarded
def validate(book: xw.Book | None = None) -> None:
    """The Validate button: clear earlier marks, mark each finding, list them, say how it went.
    Returns None: every xlwings path (RunPython, Import Functions, Lite) can marshal it."""
    book = _book(book)
    lang = book_lang(book)
    _clear_marks(book)
    report = validate_sheets(book_sheets(book), lang)
    noted, unmarked = mark(book, report, lang)
    if report.findings:
        _write_results(book, report, lang, noted)
    text = report.summary(lang)
    if unmarked:
        text += "\n" + say(lang, "Protected sheets cannot be coloured from here ({sheets}): the sheet {result} lists "
                                 "their problems, each with a link to its cell.",
                           sheets=sorted(unmarked), result=RESULT_SHEET[lang])
    _alert(book, text)


class NoHomeFolder(Exception):
    """Excel cannot tell where the master is, and BRANCHBOOK_HOME does not say either."""

    def message(self, lang: str = "zh") -> str:
        return say(lang, "Cannot find the master's folder: open the master in desktop Excel, or set the "
                         "environment variable {variable}.", variable=HOME_VARIABLE)

    def __str__(self) -> str:
        return self.message("zh")


def home_of(book: xw.Book) -> Path:
    """The HOME folder of a master: beside the file in desktop Excel, else from BRANCHBOOK_HOME."""
    full = Path(book.fullname)
    if full.is_absolute() and full.parent.exists():
        return full.parent
    if os.environ.get(HOME_VARIABLE):
        return Path(os.environ[HOME_VARIABLE])
    raise NoHomeFolder()


def _open_home(book: xw.Book):
    """The master's HOME; a missing folder or a bad branchbook.yaml raises what the user is to be told."""
    from ..workbook.home import Home

    return Home.open(home_of(book))


def _cannot(book: xw.Book, error: UserError | NoHomeFolder, lang: str) -> None:
    """What the user must act on, as an alert (never a traceback)."""
    _alert(book, error.message(lang))


def book_tables(book: xw.Book) -> dict[str, list[dict]]:
    """The master's records as the open workbook holds them (unsaved edits included)."""
    from ..workbook.schema import load_schemas
    from ..workbook.sheetio import read_sheet_records

    sheets = book_sheets(book)
    return {sheet.key: read_sheet_records(sheets, sheet).records for sheet in load_schemas().master}


def write_sheet(book: xw.Book, sheet_key: str, rows: list[dict], lang: str) -> None:
    """Replace one master sheet's values in the open workbook, header included."""
    from ..workbook.master import sheet_values
    from ..workbook.schema import load_schemas

    schema = load_schemas().sheet(sheet_key)
    known = {name.strip().casefold() for name in schema.names_read()[lang]}  # a master written before a rename too
    sheet = next(s for s in book.sheets if s.name.strip().casefold() in known)
    last = sheet.used_range.last_cell
    if last.row > 1:
        sheet.range((2, 1), (last.row, max(last.column, len(schema.fields)))).clear_contents()
    sheet["A1"].value = sheet_values(schema, rows, lang)


def _home_config(book: xw.Book):
    """The master's HOME, or None for a master opened outside any HOME (it still gets today's flags).
    A HOME whose branchbook.yaml is wrong is not passed over: its UserError reaches the user."""
    try:
        return _open_home(book)
    except NoHomeFolder:
        return None
    except UserError as error:
        if error.key == "home-missing":
            return None
        raise


def _refresh_dashboard(book: xw.Book, tables: dict, day, flags, lang: str) -> None:
    """New figures into the dashboard's tables; its charts, which point at them, follow."""
    from ..workbook.reports.dashboard import HEADER_ROW, SHEET_NAME, branch_rows, columns, trend_first_row
    from ..workbook.reports.progress import compute_progress

    if SHEET_NAME[lang] not in {s.name for s in book.sheets}:
        return
    progress = compute_progress(tables, day, flags=flags)
    sheet = book.sheets[SHEET_NAME[lang]]
    rows = branch_rows(progress, lang)
    # the header too: a sheet drawn in phase 1 gains the phase-2/3 columns once the day reaches phase 2
    sheet.range((HEADER_ROW, 1)).value = [list(columns(progress, lang))]
    if rows:
        sheet.range((HEADER_ROW + 1, 1)).value = rows
    if progress.weeks:
        sheet.range((trend_first_row(len(rows)), 1)).value = [[w.week, w.returns, w.attendance_rate] for w in progress.weeks]


@xw.script
@guarded
def refresh_flags(book: xw.Book | None = None) -> None:
    """The Refresh flags button: recompute who falls behind from the open master."""
    from datetime import date

    from ..workbook.flag_history import by_level
    from ..workbook.flags import compute_flags, flag_rows

    book = _book(book)
    lang = book_lang(book)
    try:
        home = _home_config(book)
    except UserError as error:
        _cannot(book, error, lang)
        return
    tables = book_tables(book)
    day = home.as_of if home else date.today()
    flags = by_level(compute_flags(tables, day))  # no ledger here: no history, each flag as if new
    write_sheet(book, "flags", flag_rows(flags, lang), lang)
    _refresh_dashboard(book, tables, day, flags, lang)
    _alert(book, say(home.lang if home else lang, "Refreshed the flags: {count} in all.", count=len(flags)))


@xw.script
@guarded
def merge_now(book: xw.Book | None = None) -> None:
    """The Merge now button: the same merge, lock and ledger as the service, shown in the open master.

    The master is open in Excel, so it cannot be replaced: the button saves it (the office's edits
    go into the ledger first), merges inbox/ into the ledger, writes the changed sheets into the
    open workbook and saves it again, which makes it the ledger's face."""
    from ..sync.inbox import inbox_files
    from ..sync.pipeline import Incoming, process
    from ..sync.writer import writing
    from ..workbook import flag_history
    from ..workbook.books import EXPORTED_SEQ, open_ledger, record_master
    from ..workbook.flags import compute_flags, flag_rows
    from ..workbook.merge import merged_sheets
    from ..workbook.reports.summaries import outcome_line

    book = _book(book)
    lang = book_lang(book)
    try:
        home = _open_home(book)
    except (UserError, NoHomeFolder) as error:
        _cannot(book, error, lang)
        return
    items = [Incoming.at(path) for path in inbox_files(home.folder("inbox"))]
    if not items:
        _alert(book, say(home.lang, "Nothing to merge in inbox/."))
        return
    who = say(home.lang, "Merge now in Excel")
    with writing(home, who):
        book.save()
        result = process(home, items, export=False, who=who)
        with open_ledger(home) as ledger:
            tables = ledger.tables()
            raised = compute_flags(tables, home.as_of, ledger.schemas)
            flags, cleared = flag_history.keep(ledger, tables, raised, home.as_of, ledger.schemas)
            tables["flags"] = flag_rows(flag_history.by_level([*flags, *cleared]), lang)
            for key in (*merged_sheets(ledger.schemas), "returns", "flags"):
                write_sheet(book, key, tables[key], lang)
            _refresh_dashboard(book, tables, home.as_of, flags, lang)
            book.save()
            with ledger.transaction():
                ledger.replace_all("flags", tables["flags"])
                record_master(home, ledger)
                ledger.set_meta(EXPORTED_SEQ, str(ledger.last_seq()))
    _alert(book, "\n".join(outcome_line(o, lang=home.lang) for o in result.outcomes))


@xw.script
@guarded
def bulletin(book: xw.Book | None = None, fmt: str = "docx") -> None:
    """The Bulletin button: this week's 简报 from the master, into outbox/."""
    from ..sync.reports import publish_bulletin

    book = _book(book)
    try:
        home = _open_home(book)
        path = publish_bulletin(home, fmt=fmt)
    except (UserError, NoHomeFolder) as error:
        _cannot(book, error, book_lang(book))
        return
    _alert(book, say(home.lang, "The bulletin is made: {name} (in the outbox folder)", name=path.name))


@xw.script
@guarded
def make_returns(book: xw.Book | None = None) -> None:
    """The Make returns button on the master: this week's returns into outbox/."""
    from ..workbook.office import make_returns as make

    book = _book(book)
    try:
        home = _open_home(book)
        made = list(make(home).values())
    except (UserError, NoHomeFolder) as error:
        _cannot(book, error, book_lang(book))
        return
    _alert(book, say(home.lang, "Returns made, in the outbox folder: {count}.", count=len(made)))


