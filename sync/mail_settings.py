"""The mail settings in HOME's config, and the password, which is never stored there."""
from __future__ import annotations

import os
import ssl
from dataclasses import dataclass

from ..workbook.home import Home

DEFAULT_PASSWORD_VARIABLE = "BRANCHBOOK_MAIL_PASSWORD"


class MailConfigError(Exception):
    pass


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
        raw = home.config.get("mail") or {}
        if not raw.get("enabled"):
            return None

        def endpoint(key: str, default_port: int) -> Endpoint | None:
            part = raw.get(key)
            if not part:
                return None
            return Endpoint(part["host"], int(part.get("port", default_port)), part.get("security", "ssl"),
                            part.get("user", raw.get("user")))

        return cls(endpoint("imap", 993), endpoint("smtp", 465), raw.get("from") or raw.get("user"),
                   raw.get("folder", "INBOX"), raw.get("processed_folder"), float(raw.get("poll_seconds", 60)),
                   raw.get("ca_file"), raw.get("password_env", DEFAULT_PASSWORD_VARIABLE), raw.get("keyring_service"))

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
        raise MailConfigError(f"未设置邮箱密码：请设置环境变量 {self.password_variable}，或存入系统钥匙串。")

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
