"""The files a user pastes into xlwings Lite's editor: main.py and requirements.txt.

Lite runs Python in the browser (Pyodide) and calls `@script` functions with the Book; main.py
imports the very macros the desktop buttons run. What the files say to the person who pastes them
is in `lang`.
"""
from __future__ import annotations

from pathlib import Path

from ..workbook.i18n import Domain

say = Domain("addin")
LITE_SCRIPTS = ("validate",)  # the macros that need only the open workbook, not HOME's folders

MAIN_TEMPLATE = '''"""{title}"""
# {why}
from branchbook.addin.macros import {names}  # noqa: F401
'''

# What the Lite path imports (tests/test_macros.py checks the list against the modules a validation loads).
# No calamine and no watchdog: Lite validates the open workbook's values, and runs no service.
REQUIREMENTS = """{comment}
openpyxl
pyyaml
defusedxml
xlsxwriter
{wheel}
"""


def lite_main(lang: str = "zh") -> str:
    """main.py imports the scripts, already decorated with `xw.script` in macros.py: decorating them again
    here would make Lite's decorator wrap a coroutine that is never awaited (docs/design.md, "Buttons")."""
    title = say(lang, "BranchBook for xlwings Lite: paste into Lite's main.py. Made by `branchbook addin lite`.")
    why = say(lang, "The scripts are defined in branchbook; import them as they are and do not decorate them again.")
    return MAIN_TEMPLATE.format(title=title, why=why, names=", ".join(LITE_SCRIPTS))


def lite_requirements(wheel: str = "branchbook", lang: str = "zh") -> str:
    comment = say(lang, "xlwings Lite installs these in the browser. Serve the branchbook wheel from the office (e.g. "
                        "the file share's web address) and put its address on the last line.")
    return REQUIREMENTS.format(comment="# " + comment, wheel=wheel)


def write_lite_files(folder: Path, wheel: str = "branchbook", lang: str = "zh") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    main = folder / "main.py"
    main.write_text(lite_main(lang), encoding="utf-8")
    requirements = folder / "requirements.txt"
    requirements.write_text(lite_requirements(wheel, lang), encoding="utf-8")
    return [main, requirements]
