"""The one-line installers a bundle carries: a fresh virtual environment, branchbook and its
dependencies from the bundle's own wheels only (--no-index), then the Excel add-in on Windows
(docs/windows-setup.md, step 2).

The scripts pick the newest Python the bundle has wheels for, not `py -3`: a Python newer than the
bundle's would find no wheel. Where the environment goes is the first argument, else a folder in the
user's profile (no administrator rights needed).
"""
from __future__ import annotations

import re

from ..workbook.i18n import Domain
from .targets import WINDOWS, Target

say = Domain("cli")
WHEELS = "wheels"
WINDOWS_VENV = r"%LOCALAPPDATA%\BranchBook\python"
POSIX_VENV = "$HOME/.local/share/branchbook/python"


def installer_name(platform: str) -> str:
    return "install.cmd" if platform == WINDOWS else "install.sh"


def _requirement(target: Target) -> str:
    return "branchbook[" + ",".join(target.extras) + "]" if target.extras else "branchbook"


def _newest_first(targets: list[Target]) -> list[str]:
    return sorted({t.python for t in targets}, key=lambda v: tuple(map(int, v.split("."))), reverse=True)


def _echo(text: str) -> str:
    """An echo line cmd.exe prints as written: its operators escaped."""
    return "echo " + re.sub(r"([\^&|<>()])", r"^\1", text)


def windows_installer(targets: list[Target], lang: str) -> bytes:
    """install.cmd in the code page of a Chinese Windows (936) with CRLF, as cmd.exe reads a batch file."""
    versions = _newest_first(targets)
    pick = "\n".join(f'if not defined PYV (py -{version} -c "" >nul 2>&1 && set "PYV={version}")' for version in versions)
    listed = say(lang, ", ").join(reversed(versions))
    installing = say(lang, "Installing BranchBook (Python {python}) into {folder} ...", python="%PYV%", folder="%VENV%")
    installed = say(lang, "Installed. Open Excel again: its ribbon has the {tab} tab.", tab="台账")
    no_python = say(lang, "No Python {versions} found: first install Python {newest} from python.org, ticking Add "
                          "python.exe to PATH.", versions=listed, newest=versions[0])
    failed = say(lang, "The installation did not finish: take a photo of this window and send it to whoever maintains "
                       "BranchBook.")
    text = f"""@echo off
rem BranchBook: install.cmd [folder] (docs/windows-setup.md)
setlocal
rem The folder is read before pushd: %~f1 is the argument as a full path from the caller's folder.
set "VENV=%~f1"
if "%~1"=="" set "VENV={WINDOWS_VENV}"
pushd "%~dp0"
set "PYV="
{pick}
if not defined PYV goto no_python
{_echo(installing)}
py -%PYV% -m venv "%VENV%" && "%VENV%\\Scripts\\python.exe" -m pip install --isolated --no-index --find-links {WHEELS} --upgrade "{_requirement(targets[0])}" && "%VENV%\\Scripts\\branchbook.exe" addin install
if errorlevel 1 goto failed
{_echo(installed)}
pause
exit /b 0
:no_python
{_echo(no_python)}
pause
exit /b 1
:failed
{_echo(failed)}
pause
exit /b 1
"""
    return text.replace("\n", "\r\n").encode("gbk")


def posix_installer(targets: list[Target], lang: str) -> bytes:
    versions = _newest_first(targets)
    if len(versions) == 1:
        no_python = say(lang, "No Python {version} found: install it first.", version=versions[0])
    else:
        no_python = say(lang, "No Python {versions} found: install one of them first.",
                        versions=say(lang, ", ").join(reversed(versions)))
    installed = say(lang, "Installed: {path}", path="$VENV/bin/branchbook")
    text = f"""#!/bin/sh
# BranchBook: sh install.sh [folder]; PYTHON=... chooses the interpreter (docs/windows-setup.md)
set -e
VENV="${{1:-{POSIX_VENV}}}"
# A relative folder is the caller's, not the bundle's: made absolute before the cd below.
case "$VENV" in /*) ;; *) VENV="$(pwd)/$VENV" ;; esac
cd "$(dirname "$0")"
PY="${{PYTHON:-}}"
if [ -z "$PY" ]; then
  for v in {" ".join(versions)}; do
    if command -v "python$v" >/dev/null 2>&1; then PY="python$v"; break; fi
  done
fi
if [ -z "$PY" ]; then
  echo '{no_python}' >&2
  exit 1
fi
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --isolated --no-index --find-links {WHEELS} --upgrade "{_requirement(targets[0])}"
echo "{installed}"
"""
    return text.encode("utf-8")


def installer(targets: list[Target], lang: str) -> bytes:
    return (windows_installer if targets[0].platform == WINDOWS else posix_installer)(targets, lang)
