"""Answer the secretary in HOME's language after her return is processed, once per return even across
restarts: accepted with her branch's week in figures, or rejected with each finding and the
marked workbook attached."""
from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from ..workbook import ids
from ..workbook.flags import day_words
from ..workbook.home import Home
from ..workbook.i18n import N_, Domain
from ..workbook.merge import Outcome
from ..workbook.submission import Submission
from .mail_intake import Notice
from .mail_ledger import MailLedger
from .mail_settings import MailSettings

log = logging.getLogger("branchbook.sync")
say = Domain("mail")
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def week_figures(tables: dict[str, list[dict]], branch_id: str, week: int, lang: str = "zh") -> list[str]:
    prefix = ids.sessions_of(ids.return_id(branch_id, week))
    sessions = [s for s in tables.get("sessions", []) if str(s.get("session_id", "")).startswith(prefix)]
    attendance = [a for a in tables.get("attendance", []) if str(a.get("session_id", "")).startswith(prefix)]
    present = sum(a.get("status") == "present" for a in attendance)
    counted = sum(a.get("status") in ("present", "absent") for a in attendance)
    members = {m["member_id"] for m in tables.get("members", []) if m.get("branch_id") == branch_id}
    study = sum(float(r.get("hours") or 0) for r in tables.get("selfstudy", [])
                if ids.source_return(r.get("source_return")) == ids.return_id(branch_id, week))
    flags = [f for f in tables.get("flags", []) if f.get("branch") and f.get("subject_id") in members]
    if counted:
        week_line = say(lang, "This week: {sessions} study sessions, {present} attendances (attendance rate {rate}), "
                              "{hours} hours of self-study in all.", sessions=len(sessions), present=present,
                        rate=f"{present / counted:.0%}", hours=f"{study:g}")
    else:
        week_line = say(lang, "This week: {sessions} study sessions, {present} attendances, {hours} hours of "
                              "self-study in all.", sessions=len(sessions), present=present, hours=f"{study:g}")
    lines = [week_line]
    lines.append(say(lang, "Flags for your branch at present: {count}. Please follow them up:", count=len(flags))
                 if flags else say(lang, "Your branch has no flags at present."))
    lines += [say(lang, "  {name}: {rule}. {detail}", name=f["name"], rule=f["rule"], detail=f["detail"])
              for f in flags[:20]]
    return lines


QUEUE_FOLDER = "mail-outbox"


class Replier:
    def __init__(self, home: Home, settings: MailSettings, ledger: MailLedger):
        self.home, self.settings, self.ledger = home, settings, ledger
        self.queue = home.root / QUEUE_FOLDER

    def _deliver(self, message: EmailMessage, key: str, what: str) -> None:
        """Send now, or, with the mail server away, keep the message in mail-outbox/ to send later;
        either way it is composed and counted once."""
        try:
            self._send(message)
        except (OSError, smtplib.SMTPException) as error:
            from .mail_fetch import describe  # here: mail_fetch imports this module

            self.queue.mkdir(exist_ok=True)
            name = hashlib.sha256(key.encode()).hexdigest()[:16] + ".eml"
            (self.queue / name).write_bytes(message.as_bytes())
            log.warning(say(self.home.lang, "the reply to {to} is kept to be sent later ({why})", to=message["To"],
                            why=describe(error, self.home.lang)))
            what += "|queued"
        self.ledger.mark_replied(key, what)

    def send_queued(self) -> int:
        """Send what waits in mail-outbox/; stop at the first failure (the server is still away)."""
        sent = 0
        for path in sorted(self.queue.glob("*.eml")) if self.queue.is_dir() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            try:
                self._send(message)
            except (OSError, smtplib.SMTPException):
                break
            path.unlink()
            sent += 1
        return sent

    def _send(self, message: EmailMessage) -> None:
        smtp = self.settings.smtp
        context = self.settings.tls_context()
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, context=context, timeout=20)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=20)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if smtp.user:
                client.ehlo_or_helo_if_needed()
                if client.has_extn("auth"):  # a relay that offers no login (a loopback test server) takes mail as is
                    client.login(smtp.user, self.settings.password())
            client.send_message(message)

    def _message(self, to: str, subject: str, body: str, in_reply_to: str | None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = say(self.home.lang, "Re: {subject}", subject=subject) if subject \
            else say(self.home.lang, "Your return: how it went")
        message["Message-ID"] = make_msgid(domain="branchbook.local")
        if in_reply_to:
            message["In-Reply-To"] = in_reply_to
            message["References"] = in_reply_to
        message.set_content(body, charset="utf-8")
        return message

    def reply_outcome(self, mail: dict, sub: Submission, outcome: Outcome, tables: dict, annotated: Path | None) -> bool:
        key = f"{sub.receipt_id}|{outcome.result}"
        if not self.settings.smtp or not sub.sender or outcome.result == "duplicate" or self.ledger.has_replied(key):
            return False
        lang = self.home.lang
        if outcome.result == "merged":
            body = say(lang, "Hello,\n\nYour file \"{name}\" has been merged into the college's ledger (week {week})."
                             "\n\n{figures}", name=sub.file_name, week=sub.week,
                       figures="\n".join(week_figures(tables, sub.branch_id, sub.week, lang)))
            notes = sub.notes(lang)
            if notes:  # what was merged other than as sent (text cleaned, a date's year added) is said, by its cell
                body += "\n\n" + say(lang, "Please note:\n\n{notes}", notes=_numbered(lang, notes))
        elif outcome.result == "rejected":
            # The findings in HOME's language (outcome.problems holds them as the merge worded them).
            problems = _numbered(lang, sub.problems(lang))
            if annotated:
                body = say(lang, "Hello,\n\nYour file \"{name}\" was not merged. Please correct the following and "
                                 "send it again:\n\n{problems}\n\nIn the attached copy the cells in error are marked "
                                 "in red, with a note.", name=sub.file_name, problems=problems)
            else:
                body = say(lang, "Hello,\n\nYour file \"{name}\" was not merged. Please correct the following and "
                                 "send it again:\n\n{problems}", name=sub.file_name, problems=problems)
        elif outcome.result == "quarantined":
            body = say(lang, "Hello,\n\nWe have received \"{name}\". {why}: the college checks it before merging "
                             "it. Please do not send it again.", name=sub.file_name, why=_sentence(sub.hold or ""))
        elif outcome.result == "superseded":
            body = say(lang, "Hello,\n\n\"{name}\" is older than the return for the same week the college already "
                             "has; it did not replace the newer version.", name=sub.file_name)
        else:
            return False
        message = self._message(sub.sender, mail.get("subject", ""),
                                say(lang, "{body}\n\n-- The college Party committee (an automatic reply from "
                                          "BranchBook)", body=body), mail.get("message_id"))
        if annotated and annotated.exists():
            message.add_attachment(annotated.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=annotated.name)
        self._deliver(message, key, outcome.result)
        log.info(say(lang, "replied to {sender}: {name} {result}", sender=sub.sender, name=sub.file_name,
                     result=outcome.result))
        return True

    def send_reminders(self, reminders, as_of) -> int:
        """Each secretary's reminder, once per day of reckoning."""
        return self._send_letters(reminders, as_of, "reminder", lambda r: (f"remind|{r.branch_id}", r.branch), N_(
            "{name}: progress reminder for the {campaign} (as of {day})"))

    def send_digests(self, digests, as_of) -> int:
        """Each liaison's digest of her branches, once per day of reckoning."""
        return self._send_letters(digests, as_of, "digest", lambda d: (f"digest|{d.committee_id}", d.liaison), N_(
            "{name}: digest of the branches you liaise with in the {campaign} (as of {day})"))

    def _send_letters(self, letters, as_of, what: str, key_and_name, subject: str) -> int:
        """Letters made in workbook/reports, each to its own address, each once per day (the key names it)."""
        sent = 0
        for letter in letters:
            prefix, name = key_and_name(letter)
            key = f"{prefix}|{as_of.isoformat()}"
            if not letter.email or self.ledger.has_replied(key):
                continue
            message = self._message(letter.email, "", letter.text, None)
            message.replace_header("Subject", say(self.home.lang, subject, name=name,
                                                  day=day_words(self.home.lang, as_of),
                                                  campaign=self.home.campaign.short(self.home.lang)))
            self._deliver(message, key, what)
            sent += 1
        return sent

    def reply_notice(self, notice: Notice) -> bool:
        if not self.settings.smtp or not notice.sender or self.ledger.has_replied(notice.key):
            return False
        self._deliver(self._message(notice.sender, notice.subject,
                                    say(self.home.lang, "Hello,\n\n{text}", text=notice.text), notice.message_id),
                      notice.key, "notice")
        return True


def _numbered(lang: str, lines: list[str]) -> str:
    return "\n".join(say(lang, "{number}. {problem}", number=n, problem=line) for n, line in enumerate(lines, start=1))


def _sentence(text: str) -> str:
    """A clause as the start of a sentence (English capitalises it; Chinese has no case)."""
    return text[:1].upper() + text[1:]
