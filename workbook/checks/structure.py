"""Sheets and headers: missing or extra sheets, header rows moved, renamed or translated.

Reported once per sheet or column, so a moved header is one finding, not a thousand cell errors.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..cells import column_letter
from ..findings import Finding
from ..i18n import Domain
from ..schema import LANGS, Field
from ..sheetio import SheetRead

say = Domain("checks")

RESULT_SHEET_NAMES = {"校验结果", "Validation"}
_LANG_NAMES = {"zh": say.later("Chinese"), "en": say.later("English")}


Names = dict[str, str] | dict[str, tuple[str, ...]]  # a name per language, or the names read (schema.names_read)


def _read_as(names: Names) -> dict[str, tuple[str, ...]]:
    return {lang: (named,) if isinstance(named, str) else named for lang, named in names.items()}


def check_sheet_set(titles: Iterable[str], expected: list[Names], lang: str,
                    optional: Iterable[Names] = ()) -> Iterator[Finding]:
    """A sheet under a former name (schema._former) is present, not missing and extra."""
    titles = list(titles)
    expected = [_read_as(names) for names in expected]
    known = {name.strip().casefold() for names in [*expected, *map(_read_as, optional)]
             for named in names.values() for name in named}
    present = {title.strip().casefold() for title in titles}
    for names in expected:
        if not any(name.strip().casefold() in present for named in names.values() for name in named):
            yield Finding("missing-sheet", params={"expected": names[lang][0]})
    for title in titles:
        if title.strip().casefold() not in known and title not in RESULT_SHEET_NAMES:
            yield Finding("extra-sheet", sheet=title)


def book_language(titles: Iterable[str], expected: list[Names]) -> str:
    """The language the workbook was made in, judged by its sheet names (former names too)."""
    titles = {t.strip().casefold() for t in titles}
    expected = [_read_as(names) for names in expected]
    votes = {lang: sum(any(name.casefold() in titles for name in names[lang]) for names in expected) for lang in LANGS}
    return max(LANGS, key=lambda lang: votes[lang])


def check_headers(read: SheetRead, fields: tuple[Field, ...], lang: str, book_lang: str) -> Iterator[Finding]:
    """`lang` is the language of the messages; `book_lang` the one the workbook was made in."""
    if read.title is None:
        return
    if read.header_row != 1 and read.columns:
        yield Finding("header-moved", sheet=read.title, row=read.header_row, params={"row": read.header_row})
    foreign = (read.header_langs & set(LANGS)) - {book_lang}
    if foreign and book_lang not in read.header_langs:
        other = foreign.pop()
        yield Finding("header-translated", sheet=read.title, row=read.header_row,
                      params={"found_lang": _LANG_NAMES[other]})
    unknown = dict(read.unknown_headers)
    positions = {f.key: i for i, f in enumerate(fields, start=1)}
    for field in read.missing:
        if field.added_later:
            continue  # a master written before the column existed: read without it (schema.Field.added_later)
        column = positions[field.key]
        if column in unknown:
            yield Finding("header-renamed", sheet=read.title, row=read.header_row, column=column_letter(column),
                          value=unknown.pop(column), params={"expected": field.label(lang)})
        else:
            yield Finding("missing-column", sheet=read.title, params={"expected": field.label(lang)})
    for column, text in unknown.items():
        yield Finding("unknown-column", sheet=read.title, row=read.header_row, column=column_letter(column),
                      value=text)
