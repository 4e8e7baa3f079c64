"""Words at the edges: every sentence a person reads is rendered here, from a gettext catalog.

The core carries codes and values; where a person reads them (the CLI, a report, a mail, a
workbook, a button) they are rendered once, in the HOME's language. Messages are written in
English in the code (the msgid), each marked with `N_` or passed straight to `text`, so that
Babel finds them (`tools/catalogs.py`); `branchbook/locale/zh_CN/LC_MESSAGES/<domain>.po` holds
the Chinese. English needs no catalog: the msgid is the English text.

One domain per area (checks, flags, service, cli, reports, workbook, demo), so that each area's
catalog can be kept by whoever keeps the area.
"""
from __future__ import annotations

import functools
import gettext
from importlib import resources
from typing import Any

LANGS = ("zh", "en")
LOCALES = {"zh": "zh_CN", "en": "en"}
DOMAINS = ("checks", "flags", "service", "cli", "reports", "workbook", "demo", "addin", "mail")


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for extraction, translate later"
    return message


@functools.cache
def _catalog(domain: str, lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    folder = resources.files("branchbook").joinpath("locale")
    return gettext.translation(domain, str(folder), languages=[LOCALES[lang]])


def text(lang: str, domain: str, message: str, /, **values: Any) -> str:
    """`message` (English, with {named} values) in `lang`, its values filled in (Words and lists rendered)."""
    return _catalog(domain, lang).gettext(message).format(**{k: rendered(v, lang) for k, v in values.items()})


def raw(lang: str, domain: str, message: str) -> str:
    """The catalog's text for `message`, values left unfilled (for a library that fills them itself)."""
    return _catalog(domain, lang).gettext(message)


def plural(lang: str, domain: str, singular: str, many: str, count: int, /, **values: Any) -> str:
    return _catalog(domain, lang).ngettext(singular, many, count).format(count=count, **values)


class Words:
    """Words to be rendered later, in the reader's language (a value of an error, say)."""

    def __init__(self, domain: str, message: str, values: dict[str, Any]):
        self.domain, self.message, self.values = domain, message, values

    def render(self, lang: str) -> str:
        return text(lang, self.domain, self.message, **{k: rendered(v, lang) for k, v in self.values.items()})

    def __repr__(self) -> str:
        return f"Words({self.message!r})"


def rendered(value: Any, lang: str) -> Any:
    """A value for a message: Words rendered, a list joined the language's way, anything else as it is."""
    if isinstance(value, Words):
        return value.render(lang)
    if hasattr(value, "message"):  # a finding, an error: words itself
        return value.message(lang)
    if isinstance(value, (list, tuple)):
        return text(lang, "workbook", LIST_SEPARATOR).join(str(rendered(v, lang)) for v in value)
    return value


class Named:
    """A name given in each language (a sheet's, from schemas/), chosen when the reader's language is known."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def message(self, lang: str) -> str:
        return self.names[lang]


class Domain:
    """`say = Domain("flags")` then `say(lang, "Message {x}", x=1)` within a module of that area;
    `say.later("Message {x}", x=1)` for words rendered when the reader's language is known."""

    def __init__(self, name: str):
        if name not in DOMAINS:
            raise ValueError(f"unknown message domain {name!r}")
        self.name = name

    def __call__(self, lang: str, message: str, /, **values: Any) -> str:
        return text(lang, self.name, message, **values)

    def plural(self, lang: str, singular: str, many: str, count: int, /, **values: Any) -> str:
        return plural(lang, self.name, singular, many, count, **values)

    def later(self, message: str, /, **values: Any) -> Words:
        return Words(self.name, message, values)


say = Domain("workbook")  # this module's own words
LIST_SEPARATOR = N_(", ")
