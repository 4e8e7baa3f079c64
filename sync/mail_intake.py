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
from .mail_parse import ParsedMail, parse_message

log = logging.getLogger("branchbook.sync")
SIDECAR_SUFFIX = ".mail.json"

NOTICES = {
    "legacy": "附件“{name}”是旧版 .xls/.et 格式，无法合并。请在 Excel 或 WPS 中“另存为”Excel 工作簿（.xlsx）后重新发送。",
    "winmail": "邮件附件被 Outlook 打包成了 winmail.dat，无法读取。请把 Outlook 的邮件格式改为 HTML 或纯文本后重新发送。",
    "oversized": "附件“{name}”太大（超过 {limit} MB），不予处理。请只发送学院下发的回执表。",
    "none": "邮件中没有找到回执附件（.xlsx）。请把填好的回执作为附件发送。",
}


@dataclass
class Notice:
    """Something to tell a sender although nothing was merged."""

    sender: str | None
    message_id: str | None
    subject: str
    text: str
    key: str


def max_attachment_bytes(home: Home) -> int:
    return int(float(home.config.get("mail", {}).get("max_attachment_mb", 10)) * 1024 * 1024)


def store_mail(home: Home, raw: bytes, origin: str) -> tuple[list[Path], list[Notice]]:
    """Put a message's workbooks in the inbox; return them and the notices for what was not taken."""
    settings = home.config.get("mail", {})
    mail = parse_message(raw, max_attachment_bytes(home), settings.get("trusted_authserv_id"))
    inbox = home.folder("inbox")
    stored, notices = [], []
    for attachment in mail.attachments:
        if attachment.kind == "workbook":
            stored.append(_store(inbox, mail, attachment.name, attachment.data, origin))
        elif attachment.kind in NOTICES:
            limit = settings.get("max_attachment_mb", 10)
            notices.append(Notice(mail.sender, mail.message_id, mail.subject,
                                  NOTICES[attachment.kind].format(name=attachment.name, limit=limit),
                                  f"{mail.message_id}|{attachment.kind}|{attachment.name}"))
    if not stored and not notices:
        notices.append(Notice(mail.sender, mail.message_id, mail.subject, NOTICES["none"], f"{mail.message_id}|none"))
    for notice in notices:
        log.info("通知 %s：%s", notice.sender, notice.text)
    return stored, notices


def _store(inbox: Path, mail: ParsedMail, name: str, data: bytes, origin: str) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    target = inbox / f"{digest}{Path(name).suffix.lower()}"
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


def read_sidecar(path: Path) -> dict:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    return json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}


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
        shutil.move(str(message), kept / f"{datetime.now():%Y%m%d%H%M%S%f}_{message.name}")
    return notices
