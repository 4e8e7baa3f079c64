"""Where the service and the commands log: one line per event in the HOME's language (logs/sync.log and
the console), and tracebacks only in logs/branchbook-errors.log, for whoever maintains BranchBook
(docs/design.md, "The service")."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from ..workbook.home import Home
from ..workbook.i18n import N_, Domain
from .status import ERRORS_LOG

say = Domain("service")
_OURS = "branchbook-service"  # the name of the handlers configure_logging installs
_COMMAND = "branchbook-command"  # and configure_command_logging's
LEVELS = {"DEBUG": N_("debug"), "INFO": N_("info"), "WARNING": N_("warning"), "ERROR": N_("error"),
          "CRITICAL": N_("critical")}


class _OneLine(logging.Formatter):
    """The record's own words, its level in `lang`, and never a traceback (that goes to the errors log)."""

    def __init__(self, fmt: str, lang: str):
        super().__init__(fmt)
        self.lang = lang

    def format(self, record: logging.LogRecord) -> str:
        plain = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
        plain.levelname = say(self.lang, LEVELS.get(record.levelname, record.levelname))
        return super().format(plain)


class _Quiet:
    """A log that cannot be written (a full disk) is not a reason to print a traceback on the console: the
    record is dropped, and the service says what failed in status.json once it can (docs/hazards.md 30)."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


class _QuietFile(_Quiet, logging.FileHandler):
    def _open(self):
        Path(self.baseFilename).parent.mkdir(exist_ok=True)  # made when first written to, not before
        return super()._open()


class _QuietStream(_Quiet, logging.StreamHandler):
    pass


class _WithTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is not None


def _install(handlers: list[logging.Handler], name: str = _OURS) -> list[logging.Handler]:
    close_logging()
    root = logging.getLogger("branchbook")
    root.setLevel(logging.INFO)
    root.propagate = False
    for one in handlers:
        one.set_name(name)
        root.addHandler(one)
    return handlers


def _errors_file(folder: Path) -> logging.Handler:
    errors = _QuietFile(folder / ERRORS_LOG, encoding="utf-8", delay=True)
    errors.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    errors.addFilter(_WithTraceback())
    return errors


def configure_logging(home: Home) -> list[logging.Handler]:
    """The service's log: logs/sync.log and the console, each event once, and the errors log.

    Called again (for another HOME, or twice in one process), it replaces the handlers it installed
    before instead of adding more: every handler added is one more copy of each line. The records of
    the branchbook loggers stop here and do not also reach the root logger, which a host program
    (or a library that calls logging.basicConfig) may have given a console handler of its own."""
    folder = home.root / "logs"
    folder.mkdir(exist_ok=True)
    handler = _QuietFile(folder / "sync.log", encoding="utf-8")
    handler.setFormatter(_OneLine("%(asctime)s %(levelname)s %(message)s", home.lang))
    console = _QuietStream()
    console.setFormatter(_OneLine("%(asctime)s %(message)s", home.lang))
    return _install([handler, console, _errors_file(folder)])


def configure_command_logging(home_root: Path | None, lang: str) -> list[logging.Handler]:
    """A one-off command's log: warnings on the console in one line each (the command prints its own
    outcome), tracebacks in the HOME's errors log, never on the console. A service's log set up in this
    process (a host that runs both) is left as it is."""
    if any(h.get_name() == _OURS for h in logging.getLogger("branchbook").handlers):
        return []
    console = _QuietStream(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(_OneLine("%(message)s", lang))
    handlers = [console]
    if home_root is not None:
        handlers.append(_errors_file(home_root / "logs"))  # opened (and logs/ made) only if a traceback comes
    return _install(handlers, _COMMAND)


def close_logging() -> None:
    """Remove (and close) the handlers configure_logging installed; the branchbook loggers propagate again."""
    root = logging.getLogger("branchbook")
    for handler in [h for h in root.handlers if h.get_name() in (_OURS, _COMMAND)]:
        root.removeHandler(handler)
        handler.close()
    root.propagate = True


def write_failure(home_root: Path | None, what: str) -> Path | None:
    """The traceback being handled, appended to the HOME's errors log (else the temporary folder's: a full or
    read-only HOME); None when it cannot be written anywhere. Never raises."""
    import tempfile
    import traceback
    from datetime import datetime

    text = f"{datetime.now():%Y-%m-%d %H:%M:%S} {what} failed\n{traceback.format_exc()}"
    folders = [Path(tempfile.gettempdir())]
    if home_root is not None:
        folders.insert(0, home_root / "logs")
    for folder in folders:
        path = folder / ERRORS_LOG
        try:
            folder.mkdir(exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(text)
            return path
        except OSError:
            continue
    return None
