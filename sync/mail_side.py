"""The service's mail side: the fetcher, and the replies after each batch."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.names import marked_copy
from .mail_fetch import MailFetcher, describe
from .mail_intake import Notice
from .mail_ledger import MailLedger
from .mail_reply import Replier
from .mail_settings import MailSettings
from .pipeline import BatchResult

log = logging.getLogger("branchbook.sync")
say = Domain("mail")

QUEUE_RETRY_SECONDS = 60


@dataclass
class MailSide:
    settings: MailSettings
    ledger: MailLedger
    replier: Replier
    fetcher: MailFetcher
    next_queue_try: float = 0.0

    @classmethod
    def of(cls, home: Home, wake: threading.Event | None = None) -> MailSide | None:
        settings = MailSettings.of(home)
        if settings is None:
            return None
        ledger = MailLedger(home.root)
        replier = Replier(home, settings, ledger)
        return cls(settings, ledger, replier, MailFetcher(home, settings, ledger, replier, wake))

    def _safely(self, action, *args) -> None:
        try:
            action(*args)
        except Exception as error:  # noqa: BLE001 - a reply that fails is logged; the return itself is handled
            lang = self.replier.home.lang
            log.warning(say(lang, "a reply by mail failed: {why}", why=describe(error, lang)))

    def notify(self, notices: list[Notice]) -> None:
        """Called on every pass of the worker: new notices, and now and then the queued replies."""
        for notice in notices:
            self._safely(self.replier.reply_notice, notice)
        if time.monotonic() >= self.next_queue_try:
            self.next_queue_try = time.monotonic() + QUEUE_RETRY_SECONDS
            self._safely(self.replier.send_queued)

    def answer(self, result: BatchResult, tables: dict[str, list[dict]]) -> None:
        """Reply to each mailed file, with its branch's figures from `tables` (the ledger after the batch)."""
        for item, sub, outcome in zip(result.items, result.submissions, result.outcomes):
            if not item.mail:
                continue
            filed = result.filed.get(item.name)
            annotated = marked_copy(filed, result.lang) if filed and outcome.result == "rejected" else None
            if annotated is not None and not annotated.exists():
                annotated = None  # an unreadable file has no marked copy: the reply must not promise one
            self._safely(self.replier.reply_outcome, item.mail, sub, outcome, tables, annotated)
