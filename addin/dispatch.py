"""The ribbon's one way into Python: BranchBook.xlam's callback passes a button's tag here.

The buttons are declared once, in customUI14.xml (shipped beside this module and built into the
add-in): a button's tag is the name of its function in addin/macros.py (docs/addin.md).
"""
from __future__ import annotations

import functools
import xml.etree.ElementTree as ElementTree
from importlib import resources

from ..workbook.i18n import Domain

say = Domain("addin")
RIBBON = "customUI14.xml"
CUSTOM_UI = "{http://schemas.microsoft.com/office/2009/07/customui}"


@functools.cache
def button_tags() -> tuple[str, ...]:
    """The tags of the ribbon's buttons, in their order on the tab."""
    root = ElementTree.fromstring(resources.files(__package__).joinpath(RIBBON).read_bytes())
    return tuple(button.get("tag") for button in root.iter(CUSTOM_UI + "button"))


def run(tag: str):
    """Run the button whose tag this is; a tag the installed BranchBook does not know (an add-in from
    another version) is said to the user, never raised."""
    from . import macros

    if tag not in button_tags():
        import xlwings as xw

        book = macros.target_book(xw.Book.caller())
        lang = macros.book_lang(book)
        book.app.alert(say(lang, "This button ({tag}) is not known to the installed BranchBook: "
                                 "run `branchbook addin install` again.", tag=tag),
                       title="BranchBook")
        return None
    return getattr(macros, tag)()
