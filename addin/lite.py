"""The files a user pastes into xlwings Lite's editor: main.py and requirements.txt.

Lite runs Python in the browser (Pyodide) and calls `@script` functions with the Book; main.py
imports the very macros the desktop buttons run. What the files say to the person who pastes them
is in `lang`. The branchbook wheel is on no public index: requirements.txt names it by a web
address the browser can fetch (docs/windows-setup.md, "xlwings Lite").
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, requires
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import Requirement

from ..workbook.errors import UserError
from ..workbook.i18n import N_, Domain

say = Domain("addin")
LITE_SCRIPTS = ("validate",)  # the macros that need only the open workbook, not HOME's folders
LITE_FILES = ("main.py", "requirements.txt")
# The marker environment of a browser Python (Pyodide), as micropip judges a wheel's requirements there.
BROWSER = {"sys_platform": "emscripten", "platform_system": "Emscripten", "extra": ""}

MESSAGES = {
    "no-wheel": N_("Give the web address of the branchbook wheel: --wheel https://…/branchbook-….whl. xlwings Lite "
                   "installs it in the browser, and branchbook is on no public package index."),
    "wheel-not-web": N_("--wheel {wheel} is not a web address: the browser that runs xlwings Lite cannot open a file on "
                        "this computer. Put the wheel where the office's web server (or file share's web address) serves "
                        "it, and give that address (http:// or https://)."),
    "files-exist": N_("{folder} already has {names}: nothing was changed. Choose another folder, or add --force to "
                      "replace them."),
}

MAIN_TEMPLATE = '''"""{title}"""
# {why}
from branchbook.addin.macros import {names}  # noqa: F401
'''


class LiteError(UserError):
    """Why the Lite files were not written (the CLI shows it, exit code 2)."""

    def message(self, lang: str = "zh") -> str:
        return say(lang, MESSAGES[self.key], **self.values)


def browser_requirements(lines: list[str]) -> tuple[list[Requirement], list[Requirement]]:
    """A package's requirements split by a browser's environment: those micropip installs there, and those
    its markers leave out (no browser wheel); requirements of an extra are in neither."""
    installed, left_out = [], []
    for requirement in map(Requirement, lines):
        if requirement.marker is None or requirement.marker.evaluate(BROWSER):
            installed.append(requirement)
        elif "extra" not in str(requirement.marker):
            left_out.append(requirement)
    return installed, left_out


def lite_main(lang: str = "zh") -> str:
    """main.py imports the scripts, already decorated with `xw.script` in macros.py: decorating them again
    here would make Lite's decorator wrap a coroutine that is never awaited (docs/design.md, "Buttons")."""
    title = say(lang, "BranchBook for xlwings Lite: paste into Lite's main.py. Made by `branchbook addin lite`.")
    why = say(lang, "The scripts are defined in branchbook; import them as they are and do not decorate them again.")
    return MAIN_TEMPLATE.format(title=title, why=why, names=", ".join(LITE_SCRIPTS))


def lite_requirements(wheel: str, lang: str = "zh") -> str:
    """branchbook's own requirements that a browser installs (from the installed package's metadata, markers
    judged as Pyodide judges them), then the wheel's address. micropip would read the first from the wheel
    too; listed, the person pasting sees what Lite will fetch."""
    lines = ["# " + say(lang, "xlwings Lite installs these in the browser: branchbook's requirements, then the "
                              "branchbook wheel from the office's web address (last line).")]
    try:
        installed, _ = browser_requirements(requires("branchbook") or [])
    except PackageNotFoundError:  # run from a source tree that was never installed: no metadata to read
        lines.append("# " + say(lang, "branchbook's requirements could not be read here (it is not installed); "
                                      "xlwings Lite reads them from the wheel."))
        installed = []
    for requirement in installed:
        requirement.marker = None  # judged already, for the browser
        lines.append(str(requirement))
    return "\n".join([*lines, wheel]) + "\n"


def _web_address(wheel: str | None) -> str:
    if not wheel:
        raise LiteError("no-wheel")
    parts = urlsplit(wheel)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise LiteError("wheel-not-web", wheel=wheel)
    return wheel


def write_lite_files(folder: Path, wheel: str | None, lang: str = "zh", force: bool = False) -> list[Path]:
    """main.py and requirements.txt in folder; files already there are replaced only with force."""
    wheel = _web_address(wheel)
    paths = [folder / name for name in LITE_FILES]
    there = [path.name for path in paths if path.exists()]
    if there and not force:
        raise LiteError("files-exist", folder=str(folder), names=say(lang, ", ").join(there))
    folder.mkdir(parents=True, exist_ok=True)
    paths[0].write_text(lite_main(lang), encoding="utf-8")
    paths[1].write_text(lite_requirements(wheel, lang), encoding="utf-8")
    return paths


def next_steps(wheel: str, lang: str = "zh") -> list[str]:
    """What the person does with the two files (docs/windows-setup.md, "xlwings Lite")."""
    return [say(lang, "Next:"),
            "  " + say(lang, "1. In Excel, open the xlwings Lite add-in and paste main.py over the code in its main.py "
                             "editor."),
            "  " + say(lang, "2. Paste requirements.txt into its requirements.txt tab: Lite installs them in the browser "
                             "(this needs the internet)."),
            "  " + say(lang, "3. The browser must reach {wheel}: put the branchbook wheel there (the office's web server).",
                       wheel=wheel),
            "  " + say(lang, "4. Open a return and run validate from Lite's script list.")]
