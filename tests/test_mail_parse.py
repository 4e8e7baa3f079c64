"""Attachment names and kinds from crafted messages, decoded as their senders meant them."""
from __future__ import annotations

import pytest
from mail_messages import (
    _part,
    forwarded,
    message,
    plain,
    raw_8bit_gbk,
    rfc2047_gbk,
    rfc2047_utf8,
    rfc2231_gbk,
)

from branchbook.sync.mail_parse import parse_message, safe_name

SECRETARY = "b08.secretary@bme.example.edu.cn"
DATA = b"PK\x03\x04 workbook bytes"
NAME = "院机关支部_第3周_王堃镕.xlsx"  # 堃 and 镕 are in GBK but not in GB2312
LIMIT = 1000


def _one(raw):
    mail = parse_message(raw, LIMIT)
    assert len(mail.attachments) == 1, mail.attachments
    return mail, mail.attachments[0]


@pytest.mark.parametrize("disposition", [rfc2047_gbk(NAME), rfc2047_gbk(NAME, "gbk"), rfc2231_gbk(NAME),
                                         rfc2047_utf8(NAME)], ids=["gb2312-label", "gbk", "rfc2231", "utf8"])
def test_chinese_names_come_out_right(disposition):
    mail, attachment = _one(message(f"王书记 <{SECRETARY}>", [_part(disposition, DATA)]))
    assert attachment.name == NAME and attachment.kind == "workbook" and attachment.data == DATA
    assert mail.sender == SECRETARY and mail.subject == "支部周报"


def test_raw_8bit_gbk_header():
    _, attachment = _one(raw_8bit_gbk(NAME, DATA, SECRETARY))
    assert attachment.name == NAME


def test_no_name_is_not_an_attachment_and_nested_forward_is_found():
    mail = parse_message(message(SECRETARY, [_part("Content-Disposition: attachment", DATA)]), LIMIT)
    assert mail.attachments == []
    inner = message(SECRETARY, [_part(plain("院机关支部_第3周.xlsx"), DATA)])
    mail, attachment = _one(forwarded("forwarder@bme.example.edu.cn", inner))
    assert attachment.name == "院机关支部_第3周.xlsx" and attachment.data == DATA


@pytest.mark.parametrize("name,kind", [("旧表.xls", "legacy"), ("周报.et", "legacy"), ("winmail.dat", "winmail"),
                                       ("说明.docx", "other")])
def test_kinds(name, kind):
    content = "application/ms-tnef" if kind == "winmail" else "application/octet-stream"
    _, attachment = _one(message(SECRETARY, [_part(plain(name), DATA, content)]))
    assert attachment.kind == kind


def test_oversized():
    _, attachment = _one(message(SECRETARY, [_part(plain("大.xlsx"), b"x" * (LIMIT + 1))]))
    assert attachment.kind == "oversized"


@pytest.mark.parametrize("raw,expected", [("..\\..\\x.xlsm", "x.xlsm"), ("../../etc/x.xlsx", "x.xlsx"),
                                          ("CON.xlsx", "_CON.xlsx"), ("a:b?.xlsx", "a_b_.xlsx"),
                                          ("周报.xlsx. . ", "周报.xlsx"), ("", "附件")])
def test_names_are_made_safe(raw, expected):
    assert safe_name(raw) == expected


def test_path_in_a_real_message():
    # Outlook writes a Windows path into the quoted name, its backslashes escaped.
    _, attachment = _one(message(SECRETARY, [_part(plain("..\\\\..\\\\Windows\\\\周报.xlsx"), DATA)]))
    assert attachment.name == "周报.xlsx"


def test_only_our_servers_authentication_results_count():
    forged = "Authentication-Results: evil.example; dmarc=pass\r\n"
    ours = "Authentication-Results: mail.bme.example.edu.cn; spf=fail smtp.mailfrom=x\r\n"
    raw = message(SECRETARY, [_part(plain("a.xlsx"), DATA)], headers=forged + ours)
    assert parse_message(raw, LIMIT, trusted_id="mail.bme.example.edu.cn").authenticated is False
    assert parse_message(raw, LIMIT).authenticated is None
