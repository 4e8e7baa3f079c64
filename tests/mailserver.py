"""Real mail servers on loopback for the tests: Dovecot (IMAP, TLS with a certificate made here)
and aiosmtpd (SMTP) collecting the replies."""
from __future__ import annotations

import datetime as dt
import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

USER = "office@bme.example.edu.cn"
PASSWORD = "Zx9-loopback-only-7Qw"  # distinctive, so a test can grep for it
DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return cert_path, key_path


class Dovecot:
    """Dovecot as a normal process with its whole configuration in a temporary folder."""

    def __init__(self):
        if not Path(DOVECOT).exists():
            raise RuntimeError("dovecot is missing: run the tests through `bash tools/dev.sh test`, which installs it")
        # Its own folder under /tmp: the mail user (nobody) must be able to walk down to the mailboxes,
        # which pytest's private temporary folders forbid.
        import tempfile

        folder = self.folder = Path(tempfile.mkdtemp(prefix="branchbook-dovecot-"))
        self.cert, self.key = make_certificate(folder)
        self.imaps_port, self.imap_port = free_port(), free_port()
        mail = folder / "mail"
        mail.mkdir()
        os.chmod(mail, 0o777)
        os.chmod(folder, 0o755)
        (folder / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
ssl = required
ssl_cert = <{self.cert}
ssl_key = <{self.key}
auth_mechanisms = plain login
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={mail}/%u
}}
mail_location = maildir:{mail}/%u/Maildir
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
  }}
}}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
""")
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(folder / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.imaps_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not start: {(folder / 'dovecot.log').read_text() if (folder / 'dovecot.log').exists() else ''}")

    def client(self) -> imaplib.IMAP4_SSL:
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=ssl.create_default_context(cafile=self.cert))
        conn.login(USER, PASSWORD)
        return conn

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.client()
        try:
            conn.append(folder, None, None, raw)
        finally:
            conn.logout()

    def flags(self, folder: str = "INBOX") -> list[str]:
        conn = self.client()
        try:
            conn.select(folder)
            _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            return [item.decode() for item in data if item]
        finally:
            conn.logout()

    def clear(self) -> None:
        mailbox = self.folder / "mail"
        for child in mailbox.iterdir():
            shutil.rmtree(child, ignore_errors=True)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


class Outbox:
    """aiosmtpd on loopback, keeping every message it receives."""

    def __init__(self):

        self.messages: list = []
        outbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import email
                import email.policy

                outbox.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        self.port = free_port()
        self.handler = Handler()
        self.controller = None
        self.start()

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None
