"""Crafted messages as Chinese mail clients send them (Foxmail, Coremail, Outlook), as raw bytes."""
from __future__ import annotations

import base64
from urllib.parse import quote

BOUNDARY = "----=_NextPart_000_0001"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def _part(disposition: str, data: bytes, content_type: str = XLSX_TYPE) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n"
            f"{disposition}\r\n\r\n{_b64(data)}\r\n").encode()


def message(sender: str, parts: list[bytes], subject: str = "=?utf-8?B?5pSv6YOo5ZGo5oql?=",
            headers: str = "", message_id: str = "<m1@example.edu.cn>") -> bytes:
    head = (f"From: {sender}\r\nTo: office@bme.example.edu.cn\r\nSubject: {subject}\r\n"
            f"Date: Mon, 28 Mar 2005 17:30:00 +0800\r\nMessage-ID: {message_id}\r\n{headers}"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{BOUNDARY}\"\r\n\r\n").encode()
    body = (f"--{BOUNDARY}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n请查收本周回执。\r\n").encode()
    return head + body + b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def rfc2047_gbk(name: str, label: str = "gb2312") -> str:
    encoded = base64.b64encode(name.encode("gb18030")).decode()
    return f'Content-Disposition: attachment; filename="=?{label}?B?{encoded}?="'


def rfc2231_gbk(name: str) -> str:
    quoted = quote(name.encode("gb18030"), safe="")
    half = len(quoted) // 2
    while quoted[half - 1] == "%" or quoted[half - 2] == "%":
        half += 1
    return f"Content-Disposition: attachment;\r\n filename*0*=gbk''{quoted[:half]};\r\n filename*1*={quoted[half:]}"


def rfc2047_utf8(name: str) -> str:
    return f'Content-Disposition: attachment; filename="=?UTF-8?B?{base64.b64encode(name.encode()).decode()}?="'


def plain(name: str) -> str:
    return f'Content-Disposition: attachment; filename="{name}"'


def forwarded(sender: str, inner: bytes) -> bytes:
    part = (f"--{BOUNDARY}\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n").encode()
    inner = inner.replace(BOUNDARY.encode(), b"----=_Inner_0002")
    return message(sender, [part + inner + b"\r\n"], message_id="<fwd@example.edu.cn>")


def raw_8bit_gbk(name: str, data: bytes, sender: str) -> bytes:
    disposition = b'Content-Disposition: attachment; filename="' + name.encode("gb18030") + b'"'
    part = (f"--{BOUNDARY}\r\nContent-Type: {XLSX_TYPE}\r\nContent-Transfer-Encoding: base64\r\n").encode() + \
        disposition + f"\r\n\r\n{_b64(data)}\r\n".encode()
    return message(sender, [part])
