"""Answer the secretary in Chinese after her return is processed, once per return even across
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
from ..workbook.home import Home
from ..workbook.merge import Outcome
from ..workbook.submission import Submission
from .mail_intake import Notice
from .mail_ledger import MailLedger
from .mail_settings import MailSettings

log = logging.getLogger("branchbook.sync")
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def week_figures(tables: dict[str, list[dict]], branch_id: str, week: int) -> list[str]:
    prefix = ids.sessions_of(ids.return_id(branch_id, week))
    sessions = [s for s in tables.get("sessions", []) if str(s.get("session_id", "")).startswith(prefix)]
    attendance = [a for a in tables.get("attendance", []) if str(a.get("session_id", "")).startswith(prefix)]
    present = sum(a.get("status") == "present" for a in attendance)
    counted = sum(a.get("status") in ("present", "absent") for a in attendance)
    members = {m["member_id"] for m in tables.get("members", []) if m.get("branch_id") == branch_id}
    study = sum(float(r.get("hours") or 0) for r in tables.get("selfstudy", [])
                if ids.source_return(r.get("source_return")) == ids.return_id(branch_id, week))
    flags = [f for f in tables.get("flags", []) if f.get("branch") and f.get("subject_id") in members]
    lines = [f"本周学习活动 {len(sessions)} 次，出勤 {present} 人次"
             + (f"（出勤率 {present / counted:.0%}）" if counted else "") + f"，自学合计 {study:g} 学时。"]
    lines.append(f"目前本支部有 {len(flags)} 条落后提醒，请支部跟进：" if flags else "目前本支部没有落后提醒。")
    lines += [f"  {f['name']}：{f['rule']}。{f['detail']}" for f in flags[:20]]
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
            self.queue.mkdir(exist_ok=True)
            name = hashlib.sha256(key.encode()).hexdigest()[:16] + ".eml"
            (self.queue / name).write_bytes(message.as_bytes())
            log.warning("发给 %s 的回复暂存待发（%s）", message["To"], type(error).__name__)
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
                client.login(smtp.user, self.settings.password())
            client.send_message(message)

    def _message(self, to: str, subject: str, body: str, in_reply_to: str | None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = f"Re: {subject}" if subject else "回执处理结果"
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
        greeting = "您好！\n\n"
        if outcome.result == "merged":
            body = greeting + f"您发来的“{sub.file_name}”已合并进学院台账（第{sub.week}周）。\n\n" + \
                "\n".join(week_figures(tables, sub.branch_id, sub.week))
        elif outcome.result == "rejected":
            body = greeting + f"您发来的“{sub.file_name}”没有合并，请改正以下问题后重新发送：\n\n" + \
                "\n".join(f"{n}. {p}" for n, p in enumerate(outcome.problems, start=1)) + \
                ("\n\n附件中出错的单元格已标红并附说明。" if annotated else "")
        elif outcome.result == "quarantined":
            body = greeting + f"已收到“{sub.file_name}”。{sub.hold}，学院核实后再合并，请勿重复发送。"
        elif outcome.result == "superseded":
            body = greeting + f"“{sub.file_name}”比学院已收到的同一周回执更早，未覆盖较新的版本。"
        else:
            return False
        message = self._message(sub.sender, mail.get("subject", ""), body + "\n\n——学院党委（BranchBook 自动回复）",
                                mail.get("message_id"))
        if annotated and annotated.exists():
            message.add_attachment(annotated.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=annotated.name)
        self._deliver(message, key, outcome.result)
        log.info("已回复 %s：%s %s", sub.sender, sub.file_name, outcome.result)
        return True

    def send_reminders(self, reminders, as_of) -> int:
        """Each secretary's reminder, once per day of reckoning."""
        sent = 0
        for reminder in reminders:
            key = f"remind|{reminder.branch_id}|{as_of.isoformat()}"
            if not reminder.email or self.ledger.has_replied(key):
                continue
            message = self._message(reminder.email, "", reminder.text, None)
            message.replace_header("Subject", f"{reminder.branch}：先进性教育活动进度提醒（截至 {as_of:%m月%d日}）")
            self._deliver(message, key, "reminder")
            sent += 1
        return sent

    def reply_notice(self, notice: Notice) -> bool:
        if not self.settings.smtp or not notice.sender or self.ledger.has_replied(notice.key):
            return False
        self._deliver(self._message(notice.sender, notice.subject, "您好！\n\n" + notice.text, notice.message_id),
                      notice.key, "notice")
        return True
