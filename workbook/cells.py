"""One field's value between Python and an Excel cell, both ways.

Writing shows codes as labels in the workbook's language and keeps untrusted text as text;
reading accepts what people and other spreadsheet programs really type.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from itertools import filterfalse
from math import copysign, isfinite
from operator import is_
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from .schema import Field

EXCEL_EPOCH = date(1899, 12, 30)
DATE_FORMAT = "yyyy-mm-dd"
# Serial numbers a date cell may hold when a program wrote it without a date format.
_PLAUSIBLE_SERIALS = range(20_000, 80_000)
_DATE_PATTERN = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")
# Text starting with one of these is taken as a formula or an error by Excel (docs/hazards.md 16).
FORMULA_STARTS = ("=", "+", "-", "@", "#")


class BadValue(ValueError):
    """A cell whose content does not fit the field; `kind` is the finding code (type or enum)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def column_letter(index: int) -> str:
    """The letters of a 1-based column (XlsxWriter's helper: openpyxl's costs a tenth of a second to import)."""
    return xl_col_to_name(index - 1)


def timestamp_text(moment: datetime) -> str:
    """A moment as text for a cell. A space, not ISO's "T": xlwings' remote engine (Lite, Server)
    takes ISO-looking text for a datetime and cuts its last character."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


_MOMENT = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)", re.ASCII)


def moment_of(text: str) -> datetime | None:
    """The moment a timestamp_text stands for, or None. Text as timestamp_text writes it is read by its digits
    (strptime costs some ten times more: 周报 has a few for each of its thousand rows); anything else as strptime
    reads it."""
    found = _MOMENT.fullmatch(text) if type(text) is str else None
    if found is not None:
        try:
            return datetime(*map(int, found.groups()))
        except ValueError:
            pass  # no such day or time: strptime says so
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def as_day(value: Any) -> date | None:
    """The calendar day a parsed cell or a stored timestamp stands for, or None."""
    if type(value) is date:  # the common case first: the flags and the dashboard ask this some 100,000 times
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def excel_serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


def to_cell(field: Field, value: Any, lang: str) -> Any:
    """The value to put in a cell for this field."""
    if value is None or value == "":
        return None
    if field.type == "enum" and field.codes is not None:
        return field.codes.label(value, lang)
    if field.type == "datetime" and isinstance(value, str):
        return moment_of(value) or value  # an Excel date and time, as the master's writer shows it
    return value


def put(cell: Any, value: Any) -> None:
    """Assign a value, keeping any text as text: `=HYPERLINK(..)` from a return must not become live."""
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse(field: Field, raw: Any) -> Any:
    """The Python value of a cell for this field, None when blank; BadValue when it does not fit."""
    if is_blank(raw):
        return None
    if field.type == "string":
        return _text(raw)
    if field.type == "integer":
        number = _number(raw)
        if not float(number).is_integer():
            raise BadValue("type")
        return int(number)
    if field.type == "number":
        return _number(raw)
    if field.type == "date":
        return _date(raw)
    if field.type == "datetime":
        return _moment(raw)
    if field.type == "enum" and field.codes is not None:
        code = field.codes.parse(raw)
        if code is None:
            raise BadValue("enum")
        return code
    raise BadValue("type")


def _parse_or_bad(field: Field, raw: Any) -> Any:
    try:
        return parse(field, raw)
    except BadValue as bad:
        return bad


def _same(one: Any, other: Any) -> bool:
    if isinstance(one, BadValue) or isinstance(other, BadValue):
        return isinstance(one, BadValue) and isinstance(other, BadValue) and one.kind == other.kind
    return type(one) is type(other) and repr(one) == repr(other)


_NUMBER_KINDS = (bool, int, float)


def parse_column(field: Field, values: list[Any], distinct: set[Any] | None = None) -> tuple[list[Any], list[Any]]:
    """`parse` of each value of a column, each distinct value parsed once (a column of 800,000 attendance
    rows holds a few thousand). Returns the results, a BadValue in place of a value that does not fit,
    and the distinct results; the results are `values` itself when every value parses to itself (ids
    without spaces around them, the numbers of a number field). Python takes some unlike values as
    equal (1, 1.0 and True; 0.0 and -0.0): where those could parse differently, they are told apart.
    `distinct`, the set of the values when known, saves making it again."""
    if not values:
        return values, []
    try:
        distinct = set(values) if distinct is None else distinct
    except TypeError:  # an unhashable value (never from a file): one by one
        results = [_parse_or_bad(field, raw) for raw in values]
        return results, results
    if field.type == "string":  # text as parse() makes it, without its checks for each value
        memo = {raw: (raw.strip() or None) if type(raw) is str else _parse_or_bad(field, raw) for raw in distinct}
    else:
        memo = {raw: _parse_or_bad(field, raw) for raw in distinct}
    if any(issubclass(kind, _NUMBER_KINDS) for kind in set(map(type, distinct))):
        kinds = {kind for kind in set(map(type, values)) if issubclass(kind, _NUMBER_KINDS)}
        if len(kinds) > 1:
            keyed: dict[tuple, Any] = {}
            results = []
            for raw in values:
                key = (type(raw), raw, repr(raw) if isinstance(raw, _NUMBER_KINDS) else "")
                if key not in keyed:
                    keyed[key] = _parse_or_bad(field, raw)
                results.append(keyed[key])
            return results, list(keyed.values())
        if kinds == {float} and 0.0 in memo:
            positive, negative = _parse_or_bad(field, 0.0), _parse_or_bad(field, -0.0)
            # A number keeps its sign: where a -0.0 is among the zeros (the falsy values), tell them apart.
            if not _same(positive, negative) and \
                    any(raw.__class__ is float and copysign(1.0, raw) < 0 for raw in filterfalse(None, values)):
                results = [memo[raw] if raw != 0 else positive if copysign(1.0, raw) > 0 else negative
                           for raw in values]
                return results, [*memo.values(), positive, negative]
    if all(map(is_, memo, memo.values())):  # each value parses to itself
        return values, list(memo.values())
    return list(map(memo.__getitem__, values)), list(memo.values())


def _text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # an id typed as a number comes back as 1001.0
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    return str(raw).strip()


def _number(raw: Any) -> float | int:
    if isinstance(raw, bool):
        raise BadValue("type")
    if isinstance(raw, (int, float)):
        return raw
    if isinstance(raw, str):
        try:
            value = float(raw.strip().translate(_FULL_WIDTH))
        except ValueError:
            raise BadValue("type") from None
        return int(value) if value.is_integer() else value
    raise BadValue("type")


def _is_serial(raw: Any) -> bool:
    """An Excel date serial of a plausible day; not infinity or NaN, which no Excel writes but a file made
    by another program can carry."""
    return isinstance(raw, (int, float)) and not isinstance(raw, bool) and isfinite(raw) and \
        int(raw) in _PLAUSIBLE_SERIALS


def _moment(raw: Any) -> str:
    """A moment as the ledger keeps it (timestamp_text), from an Excel date and time or such text."""
    if isinstance(raw, datetime):
        return timestamp_text(raw)
    if isinstance(raw, date):
        return timestamp_text(datetime.combine(raw, datetime.min.time()))
    if _is_serial(raw):
        return timestamp_text(datetime.combine(EXCEL_EPOCH, datetime.min.time()) + timedelta(days=raw))
    if isinstance(raw, str):
        text = raw.strip().replace("T", " ")
        moment = moment_of(text[:19]) if len(text) >= 19 else None
        if moment is not None:
            return timestamp_text(moment)
        return timestamp_text(datetime.combine(_date(text), datetime.min.time()))
    raise BadValue("type")


def _date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if _is_serial(raw):
        return EXCEL_EPOCH + timedelta(days=int(raw))
    if isinstance(raw, str):
        match = _DATE_PATTERN.match(raw.translate(_FULL_WIDTH))
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                pass
    raise BadValue("type")
