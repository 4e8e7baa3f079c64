"""Write the master so that it is never half-written and never written under Excel's feet.

New file beside the master, flushed and read back, the old one kept in backups/, then an atomic
replace (retried while Windows or antivirus holds the file), then the folder synced (docs/hazards.md 6-8).
"""
from __future__ import annotations

import glob
import logging
import os
import shutil
import stat
import time
from datetime import datetime
from pathlib import Path

from ..workbook.books import file_state
from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.master import row_counts, write_master
from ..workbook.names import stored_name
from .pause import pause_point
from .status import age_words

log = logging.getLogger("branchbook.sync")
say = Domain("service")
REPLACE_TRIES = 10


class MasterBusy(Exception):
    """The master is open in Excel (or held by another program): the work waits. Its text is the reason,
    in HOME's language."""


def owner_files(master: Path) -> list[Path]:
    # Excel's owner file is "~$" and the name, or, for longer names, the name less its first two characters.
    candidates = {master.with_name("~$" + master.name), master.with_name("~$" + master.name[2:])}
    return [path for path in candidates if path.exists()]


def is_busy(master: Path, lang: str) -> str | None:
    """Why the master cannot be written now (in `lang`), or None.

    An owner file outlives an Excel or WPS that crashed, and then blocks for ever: it is named with its age
    and how to remove it, so that the office can tell a stale one from a real Excel (docs/hazards.md 8)."""
    owners = owner_files(master)
    if owners:
        try:
            age = time.time() - owners[0].stat().st_mtime
        except OSError:
            age = 0.0
        return say(lang, "the master is open in Excel ({owner} found, made {age} ago): close it and the work goes on by "
                         "itself. If no one has it open, that file was left by an Excel or WPS that closed abnormally: "
                         "delete {path} and the work goes on.", owner=owners[0].name, age=age_words(age, lang),
                   path=owners[0].absolute())  # status.json is read from other folders than serve's
    if master.exists() and os.access(master, os.W_OK):  # a master made read-only on purpose is not "held" (hazards 32)
        try:
            with master.open("r+b"):
                pass  # on Windows this fails while Excel holds the file
        except PermissionError:
            return say(lang, "the master is held by another program: it is tried again shortly.")
    return None


def fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)

BACKUP_ADDITION_BYTES = 48


def temp_path(master: Path, pid: int) -> Path:
    """Where the writer of process `pid` writes the new master before it replaces the old one."""
    return master.with_name(f".{master.stem}.writing-{pid}{master.suffix}")


def process_alive(pid: int) -> bool:
    """Whether process `pid` still runs (when in doubt, it does: its temp file is then left alone)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would end the process on Windows: ask for a handle instead
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # not ours to signal, but there
    return True


def remove_stale_temps(home: Home) -> int:
    """Remove the new masters half-written by writers that were killed (a `kill -9` of serve leaves one beside the
    master through every restart). Called by a writer that has just taken the writer lock, so no other writer is at
    work; a temp file is removed only when its process has ended too: a live process's is never touched."""
    master = home.master
    removed = 0
    for temp in master.parent.glob(glob.escape(f".{master.stem}.writing-") + "*" + glob.escape(master.suffix)):
        pid = temp.name[len(f".{master.stem}.writing-"):-len(master.suffix) or None]
        if pid.isdigit() and not process_alive(int(pid)):
            temp.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info(say(home.lang, "{count} master files half-written by an interrupted writer were removed", count=removed))
    return removed


class MasterStore:
    def __init__(self, home: Home):
        self.home = home
        self.path = home.master

    def backup(self, reason: str = "merge") -> Path | None:
        if not self.path.exists():
            return None
        folder = self.home.folder("backups")
        folder.mkdir(exist_ok=True)
        # Room for "-<moment>-<reason>" whatever the master's name (docs/hazards.md 21).
        stem = Path(stored_name(self.path.name, reserve=BACKUP_ADDITION_BYTES)).stem
        target = folder / f"{stem}-{datetime.now():%Y%m%d-%H%M%S-%f}-{reason}{self.path.suffix}"
        try:
            shutil.copy2(self.path, target)
        except BaseException:
            target.unlink(missing_ok=True)  # a backup cut short (a full disk) is no backup
            raise
        kept = self.home.settings.sync.backups_kept
        for old in sorted(folder.glob(f"{glob.escape(stem)}-*{self.path.suffix}"))[:-kept]:
            old.unlink(missing_ok=True)
        return target

    def write(self, tables: dict[str, list[dict]], painters=(), unchanged_since: dict | None = None,
              bodies=None) -> None:
        """Replace the master with `tables`; MasterBusy (nothing written) while Excel has it open, or when
        the master no longer is as `unchanged_since` says (the office saved it meanwhile: its edits come first).
        `bodies`: a BodyCache whose unchanged rows' XML is reused."""
        lang = self.home.lang
        reason = is_busy(self.path, lang)
        if reason:
            raise MasterBusy(reason)
        temp = temp_path(self.path, os.getpid())
        try:
            self._write_via(temp, tables, painters, unchanged_since, bodies)
        except BaseException:
            temp.unlink(missing_ok=True)  # a full disk half-way: no half-written temp file is left beside the master
            raise

    def _write_via(self, temp: Path, tables: dict[str, list[dict]], painters, unchanged_since: dict | None,
                   bodies) -> None:
        lang = self.home.lang
        write_master(temp, tables, lang=self.home.lang, painters=painters, bodies=bodies,
                         schemas=self.home.schemas)
        with temp.open("rb+") as handle:
            os.fsync(handle.fileno())
        written = row_counts(temp)  # what we replace the master with must read back whole
        for key, count in written.items():
            if count != len(tables.get(key, [])) and not (count == 0 and not tables.get(key)):
                temp.unlink(missing_ok=True)
                raise OSError(say(lang, "the new master does not read back whole ({sheet}: {count} rows, {expected} "
                                        "expected): the master is not replaced.", sheet=key, count=count,
                                  expected=len(tables.get(key, []))))
        pause_point("before-replace")
        if unchanged_since is not None and self.path.exists():
            now = file_state(self.path, unchanged_since)
            if now is None or now["sha256"] != unchanged_since.get("sha256"):
                temp.unlink(missing_ok=True)
                raise MasterBusy(say(lang, "the master has just been edited by hand and saved: its edits are taken in "
                                           "first, then it is written."))
        self.backup()
        self._keep_mode(temp)
        self._replace(temp)
        fsync_folder(self.path.parent)

    def _keep_mode(self, temp: Path) -> None:
        """The new master keeps the old one's permissions: an office that made it read-only (chmod 444, or
        Windows' read-only box) keeps it so for people, while BranchBook still brings it up to date
        (docs/hazards.md 32). Windows refuses to replace a read-only file: its flag is lifted just before."""
        if not self.path.exists():
            return
        shutil.copymode(self.path, temp)
        if os.name == "nt" and not os.access(self.path, os.W_OK):
            os.chmod(self.path, stat.S_IREAD | stat.S_IWRITE)

    def _replace(self, temp: Path) -> None:
        for attempt in range(REPLACE_TRIES):
            try:
                os.replace(temp, self.path)
                return
            except PermissionError:  # WinError 5 while antivirus or Excel holds the target
                if is_busy(self.path, self.home.lang) or attempt == REPLACE_TRIES - 1:
                    temp.unlink(missing_ok=True)
                    raise MasterBusy(say(self.home.lang, "the master cannot be replaced just now (it is held): it is "
                                                         "tried again shortly.")) from None
                time.sleep(0.2 * (attempt + 1))
