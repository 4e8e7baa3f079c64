"""From a parsed e-mail to files in the inbox: each workbook stored under its hash (never under a
name the sender chose), with a sidecar telling who sent it; what cannot be merged becomes a notice."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..workbook.cells import timestamp_text
from ..workbook.home import Home
from ..workbook.i18n import N_, Domain
from ..workbook.names import NAME_BYTES, stored_name
from .mail_parse import ParsedMail, parse_message

log = logging.getLogger("branchbook.sync")
say = Domain("mail")
SIDECAR_SUFFIX = ".mail.json"

NOTICES = {  # what the sender is told, by attachment kind (and "none": no attachment at all)
    "legacy": N_("The attachment \"{name}\" is in the old .xls/.et format and cannot be merged. Open it in Excel "
                 "or WPS, use \"Save As\" to save it as an Excel workbook (.xlsx) and send it again."),
    "winmail": N_("Outlook packed the attachments into winmail.dat, which cannot be read. Set Outlook's mail "
                  "format to HTML or plain text and send it again."),
    "oversized": N_("The attachment \"{name}\" is too large (over {limit} MB) and is not processed. Please send "
                    "only the return the college sent out."),
}
NO_RETURN = NOTICES["none"] = N_("No return (an .xlsx attachment) was found in the mail. Please send the filled "
                                 "return as an attachment.")


@dataclass
class Notice:
    """Something to tell a sender although nothing was merged."""

    sender: str | None
    message_id: str | None
    subject: str
    text: str
    key: str


def max_attachment_mb(home: Home) -> float:
    """The mail's own limit if set, else the one every received file meets (docs/configuration.md)."""
    own = home.settings.mail.max_attachment_mb
    return own if own is not None else home.schemas.rules["limits"]["max_file_mb"]


def max_attachment_bytes(home: Home) -> int:
    return int(max_attachment_mb(home) * 1024 * 1024)


def store_mail(home: Home, raw: bytes, origin: str) -> tuple[list[Path], list[Notice]]:
    """Put a message's workbooks in the inbox; return them and the notices (in HOME's language) for what
    was not taken."""
    settings, lang = home.settings.mail, home.lang
    mail = parse_message(raw, max_attachment_bytes(home), settings.trusted_authserv_id, lang)
    inbox = home.folder("inbox")
    stored, notices = [], []
    for attachment in mail.attachments:
        if attachment.kind == "workbook":
            stored.append(_store(inbox, mail, attachment.name, attachment.data, origin))
        elif attachment.kind in NOTICES:
            text = say(lang, NOTICES[attachment.kind], name=attachment.name, limit=f"{max_attachment_mb(home):g}")
            notices.append(Notice(mail.sender, mail.message_id, mail.subject, text,
                                  f"{mail.message_id}|{attachment.kind}|{attachment.name}"))
    if not stored and not notices:
        notices.append(Notice(mail.sender, mail.message_id, mail.subject, say(lang, NO_RETURN),
                              f"{mail.message_id}|none"))
    for notice in notices:
        log.info(say(lang, "notice to {sender}: {text}", sender=notice.sender, text=notice.text))
    return stored, notices


def _store(inbox: Path, mail: ParsedMail, name: str, data: bytes, origin: str) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    target = inbox / stored_name(f"{digest}{Path(name).suffix.lower()}")
    sidecar = {"file_name": name, "sender": mail.sender, "message_id": mail.message_id, "subject": mail.subject,
               "received_at": timestamp_text(mail.date.astimezone().replace(tzinfo=None) if mail.date else datetime.now()),
               "authenticated": mail.authenticated, "origin": origin}
    # Sidecar first, then the file by an atomic rename: the watcher never sees a half-written workbook.
    target.with_name(target.name + SIDECAR_SUFFIX).write_text(json.dumps(sidecar, ensure_ascii=False, indent=1),
                                                              encoding="utf-8")
    temp = inbox / f".{digest}.part"
    temp.write_bytes(data)
    os.replace(temp, target)
    return target


def sidecar_of(path: Path) -> Path | None:
    """Where a received file's mail sidecar would be; None when no sidecar can be beside it (a dropped file
    whose own name leaves no room for the suffix: sidecars are written only beside hash-named files)."""
    name = path.name + SIDECAR_SUFFIX
    return None if len(name.encode("utf-8", "surrogateescape")) > NAME_BYTES else path.with_name(name)


def read_sidecar(path: Path) -> dict:
    sidecar = sidecar_of(path)
    return json.loads(sidecar.read_text(encoding="utf-8")) if sidecar is not None and sidecar.exists() else {}


def unpack_mail_files(home: Home) -> list[Notice]:
    """Saved mails in the inbox (.eml files, Maildir folders): take their attachments, keep the mail."""
    inbox = home.folder("inbox")
    kept = home.folder("archive") / "mail"
    notices: list[Notice] = []
    messages = [p for p in inbox.glob("*.eml") if p.is_file()]
    for folder in (p for p in inbox.iterdir() if p.is_dir() and (p / "cur").is_dir() and (p / "new").is_dir()):
        messages += [m for sub in ("new", "cur") for m in (folder / sub).iterdir() if m.is_file()]
    for message in messages:
        kept.mkdir(parents=True, exist_ok=True)
        _, found = store_mail(home, message.read_bytes(), f"file:{message.name}")
        notices += found
        shutil.move(str(message), kept / stored_name(f"{datetime.now():%Y%m%d%H%M%S%f}_{message.name}"))
    return notices
