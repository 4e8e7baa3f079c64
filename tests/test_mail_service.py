"""Returns by e-mail, end to end: a real Dovecot on loopback (IMAP over TLS), the real service,
and a real SMTP receiver (aiosmtpd) for the replies."""
from __future__ import annotations

import itertools
import json
import shutil

import pytest
import yaml
from mail_messages import _part, message, plain, rfc2047_gbk
from mailserver import PASSWORD, Dovecot, Outbox
from returns_factory import edit, filled_return
from sync_helpers import FAST_SYNC, archived_names, wait_until

from branchbook.cli import main
from branchbook.sync.service import SyncService
from branchbook.workbook.home import CONFIG_NAME, Home
from branchbook.workbook.master import read_master

SECRETARY = "b08.secretary@bme.example.edu.cn"
RETURN_NAME = "院机关支部_第3周.xlsx"
_users = itertools.count()


@pytest.fixture(scope="session")
def dovecot():
    server = Dovecot()
    yield server
    server.stop()


@pytest.fixture
def outbox():
    receiver = Outbox()
    yield receiver
    receiver.stop()


def _configure(home: Home, dovecot: Dovecot, outbox: Outbox, **imap) -> Home:
    user = f"office{next(_users)}@bme.example.edu.cn"  # the static passdb takes any user: one mailbox per test
    config = {**home.config, "sync": FAST_SYNC, "as_of": "2005-03-30", "mail": {
        "enabled": True, "user": user, "from": user, "poll_seconds": 0.5, "ca_file": str(dovecot.cert),
        "imap": {"host": "127.0.0.1", "port": dovecot.imaps_port, "security": "ssl", **imap},
        "smtp": {"host": "127.0.0.1", "port": outbox.port, "security": "none", "user": None},
    }}
    (home.root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return Home.open(home.root)


@pytest.fixture
def mail_home(fresh_demo, dovecot, outbox, monkeypatch):
    monkeypatch.setenv("BRANCHBOOK_MAIL_PASSWORD", PASSWORD)
    return _configure(fresh_demo, dovecot, outbox)


def _deliver(dovecot, home, raw):
    conn = dovecot.client()
    conn.logout()
    user = home.config["mail"]["user"]
    import imaplib
    import ssl

    client = imaplib.IMAP4_SSL("127.0.0.1", dovecot.imaps_port, ssl_context=ssl.create_default_context(cafile=dovecot.cert))
    client.login(user, PASSWORD)
    client.append("INBOX", None, None, raw)
    client.logout()


def _server_flags(dovecot, home):
    import imaplib
    import ssl

    client = imaplib.IMAP4_SSL("127.0.0.1", dovecot.imaps_port, ssl_context=ssl.create_default_context(cafile=dovecot.cert))
    client.login(home.config["mail"]["user"], PASSWORD)
    client.select("INBOX")
    _, data = client.uid("FETCH", "1:*", "(FLAGS)")
    client.logout()
    return [item.decode() for item in data if item]


def _mail_with_return(home, tmp_path, sender=SECRETARY, change=None, message_id="<r1@bme.example.edu.cn>"):
    path = filled_return(home, tmp_path / RETURN_NAME)
    if change:
        edit(path, change)
    return message(f"王书记 <{sender}>", [_part(rfc2047_gbk(RETURN_NAME), path.read_bytes())], message_id=message_id)


def _receipts(home):
    return [r for r in read_master(home.master)["returns"] if r.get("sha256")]


def _serve(home):
    service = SyncService(home)
    service.start()
    return service


def _body(mail):
    return mail.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.imap
def test_a_mailed_return_is_merged_flagged_answered_once_across_restarts(mail_home, dovecot, outbox, tmp_path):
    home = mail_home
    _deliver(dovecot, home, _mail_with_return(home, tmp_path))
    service = _serve(home)
    try:
        wait_until(lambda: [r for r in _receipts(home) if r["result"] == "merged"], 60, "the mailed return merged")
        wait_until(lambda: outbox.messages, 30, "the reply")
    finally:
        service.stop()
    [receipt] = _receipts(home)
    assert receipt["file_name"] == RETURN_NAME and receipt["sender"] == SECRETARY
    [flags] = _server_flags(dovecot, home)
    assert "\\Seen" in flags and "$BranchBook" in flags
    [reply] = outbox.messages
    assert reply["To"] == SECRETARY and reply["Subject"] == "Re: 支部周报" and reply["In-Reply-To"] == "<r1@bme.example.edu.cn>"
    assert "已合并进学院台账（第3周）" in _body(reply) and "出勤率" in _body(reply)
    # A restart takes nothing again and answers nothing again.
    service = _serve(home)
    try:
        wait_until(lambda: service.mail.fetcher.state["state"] == "ok", 30, "a mail poll after restart")
        wait_until(lambda: service.batches == 0 and service.mail.fetcher.state["message"].endswith("0 封"), 10, "idle")
    finally:
        service.stop()
    assert len(outbox.messages) == 1 and len(_receipts(home)) == 1 and len(archived_names(home)) == 1


@pytest.mark.imap
def test_a_second_message_with_the_same_attachment_is_not_merged_twice(mail_home, dovecot, outbox, tmp_path):
    home = mail_home
    raw = _mail_with_return(home, tmp_path)
    _deliver(dovecot, home, raw)
    _deliver(dovecot, home, raw.replace(b"<r1@bme.example.edu.cn>", b"<r2@bme.example.edu.cn>"))
    service = _serve(home)
    try:
        wait_until(lambda: len(_server_flags(dovecot, home)) == 2 and all("$BranchBook" in f for f in _server_flags(dovecot, home)),
                   60, "both messages taken")
        wait_until(lambda: _receipts(home) and not list(home.folder("inbox").glob("*.xlsx")), 60, "merged")
        wait_until(lambda: outbox.messages, 30, "the reply")
    finally:
        service.stop()
    assert [r["result"] for r in _receipts(home)] == ["merged"] and len(outbox.messages) == 1


@pytest.mark.imap
def test_a_spoofed_sender_waits_for_approval(mail_home, dovecot, outbox, tmp_path):
    home = mail_home
    _deliver(dovecot, home, _mail_with_return(home, tmp_path, sender="someone@elsewhere.example.com"))
    service = _serve(home)
    try:
        wait_until(lambda: [r for r in _receipts(home) if r["result"] == "quarantined"], 60, "the return held")
        wait_until(lambda: outbox.messages, 30, "the holding reply")
        held = [p for p in home.folder("quarantine").glob("*.xlsx")]
        assert len(held) == 1 and "不是「院机关支部」登记的支部书记" in _body(outbox.messages[0])
        receipt_id = held[0].name.split("__")[0]
        assert main(["approve", str(home.root), receipt_id]) == 0
        wait_until(lambda: [r for r in _receipts(home) if r["result"] == "merged"], 60, "the approved return merged")
    finally:
        service.stop()
    assert [r["result"] for r in _receipts(home)] == ["merged"]
    assert len([r for r in read_master(home.master)["attendance"] if str(r["source_return"]).startswith("B08-W03@")]) == 32


@pytest.mark.imap
def test_rejections_and_old_formats_are_answered(mail_home, dovecot, outbox, tmp_path):
    home = mail_home
    bad = _mail_with_return(home, tmp_path, change=lambda wb: wb["自学"].__setitem__("C2", 30),
                            message_id="<bad@bme.example.edu.cn>")
    old = message(SECRETARY, [_part(plain("院机关支部_第3周.xls"), b"\xd0\xcf\x11\xe0old", "application/vnd.ms-excel")],
                  message_id="<xls@bme.example.edu.cn>")
    huge = b"PK" + b"\x00" * (21 * 1024 * 1024)  # over the 20 MB every return meets (limits.max_file_mb)
    outlook = message(SECRETARY, [_part(plain("winmail.dat"), b"\x78\x9f\x3e\x22", "application/ms-tnef"),
                                  _part(plain("院机关支部_第3周.xlsx"), huge)], message_id="<tnef@bme.example.edu.cn>")
    broken = message(SECRETARY, [_part(plain("院机关支部_第3周.xlsx"), (home.folder("outbox") / RETURN_NAME).read_bytes()[:3000])],
                     message_id="<zip@bme.example.edu.cn>")
    for raw in (bad, old, outlook, broken):
        _deliver(dovecot, home, raw)
    service = _serve(home)
    try:
        wait_until(lambda: len(outbox.messages) == 5, 60, "five replies")
    finally:
        service.stop()
    tnef = [_body(m) for m in outbox.messages if m["In-Reply-To"] == "<tnef@bme.example.edu.cn>"]
    replies_to = {m["In-Reply-To"]: m for m in outbox.messages}
    assert any("winmail.dat" in text for text in tnef) and any("太大" in text for text in tnef)
    damaged = replies_to["<zip@bme.example.edu.cn>"]
    # An unreadable file has no marked copy: none is promised, none attached.
    assert "已损坏" in _body(damaged) and "标红" not in _body(damaged) and not list(damaged.iter_attachments())
    replies = {m["In-Reply-To"]: m for m in outbox.messages}
    rejected = replies["<bad@bme.example.edu.cn>"]
    assert "自学 第2行 「学时」：30 超出允许范围" in _body(rejected)
    [annotated] = [part for part in rejected.iter_attachments()]
    assert annotated.get_filename().endswith(".标注.xlsx")
    assert "另存为”Excel 工作簿（.xlsx）" in _body(replies["<xls@bme.example.edu.cn>"])
    assert [r["result"] for r in _receipts(home)] == ["rejected", "rejected"]


def test_mail_saved_as_files_in_the_inbox(fresh_demo, tmp_path):
    from sync_helpers import fast_home

    home = fast_home(fresh_demo)
    raw = _mail_with_return(home, tmp_path)
    (home.folder("inbox") / "周报邮件.eml").write_bytes(raw)
    maildir = home.folder("inbox") / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    other = filled_return(home, tmp_path / "生医教工党支部_第3周.xlsx", name="生医教工党支部_第3周.xlsx", seed=3)
    (maildir / "new" / "1700000000.M1.host").write_bytes(
        message("b09.secretary@bme.example.edu.cn", [_part(plain(other.name), other.read_bytes())]))
    assert main(["merge", str(home.root)]) == 0
    assert sorted(r["file_name"] for r in _receipts(home) if r["result"] == "merged") == sorted([RETURN_NAME, other.name])
    assert not list(maildir.glob("*/*")) and len(list((home.folder("archive") / "mail").iterdir())) == 2


@pytest.mark.imap
def test_a_wrong_password_is_reported_and_the_drop_folder_still_served(fresh_demo, dovecot, outbox, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv("BRANCHBOOK_MAIL_PASSWORD", "not-the-password")
    home = _configure(fresh_demo, dovecot, outbox)
    shutil.copyfile(filled_return(home, tmp_path / "r.xlsx"), home.folder("inbox") / RETURN_NAME)
    service = _serve(home)
    try:
        wait_until(lambda: service.mail.fetcher.state["state"] == "error", 30, "the mail error")
        assert "用户名或密码错误" in service.mail.fetcher.state["message"]
        wait_until(lambda: archived_names(home) == [RETURN_NAME], 60, "the dropped return merged meanwhile")
        status = home.root / "status.json"
        wait_until(lambda: json.loads(status.read_text(encoding="utf-8"))["mail"]["state"] == "error", 10, "status")
    finally:
        service.stop()


@pytest.mark.imap
def test_reminders_are_mailed_once(mail_home, outbox):
    assert main(["remind", str(mail_home.root), "--send"]) == 0
    sent = len(outbox.messages)
    secretaries = [m for m in outbox.messages if m["To"].endswith(".secretary@bme.example.edu.cn")]
    assert len(secretaries) == 9 and sent == 9 + 5  # and a digest to each of the five liaisons
    office = next(m for m in secretaries if m["To"] == SECRETARY)
    assert office["Subject"].startswith("院机关支部：先进性教育活动进度提醒") and "同志：" in _body(office)
    assert main(["remind", str(mail_home.root), "--send"]) == 0
    assert len(outbox.messages) == sent  # the same day's reminders go once


@pytest.mark.imap
def test_a_reply_waits_while_the_mail_server_is_down(mail_home, outbox):
    from branchbook.sync.mail_intake import Notice
    from branchbook.sync.mail_side import MailSide

    side = MailSide.of(mail_home)
    outbox.stop()  # the office's SMTP server is away
    notice = Notice(SECRETARY, "<q@x>", "支部周报", "请另存为 .xlsx", "<q@x>|legacy")
    assert side.replier.reply_notice(notice)
    assert len(list((mail_home.root / "mail-outbox").glob("*.eml"))) == 1
    assert not side.replier.reply_notice(notice)  # composed once, not queued twice
    assert side.replier.send_queued() == 0  # still away: it waits
    outbox.start()
    assert side.replier.send_queued() == 1 and not list((mail_home.root / "mail-outbox").glob("*.eml"))
    [reply] = outbox.messages
    assert reply["To"] == SECRETARY and "另存为" in _body(reply)


@pytest.mark.imap
def test_mail_troubles_are_worded_without_class_names(mail_home, outbox, caplog):
    """What the office reads in status.json and the log: words, never ConnectionRefusedError or gaierror."""
    import imaplib
    import re
    import smtplib
    import socket
    import ssl

    from branchbook.sync.mail_fetch import describe
    from branchbook.sync.mail_intake import Notice
    from branchbook.sync.mail_side import MailSide

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    errors = []
    for attempt in (lambda: socket.create_connection(("127.0.0.1", closed_port), timeout=5),
                    lambda: socket.getaddrinfo("mail.example.invalid", 993)):
        with pytest.raises(OSError) as raised:
            attempt()
        errors.append(raised.value)
    errors += [TimeoutError(), ConnectionResetError(104, "Connection reset by peer"), OSError(101, "Network is unreachable"),
               ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
               ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), RuntimeError("a bug"),
               smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), smtplib.SMTPAuthenticationError(535, b"no"),
               imaplib.IMAP4.abort("socket error: EOF")]
    class_name = re.compile(r"[A-Za-z_]{4,}")
    for error in errors:
        assert not class_name.search(describe(error, "zh")), (error, describe(error, "zh"))
    side = MailSide.of(mail_home)
    outbox.stop()  # the office's SMTP server is away: the reply is kept, and the log says why in words
    with caplog.at_level("WARNING", logger="branchbook.sync"):
        assert side.replier.reply_notice(Notice(SECRETARY, "<w@x>", "支部周报", "请另存为 .xlsx", "<w@x>|legacy"))
    [kept] = [r.getMessage() for r in caplog.records if "暂存待发" in r.getMessage()]
    assert "Error" not in kept and "服务器" in kept, kept


@pytest.mark.imap
def test_starttls_works_too(fresh_demo, dovecot, outbox, monkeypatch):
    from branchbook.sync.mail_side import MailSide

    monkeypatch.setenv("BRANCHBOOK_MAIL_PASSWORD", PASSWORD)
    home = _configure(fresh_demo, dovecot, outbox, port=dovecot.imap_port, security="starttls")
    assert MailSide.of(home).fetcher.poll() == 0


@pytest.mark.imap
def test_the_password_is_written_nowhere(mail_home, dovecot, outbox, tmp_path, monkeypatch):
    import logging

    home = mail_home
    (home.root / "logs").mkdir()
    handler = logging.FileHandler(home.root / "logs" / "sync.log", encoding="utf-8")
    logger = logging.getLogger("branchbook")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    _deliver(dovecot, home, _mail_with_return(home, tmp_path))
    _deliver(dovecot, home, message(SECRETARY, [_part(plain("旧.xls"), b"old", "application/vnd.ms-excel")],
                                    message_id="<x@y>"))
    service = _serve(home)
    try:
        wait_until(lambda: len(outbox.messages) == 2, 60, "the replies")
    finally:
        service.stop()
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
    assert "已回复" in (home.root / "logs" / "sync.log").read_text(encoding="utf-8")
    secret = PASSWORD.encode()
    written = [p for p in home.root.rglob("*") if p.is_file()]
    assert len(written) > 10
    assert [p for p in written if secret in p.read_bytes()] == []
    assert all(secret not in m.as_bytes() for m in outbox.messages)


def test_mail_settings_come_from_the_typed_settings_and_a_null_port_is_the_default(fresh_demo):
    from branchbook.sync.mail_settings import MailSettings

    config = {**fresh_demo.config, "mail": {
        "enabled": True, "user": "office@bme.example.edu.cn", "max_attachment_mb": 2.5,
        "imap": {"host": "imap.example.edu.cn", "port": None}, "smtp": {"host": "smtp.example.edu.cn", "port": 587,
                                                                         "security": "starttls"}}}
    (fresh_demo.root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    settings = MailSettings.of(Home.open(fresh_demo.root))
    assert (settings.imap.port, settings.imap.security, settings.imap.user) == (993, "ssl", "office@bme.example.edu.cn")
    assert (settings.smtp.port, settings.smtp.security) == (587, "starttls")
    assert settings.sender == "office@bme.example.edu.cn" and settings.folder == "INBOX" and settings.poll_seconds == 60
    assert MailSettings.of(fresh_demo) is None  # mail not enabled


def test_notices_follow_the_typed_limit_and_the_homes_language(fresh_demo):
    from branchbook.sync.mail_intake import store_mail

    for lang, expected in (("zh", "太大（超过 2.5 MB）"), ("en", "too large (over 2.5 MB)")):
        home = Home(fresh_demo.root, {**fresh_demo.config, "lang": lang, "mail": {"max_attachment_mb": 2.5}})
        raw = message(SECRETARY, [_part(plain("大.xlsx"), b"PK" + b"\0" * (3 * 1024 * 1024))],
                      message_id=f"<{lang}@x>")
        stored, [notice] = store_mail(home, raw, "test")
        assert stored == [] and expected in notice.text


@pytest.mark.imap
def test_a_long_chinese_attachment_name_by_mail_is_merged_answered_and_kept_whole(
        mail_home, dovecot, outbox, tmp_path):
    # The fault suite's case of long names (tests/test_intake_faults.py), by mail.
    from mail_messages import rfc2231_gbk
    from test_intake_faults import NO_RESCAN, _control_characters, _nothing_at_work
    from test_intake_faults import _receipts as receipts_by_name

    from branchbook.workbook.names import NAME_BYTES

    home = Home.open(mail_home.root)
    config = {**home.config, "sync": NO_RESCAN}
    (home.root / CONFIG_NAME).write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    home = Home.open(home.root)
    words = "院机关支部第三周学习情况回执及党员自学情况汇总表"
    good = (words * 5)[:110] + ".xlsx"
    bad = (words[::-1] * 5)[:110] + ".xlsx"
    assert len(good.encode()) > NAME_BYTES and len(bad.encode()) > NAME_BYTES
    good_file = _control_characters(home, tmp_path / "good.xlsx")  # merged, cleaned: the reply says where
    bad_file = edit(filled_return(home, tmp_path / "bad.xlsx", seed=3), lambda wb: wb["自学"].__setitem__("C2", 30))
    _deliver(dovecot, home, message(f"王书记 <{SECRETARY}>", [_part(rfc2231_gbk(good), good_file.read_bytes())],
                                    message_id="<long1@bme.example.edu.cn>"))
    _deliver(dovecot, home, message(f"王书记 <{SECRETARY}>", [_part(rfc2231_gbk(bad), bad_file.read_bytes())],
                                    message_id="<long2@bme.example.edu.cn>"))
    service = SyncService(home)
    service.start()
    try:
        wait_until(lambda: len(outbox.messages) >= 2, 90, "both replies")
        assert service.healthy()
    finally:
        service.stop()
    receipts = receipts_by_name(home)
    assert receipts[good]["result"] == "merged" and receipts[bad]["result"] == "rejected"
    assert receipts[good]["sender"] == SECRETARY == receipts[bad]["sender"]
    bodies = {reply["In-Reply-To"]: reply for reply in outbox.messages}
    merged = bodies["<long1@bme.example.edu.cn>"].get_body(preferencelist=("plain",)).get_content()
    refused = bodies["<long2@bme.example.edu.cn>"]
    assert good in merged and "已合并" in merged
    assert "请留意" in merged and "学习活动 第2行 「D」" in merged  # the cleaned text is told, naming its cell
    assert bad in refused.get_body(preferencelist=("plain",)).get_content()
    [marked] = [part for part in refused.iter_attachments()]
    assert len(marked.get_filename().encode()) <= NAME_BYTES
    [sidecar] = [json.loads(p.read_text(encoding="utf-8")) for p in home.folder("archive").glob("*.json")]
    assert (sidecar["file_name"], sidecar["sender"]) == (good, SECRETARY)
    assert _nothing_at_work(home) and not list(home.folder("inbox").glob("*.xlsx"))
