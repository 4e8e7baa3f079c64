"""The mail settings, from HOME's typed settings (`home.settings.mail`, workbook/settings.py, which holds
their defaults), and the password, which is never stored there."""
from __future__ import annotations

import os
import ssl
from dataclasses import dataclass

from ..workbook.home import Home
from ..workbook.i18n import Domain
from ..workbook.settings import MailEndpoint

say = Domain("mail")
PORTS = {"imap": 993, "smtp": 465}  # what a port left null means (workbook/settings.py, MailEndpoint.port)


class MailConfigError(Exception):
    """No password for the mailbox: neither in the environment nor in the OS keyring."""

    def __init__(self, variable: str):
        super().__init__(variable)
        self.variable = variable

    def message(self, lang: str = "zh") -> str:
        return say(lang, "The mail password is not set: set the environment variable {variable}, or store it in "
                         "the system keyring.", variable=self.variable)

    def __str__(self) -> str:
        return self.message("zh")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    security: str  # ssl | starttls | none (none only for a loopback test server)
    user: str | None


@dataclass(frozen=True)
class MailSettings:
    imap: Endpoint | None
    smtp: Endpoint | None
    sender: str | None
    folder: str
    processed_folder: str | None
    poll_seconds: float
    ca_file: str | None
    password_variable: str
    keyring_service: str | None

    @classmethod
    def of(cls, home: Home) -> MailSettings | None:
        mail = home.settings.mail
        if not mail.enabled:
            return None

        def endpoint(kind: str, part: MailEndpoint | None) -> Endpoint | None:
            if part is None:
                return None
            return Endpoint(part.host, part.port or PORTS[kind], part.security, part.user or mail.user)

        return cls(endpoint("imap", mail.imap), endpoint("smtp", mail.smtp), mail.sender or mail.user, mail.folder,
                   mail.processed_folder, mail.poll_seconds, mail.ca_file, mail.password_env, mail.keyring_service)

    def password(self) -> str:
        """From the environment, else the OS keyring; never from the config, never logged."""
        value = os.environ.get(self.password_variable)
        if value:
            return value
        if self.keyring_service:
            try:
                import keyring

                value = keyring.get_password(self.keyring_service, (self.imap or self.smtp).user or "")
            except Exception:  # noqa: BLE001 - no keyring backend on this machine
                value = None
            if value:
                return value
        raise MailConfigError(self.password_variable)

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
