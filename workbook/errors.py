"""Errors a user can act on: a key and values, worded in the reader's language (docs/i18n.md).

The CLI, the add-in and the service show `error.message(lang)`; no traceback reaches a user.
"""
from __future__ import annotations

from .i18n import N_, Domain

say = Domain("workbook")

MESSAGES: dict[str, str] = {  # key -> message (English; the Chinese is in the workbook catalog)
    "home-exists": N_("{home} already holds a master ({master}); nothing was changed. Move it away or choose another folder."),
    "home-missing": N_("{home} is not a BranchBook folder ({config} not found). Run branchbook init {home} first."),
    "bad-lang": N_("Unknown language '{lang}'; choose zh or en."),
    "bad-week": N_("Week {week} is outside the campaign (weeks 1 to {last})."),
    "week-not-ended": N_("Week {week} ends on {end}: a bulletin reports a week that has ended (as of {as_of}, "
                         "the last one ended is week {last})."),
    "no-phases": N_("The Phases sheet has no dates, so weeks cannot be computed. Import the phases with branchbook "
                    "import, or fill in their dates in master.xlsx (docs/getting-started.en.md, step 3)."),
    "no-branches": N_("The Branches sheet is empty: there is no branch to make a return for. Import the branches "
                      "with branchbook import (docs/getting-started.en.md, step 3)."),
    "unknown-branch": N_("No branch '{branch}' in the master, by its ID or its name. The branches: {branches}."),
    "bad-date": N_("Cannot read the date '{text}'; write it as 2005-03-28."),
    "backup-missing": N_("No backup named '{name}'; the backups are in {folder}."),
    "backup-unreadable": N_("The backup '{name}' is damaged ({reason}); choose an earlier one."),
    "ledger-missing": N_("The ledger database (ledger.sqlite) of {home} is missing, but its journal is there: run "
                         "branchbook rebuild {home} to rebuild it from the journal and archive/, or branchbook restore "
                         "{home} to put back a backup."),
    "ledger-behind": N_("The ledger database of {home} is older than its journal (entry {seq} of {written}): it was "
                        "replaced by an older copy. Run branchbook rebuild {home}, or branchbook restore {home}."),
    "nothing-to-rebuild": N_("Nothing to rebuild from: no ledger-journal.jsonl, and neither the master nor its backups can be read."),
    "already-running": N_("The sync service for {home} is already running; only one may run."),
    "writer-busy": N_("Another program ({what}, process {pid}, since {since}) is writing the ledger of {home}: try again "
                      "when it is done."),
    "campaign-closed": N_("{home} is the earlier campaign “{campaign}”, kept as it was when “{following}” "
                          "began: it can be read (flags, master.xlsx, bulletins) but no longer changed."),
    "campaign-service-running": N_("The sync service of {home} is running: stop it first (Ctrl+C in its window), start "
                                   "the new campaign, then start the service again."),
    "campaign-inbox-waiting": N_("{count} files still wait in {folder} ({names}): merge them (or approve or remove "
                                 "them) before the campaign is closed, so that none is left behind."),
    "campaign-master-edits": N_("master.xlsx cannot be brought up to date with the ledger: {why}. Settle that first, "
                                "so that the campaign is kept whole as the office left it."),
    "campaign-same-name": N_("The new campaign needs a name of its own: “{name}” is the current campaign's or "
                             "an earlier one's (campaigns/ holds {known})."),
    "campaign-needs-start": N_("Give the day the new campaign starts: --start YYYY-MM-DD."),
    "campaign-unknown": N_("{home} has no earlier campaign “{name}”; it has {known}."),
    "campaign-start-early": N_("The new campaign starts on {start}, before the current one ends ({end}): give a later "
                               "--start."),
    "not-held": N_("No return with receipt {receipt} is waiting for approval."),
    "needs-libreoffice": N_("A PDF needs LibreOffice (Debian: apt-get install libreoffice-writer-nogui); or make a docx and save it as PDF in Word."),
    "no-smtp": N_("No outgoing mail server (mail.smtp in branchbook.yaml): the reminders were only written to outbox/."),
    "master-edits-refused": N_("{findings}"),
    "file-missing": N_("No such file: {path}"),
    "out-folder-missing": N_("No such folder: {path}. Save the university workbook in a folder that exists."),
    "folder-missing": N_("No such folder: {path}. Save the marked copy in a folder that exists."),
    "bad-mapping": N_("Cannot read the mapping '{item}': write it as column=field, e.g. --map Mobile=Contact."),
    "master-unreadable": N_("Cannot read the master {path}: {reason}"),
    "setting-file": N_("Cannot read the settings file {file}: {reason}."),
    "setting-unknown": N_("{setting} in {file} is not a setting BranchBook knows (known: {known}).{hint}"),
    "setting-bad": N_("{setting} in {file} is {value}; it should be {expected}."),
    "setting-missing": N_("The setting {setting} is missing from {file}."),
}


class UserError(Exception):
    """Something the user must act on; carries a message key and its values. The CLI, the service and
    the add-in show its message (exit code 2 in the CLI) and never a traceback."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key = key
        self.values = values

    def message(self, lang: str = "zh") -> str:
        return say(lang, MESSAGES[self.key], **self.values)

    def __str__(self) -> str:
        return self.message("zh")
