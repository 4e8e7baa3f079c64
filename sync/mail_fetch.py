"""Fetch returns from the office mailbox by IMAP (implicit TLS or STARTTLS).

Takes each new message once (UIDVALIDITY + UID in the ledger), stores its workbooks in the inbox,
then flags it (or moves it) on the server; never deletes. A server that is down, a lost connection
or a wrong password is reported and retried with back-off, on its own thread, so the drop folder is
served meanwhile."""
from __future__ import annotations

import imaplib
import logging
import re
import smtplib
import socket
import ssl
import threading

from ..workbook.home import Home
from ..workbook.i18n import N_, Domain
from .mail_intake import store_mail
from .mail_ledger import MailLedger
from .mail_reply import Replier
from .mail_settings import MailConfigError, MailSettings

log = logging.getLogger("branchbook.sync")
say = Domain("mail")
PROCESSED_KEYWORD = "$BranchBook"
MAX_BACKOFF = 300.0


# Why a connection failed, in words: the office reads them in status.json and the log, never a class name.
CONNECTION_FAILURES = (
    (ConnectionRefusedError, N_("the server refused the connection")),
    (socket.gaierror, N_("the server's address was not found")),
    ((socket.timeout, TimeoutError), N_("the server did not answer in time")),
    ((ConnectionError, smtplib.SMTPServerDisconnected, imaplib.IMAP4.abort), N_("the connection was cut")),
    (smtplib.SMTPException, N_("the server answered in a way not understood")),
    (OSError, N_("a network error")),
)


def describe(error: Exception, lang: str = "zh") -> str:
    """A short description of a mail error in `lang` (server texts carry no password)."""
    if isinstance(error, MailConfigError):
        return error.message(lang)
    if isinstance(error, smtplib.SMTPAuthenticationError) or (
            isinstance(error, imaplib.IMAP4.error) and "auth" in str(error).lower()):
        return say(lang, "wrong mailbox user name or password")
    if isinstance(error, ssl.SSLError):
        reason = N_("the server's certificate could not be verified") \
            if isinstance(error, ssl.SSLCertVerificationError) else N_("no encryption both sides support was found")
        return say(lang, "the encrypted connection to the mail server failed ({reason})", reason=say(lang, reason))
    for kinds, words in CONNECTION_FAILURES:
        if isinstance(error, kinds):
            return say(lang, "cannot connect to the mail server ({kind})", kind=say(lang, words))
    return say(lang, "mail error ({kind})", kind=say(lang, N_("the server answered in a way not understood")))


class MailFetcher:
    def __init__(self, home: Home, settings: MailSettings, ledger: MailLedger, replier: Replier,
                 wake: threading.Event | None = None):
        self.home, self.settings, self.ledger, self.replier = home, settings, ledger, replier
        self.wake = wake
        self.state = {"state": "starting", "message": ""}
        self.thread: threading.Thread | None = None

    def _connect(self) -> imaplib.IMAP4:
        imap = self.settings.imap
        context = self.settings.tls_context()
        if imap.security == "ssl":
            conn = imaplib.IMAP4_SSL(imap.host, imap.port, ssl_context=context, timeout=20)
        else:
            conn = imaplib.IMAP4(imap.host, imap.port, timeout=20)
        try:
            if imap.security == "starttls":
                conn.starttls(ssl_context=context)
            conn.login(imap.user, self.settings.password())
        except BaseException:
            conn.shutdown()  # a refused login must not leave the socket open
            raise
        return conn

    def poll(self) -> int:
        """One look at the mailbox; returns how many messages were taken."""
        conn = self._connect()
        try:
            status, _ = conn.select(self._quoted(self.settings.folder))
            if status != "OK":
                raise imaplib.IMAP4.error(f"cannot select {self.settings.folder}")
            validity = int(conn.response("UIDVALIDITY")[1][0])
            if self.ledger.uidvalidity != validity:
                self.ledger.reset_folder(validity)
            _, data = conn.uid("SEARCH", None, "ALL")
            uids = [int(u) for u in (data[0] or b"").split()]
            taken = 0
            for uid in (u for u in uids if u not in self.ledger.uids):
                _, parts = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
                if raw is None:
                    continue
                _, notices = store_mail(self.home, raw, f"imap:{validity}:{uid}")
                for notice in notices:
                    self.replier.reply_notice(notice)
                self._mark_processed(conn, uid)
                self.ledger.took(uid)
                taken += 1
            if taken and self.wake:
                self.wake.set()
            return taken
        finally:
            try:
                conn.logout()
            except Exception:  # noqa: BLE001 - already gone
                pass

    def _mark_processed(self, conn: imaplib.IMAP4, uid: int) -> None:
        conn.uid("STORE", str(uid), "+FLAGS", f"(\\Seen {PROCESSED_KEYWORD})")
        target = self.settings.processed_folder
        if target:
            conn.create(self._quoted(target))  # fails harmlessly when it exists
            status, _ = conn.uid("MOVE", str(uid), self._quoted(target))
            if status != "OK":
                conn.uid("COPY", str(uid), self._quoted(target))  # never delete: a copy and the flag will do

    @staticmethod
    def _quoted(folder: str) -> str:
        return folder if re.fullmatch(r"[A-Za-z0-9._/-]+", folder) else '"' + folder.replace('"', '\\"') + '"'

    def run(self, stop: threading.Event) -> None:
        lang = self.home.lang
        delay = self.settings.poll_seconds
        while not stop.is_set():
            try:
                taken = self.poll()
                self.state = {"state": "ok", "message": say(lang, "mailbox fine; messages taken this time: {count}",
                                                            count=taken)}
                delay = self.settings.poll_seconds
            except Exception as error:  # noqa: BLE001 - reported, retried; the drop folder goes on
                delay = min(max(delay * 2, 5.0), MAX_BACKOFF)
                self.state = {"state": "error", "message": say(lang, "{problem}; trying again in {seconds} s",
                                                               problem=describe(error, lang), seconds=f"{delay:.0f}")}
                log.warning(say(lang, "mailbox: {message}", message=self.state["message"]))
                log.debug(say(lang, "what went wrong with the mailbox"), exc_info=True)
            stop.wait(delay)

    def start(self, stop: threading.Event) -> None:
        self.thread = threading.Thread(target=self.run, args=(stop,), name="branchbook-mail", daemon=False)
        self.thread.start()

    def join(self) -> None:
        if self.thread:
            self.thread.join(timeout=60)
