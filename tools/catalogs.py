"""Keep the message catalogs: extract every message from the code, by domain, into
branchbook/locale/zh_CN/LC_MESSAGES/<domain>.po (keeping the translations already there), and
compile the .mo files the program reads.

    .venv/bin/python tools/catalogs.py          # extract, update .po, compile .mo
    .venv/bin/python tools/catalogs.py --domain flags   # the same for one area's catalog only
    .venv/bin/python tools/catalogs.py --check  # exit 1 if a message lacks Chinese or a .mo is stale

A module takes part by naming its area: `say = Domain("flags")`; its messages are the second
argument of `say(...)`, `say.plural(...)` (second and third), the first of `say.later(...)`, and any `N_("...")`.
"""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("workbook", "sync", "addin", "branchbook")
LOCALE = ROOT / "branchbook" / "locale" / "zh_CN" / "LC_MESSAGES"
KEYWORDS = {"say": (2,), "plural": (2, 3), "later": (1,), "N_": None}
_DOMAIN = re.compile(r"""^say = Domain\(["'](\w+)["']\)""", re.MULTILINE)


def extracted() -> dict[str, dict[str, list[tuple[str, int]]]]:
    """domain -> message -> where it stands."""
    found: dict[str, dict[str, list[tuple[str, int]]]] = {}
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            match = _DOMAIN.search(source)
            if not match:
                continue
            messages = found.setdefault(match.group(1), {})
            with path.open("rb") as handle:
                for line, text, _, _ in extract("python", handle, KEYWORDS, [], {}):
                    # a plural's singular and plural forms stay one message (a tuple), as ngettext asks
                    messages.setdefault(text, []).append((str(path.relative_to(ROOT)), line))
    return found


def _read(path: Path) -> Catalog:
    if not path.exists():
        return Catalog(locale="zh_CN", domain=path.stem)
    with path.open("rb") as handle:
        return read_po(handle, locale="zh_CN")


def _mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _translations(catalog: Catalog) -> dict:
    """What a .mo says: each message's id and Chinese (its bytes differ between Babel versions)."""
    def same(text):  # a plural is a tuple from a .po, a list from a .mo
        return tuple(text) if isinstance(text, (list, tuple)) else text
    return {same(m.id): same(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def _compiled(mo: Path) -> dict:
    with mo.open("rb") as handle:
        return _translations(read_mo(handle))


def update(only: str | None = None) -> None:
    LOCALE.mkdir(parents=True, exist_ok=True)
    for domain, messages in sorted(extracted().items()):
        if only and domain != only:
            continue
        path = LOCALE / f"{domain}.po"
        old = _read(path)
        # the .po's date kept: a catalog whose messages did not change is written byte for byte as it was
        catalog = Catalog(locale="zh_CN", domain=domain, project="BranchBook", fuzzy=False,
                          creation_date=old.creation_date if path.exists() else None)
        for text, places in messages.items():
            known = old.get(text)
            empty = ("", "") if isinstance(text, tuple) else ""
            catalog.add(text, known.string if known else empty, locations=places)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=120, sort_output=True, no_location=True)  # no churn when code moves
        (LOCALE / f"{domain}.mo").write_bytes(_mo_bytes(catalog))
        missing = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]
        print(f"{domain}: {len(messages)} messages, {len(missing)} without Chinese")


def problems() -> list[str]:
    found = []
    for domain, messages in sorted(extracted().items()):
        path = LOCALE / f"{domain}.po"
        catalog = _read(path)
        for text, places in messages.items():
            entry = catalog.get(text)
            if entry is None or not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
                found.append(f"{places[0][0]}:{places[0][1]}: no Chinese for {text!r} ({domain}.po)")
        mo = LOCALE / f"{domain}.mo"
        if not mo.exists() or _compiled(mo) != _translations(catalog):
            found.append(f"{mo.relative_to(ROOT)} is not compiled from {path.name}: run tools/catalogs.py")
    return found


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        errors = problems()
        print("\n".join(errors) or "catalogs complete")
        raise SystemExit(1 if errors else 0)
    update(sys.argv[2] if sys.argv[1:2] == ["--domain"] else None)
