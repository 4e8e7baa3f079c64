"""`branchbook addin install` / `remove` on the office PC (docs/addin.md).

Install puts BranchBook.xlam in Excel's start-up folder (%APPDATA%\\Microsoft\\Excel\\XLSTART, which
Excel trusts and opens at every start) and sets xlwings' INTERPRETER_WIN, in the user's
~/.xlwings/xlwings.conf, to this Python (the add-in's VBA reads that file, as xlwings does). What it
found before is kept in a record beside that file, so that remove undoes exactly what install did.
The folders are parameters: tests give a fake APPDATA and home; a real Windows PC is the check.
"""
from __future__ import annotations

import json
import locale
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..workbook.i18n import N_, Domain

say = Domain("addin")
ADDIN_NAME = "BranchBook.xlam"
INTERPRETER_KEY = "INTERPRETER_WIN"
RECORD_NAME = "branchbook-addin.json"

MESSAGES = {  # code -> message (English; the Chinese is in the addin catalog)
    "copied": N_("Put the add-in in Excel's start-up folder: {path}"),
    "replaced": N_("Replaced the add-in in Excel's start-up folder with this version: {path}"),
    "interpreter-set": N_("Set the Python the buttons run ({key}) to {python}, in {conf}"),
    "interpreter-kept": N_("The Python the buttons run ({key}) is already {python}, in {conf}"),
    "restart": N_("Close every Excel window and open Excel again: the 台账 tab appears in the ribbon."),
    "addin-removed": N_("Removed the add-in from Excel's start-up folder: {path}"),
    "interpreter-restored": N_("Put back the Python setting that was there before ({line}), in {conf}"),
    "interpreter-removed": N_("Removed the Python setting ({key}) from {conf}"),
    "nothing-installed": N_("The add-in is not installed here (no {record}): nothing was changed."),
    "not-windows": N_("This is not Windows: {key} now names a Python of this computer ({python}), which serves a test only."),
    "no-appdata": N_("Cannot find Excel's start-up folder: the APPDATA environment variable is not set. Run this "
                     "command on the office's Windows PC."),
}


@dataclass(frozen=True)
class Done:
    """One thing install or remove did (or found), as a code and its values."""

    code: str
    values: dict = field(default_factory=dict)

    def message(self, lang: str) -> str:
        return say(lang, MESSAGES[self.code], **self.values)


class AddinInstallError(Exception):
    def __init__(self, code: str, **values):
        super().__init__(code)
        self.code, self.values = code, values

    def message(self, lang: str = "zh") -> str:
        return say(lang, MESSAGES[self.code], **self.values)


@dataclass(frozen=True)
class Places:
    """Where install writes: Excel's start-up folder and xlwings' user config file."""

    appdata: Path
    home: Path
    encoding: str = field(default_factory=locale.getencoding)  # the VBA reads the file in Windows' ANSI code page (936 in China)

    @classmethod
    def of_this_pc(cls, environ: dict) -> Places:
        if not environ.get("APPDATA"):
            raise AddinInstallError("no-appdata")
        # xlwings' ~ on Windows is %USERPROFILE% (docs/addin.md); where it is not set, the home folder.
        return cls(Path(environ["APPDATA"]), Path(environ.get("USERPROFILE") or Path.home()))

    @property
    def xlstart(self) -> Path:
        return self.appdata / "Microsoft" / "Excel" / "XLSTART"

    @property
    def addin(self) -> Path:
        return self.xlstart / ADDIN_NAME

    @property
    def conf(self) -> Path:
        return self.home / ".xlwings" / "xlwings.conf"  # xlwings.USER_CONFIG_FILE on Windows

    @property
    def record(self) -> Path:
        return self.conf.parent / RECORD_NAME


def shipped_addin() -> Path:
    return Path(str(resources.files(__package__).joinpath(ADDIN_NAME)))


def _key_of(line: str) -> str:
    return line.split(",", 1)[0].strip().strip('"')


def _conf_lines(places: Places) -> list[str]:
    """The config file's lines with their endings; surrogateescape gives other settings back byte for byte."""
    if not places.conf.exists():
        return []
    return places.conf.read_bytes().decode(places.encoding, errors="surrogateescape").splitlines(keepends=True)


def _interpreter_line(places: Places) -> str | None:
    """The line xlwings' VBA reads the key from (the first: it stops there)."""
    found = [line for line in _conf_lines(places) if _key_of(line) == INTERPRETER_KEY]
    return found[0] if found else None


def _put_interpreter_line(places: Places, new: str | None) -> None:
    """The key's line replaced where it is, added at the end, or (new None) taken out; other lines untouched.
    A line written anew ends as the file's lines do (CRLF in a file Windows' Notepad saved)."""
    existing = _conf_lines(places)
    ending = "\r\n" if any(line.endswith("\r\n") for line in existing) else "\n"
    if new is not None and new.endswith("\n"):
        new = new.rstrip("\r\n") + ending
    lines, placed = [], False
    for line in existing:
        if _key_of(line) != INTERPRETER_KEY:
            lines.append(line)
        elif new is not None and not placed:
            lines.append(new)
            placed = True
    if new is not None and not placed:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += ending
        lines.append(new)
    places.conf.write_bytes("".join(lines).encode(places.encoding, errors="surrogateescape"))


def install(places: Places, python: str, addin: Path | None = None) -> list[Done]:
    """Copy the add-in into XLSTART and point xlwings at `python`; a second install keeps the first record."""
    addin = addin or shipped_addin()
    done = []
    record = json.loads(places.record.read_text(encoding="utf-8")) if places.record.exists() else None
    if record is None:
        record = {"xlstart_created_from": _first_missing(places.xlstart), "conf_dir_created": not places.conf.parent.exists(),
                  "conf_created": not places.conf.exists(), "previous_line": _interpreter_line(places)}
    replaced = places.addin.exists()
    places.xlstart.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(addin, places.addin)
    done.append(Done("replaced" if replaced else "copied", {"path": str(places.addin)}))
    places.conf.parent.mkdir(parents=True, exist_ok=True)
    line = f'"{INTERPRETER_KEY}","{python}"\n'  # xlwings' own format (xlwings.cli.update_user_config)
    values = {"key": INTERPRETER_KEY, "python": python, "conf": str(places.conf)}
    if (_interpreter_line(places) or "").rstrip("\r\n") == line.rstrip("\n"):
        done.append(Done("interpreter-kept", values))
    else:
        _put_interpreter_line(places, line)
        done.append(Done("interpreter-set", values))
    places.record.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    done.append(Done("restart"))
    return done


def _first_missing(folder: Path) -> str | None:
    """The outermost folder of `folder`'s path that does not exist yet (what mkdir(parents=True) creates first)."""
    missing = None
    while not folder.exists():
        missing, folder = folder, folder.parent
    return str(missing) if missing else None


def _remove_empty(folder: Path, up_to: Path | None = None) -> None:
    """Remove folder if empty, and its parents up to `up_to` (included) while they are empty."""
    while folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        if up_to is None or folder == up_to:
            return
        folder = folder.parent


def remove(places: Places) -> list[Done]:
    """Undo install: the add-in, the interpreter line (or the one that was there before), and what
    install created; an add-in that was there before install is removed too (install replaced it)."""
    if not places.record.exists():
        return [Done("nothing-installed", {"record": str(places.record)})]
    record = json.loads(places.record.read_text(encoding="utf-8"))
    done = []
    if places.addin.exists():
        places.addin.unlink()
        done.append(Done("addin-removed", {"path": str(places.addin)}))
    if record["xlstart_created_from"]:
        _remove_empty(places.xlstart, Path(record["xlstart_created_from"]))
    previous = record["previous_line"]
    if places.conf.exists() or previous is not None:
        _put_interpreter_line(places, previous)
        values = {"key": INTERPRETER_KEY, "conf": str(places.conf)}
        done.append(Done("interpreter-restored", {**values, "line": previous.strip()}) if previous is not None
                    else Done("interpreter-removed", values))
    places.record.unlink()
    if record["conf_created"] and places.conf.exists() and not _conf_lines(places):
        places.conf.unlink()
    if record["conf_dir_created"]:
        _remove_empty(places.conf.parent)
    return done
