"""Take a received e-mail apart: who sent it, and its attachments with their real names.

Chinese mail clients label names gb2312 or gbk while using GBK-only characters, send RFC 2231
continuations, or raw 8-bit headers; names may carry paths or device names (docs/hazards.md 19-23).
"""
from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import PurePosixPath

from ..workbook.i18n import Domain

say = Domain("mail")

WORKBOOK = {".xlsx", ".xlsm"}
LEGACY = {".xls", ".et", ".ett", ".xlt"}
_GB_ALIASES = {"gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "gb18030", "x-euc-cn"}
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])$", re.IGNORECASE)
_UNSAFE = re.compile(r'[\x00-\x1f<>:"|?*]')


@dataclass
class Attachment:
    name: str  # safe to show and to keep as metadata; files are stored under their hash
    data: bytes
    kind: str  # workbook | legacy | winmail | oversized | other


@dataclass
class ParsedMail:
    sender: str | None
    subject: str
    message_id: str | None
    date: datetime | None
    authenticated: bool | None  # from the office server's Authentication-Results, when present
    attachments: list[Attachment] = field(default_factory=list)


def _charset(name: str | None) -> str:
    name = (name or "utf-8").lower()
    return "gb18030" if name in _GB_ALIASES else name  # GB18030 is a superset of what is labelled GB2312/GBK


def _decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (_charset(charset), "utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def _decode_text(value: str) -> str:
    """An encoded-word string, or raw 8-bit bytes smuggled in as surrogates, as the text meant."""
    if "=?" in value:
        return "".join(part if isinstance(part, str) else _decode_bytes(part, cs) for part, cs in decode_header(value))
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        return _decode_bytes(value.encode("utf-8", "surrogateescape"), "utf-8")
    return value


def raw_filename(part) -> str | None:
    """The attachment's name from a compat32 part, whose parameters are still as sent: encoded words
    undecoded, RFC 2231 continuations joined before decoding (a client may split inside a character)."""
    raw = {name.lower(): value for name, value in part.raw_items()}
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        source = part
        if any("\udc80" <= ch <= "\udcff" for ch in raw.get(header, "")):
            # Raw 8-bit bytes in the header (no encoding at all): recover them, then read the parameter.
            source = email.message.Message()
            source[header] = _decode_text(raw[header])
        value = source.get_param(param, header=header)
        if value is None:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, text as latin-1 code points)
            charset, _, text = value
            return _decode_bytes(bytes(text, "raw-unicode-escape"), charset)
        return _decode_text(str(value))
    return None


def safe_name(name: str | None, fallback: str | None = None, lang: str = "zh") -> str:
    """A display name with no path, no device name, nothing Windows or a shell would trip on; a name that
    is nothing of the sort becomes `fallback`, else the word for an attachment in `lang`."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE.sub("_", base).strip().rstrip(". ")
    if not base or base in {".", ".."}:
        return fallback or say(lang, "attachment")
    stem = PurePosixPath(base).stem
    if _RESERVED.match(stem.split(".")[0]):
        base = "_" + base
    return base[:150]


def _kind(part, name: str, size: int, max_bytes: int) -> str:
    suffix = PurePosixPath(name.lower()).suffix
    if name.lower() == "winmail.dat" or part.get_content_type() == "application/ms-tnef":
        return "winmail"
    if suffix in WORKBOOK or suffix in LEGACY:
        return "oversized" if size > max_bytes else ("workbook" if suffix in WORKBOOK else "legacy")
    return "other"


def _authenticated(message, trusted_id: str | None) -> bool | None:
    if not trusted_id:
        return None
    for value in message.get_all("Authentication-Results", []):
        text = str(value)
        if text.split(";", 1)[0].strip().lower() != trusted_id.lower():
            continue  # only our own server's verdict counts; a sender can write any header
        if re.search(r"\b(dmarc|spf|dkim)=pass\b", text):
            return True
        if re.search(r"\b(dmarc|spf|dkim)=(fail|softfail)\b", text):
            return False
    return None


def parse_message(raw: bytes, max_bytes: int, trusted_id: str | None = None, lang: str = "zh") -> ParsedMail:
    """The message's sender and attachments; an attachment without a usable name is named in `lang`."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    _, address = parseaddr(str(message.get("From", "")))
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    parsed = ParsedMail(
        sender=address.strip().lower() or None, subject=_decode_text(str(message.get("Subject", ""))),
        message_id=str(message.get("Message-ID", "")) or None, date=date,
        authenticated=_authenticated(message, trusted_id),
    )
    # Names come from a compat32 parse of the same bytes, walked in the same order: policy.default
    # has already decoded them, wrongly where a gb2312 label hides GBK characters.
    as_sent = email.message_from_bytes(raw, policy=email.policy.compat32)
    for part, sent in zip(message.walk(), as_sent.walk()):  # into forwarded messages (message/rfc822) too
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        name = raw_filename(sent)
        if name is None and part.get_content_type() != "application/ms-tnef":
            continue
        data = part.get_payload(decode=True) or b""
        shown = safe_name(name, "winmail.dat" if name is None else None, lang)
        parsed.attachments.append(Attachment(shown, data, _kind(part, shown, len(data), max_bytes)))
    return parsed
