"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, on a free port, keeping every
mail it receives (parsed) so that a test can read what laks sent.

Fixtures: ``smtp_server`` (plain SMTP, optional login), ``tls_certificate`` (a self-signed
certificate for 127.0.0.1 that the test process trusts, for ``smtps://`` and STARTTLS) and
``closed_port`` (a port where nothing listens: an unreachable server).
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, SECRET = "laks-mailer", "s3cret pass/word"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    """One mail as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated_as: str | None
    tls: bool


@dataclass
class SmtpServer:
    port: int
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550

    def url(self, scheme: str = "smtp", login: bool = False, query: str = "") -> str:
        credentials = f"{USER}:{SECRET.replace(' ', '%20').replace('/', '%2F')}@" if login \
            else ""
        return f"{scheme}://{credentials}127.0.0.1:{self.port}{query}"

    def wait_for(self, count: int, seconds: float = 15) -> list[Received]:
        """The mails received, once there are at least ``count`` (or fail after a while)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails, the server has {len(self.received)}")

    # aiosmtpd's handler hooks -----------------------------------------------------------------

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content,
                                     policy=policy.default)
        login = session.login_data.decode() if session.authenticated else None
        tls = server.transport.get_extra_info("ssl_object") is not None
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          message, login, tls))
        return "250 Message accepted"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER \
        and auth_data.password.decode() == SECRET
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def _start(handler: SmtpServer, **options) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port,
                            authenticator=_authenticator, auth_required=False,
                            auth_require_tls=False, auth_exclude_mechanism=["LOGIN"],
                            **options)
    controller.start()
    return controller


@pytest.fixture
def smtp_server():
    """A plain SMTP server (login optional, checked when given)."""
    server = SmtpServer(port=free_port())
    controller = _start(server)
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def tls_certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted by this process (SSL_CERT_FILE) as a
    real CA-signed one would be: (certificate file, key file)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def smtps_server(tls_certificate):
    """An SMTP server speaking TLS from the first byte (smtps://)."""
    server = SmtpServer(port=free_port())
    controller = _start(server, ssl_context=_server_context(*tls_certificate))
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(tls_certificate):
    """An SMTP server that refuses mail until the client has started TLS (STARTTLS)."""
    server = SmtpServer(port=free_port())
    controller = _start(server, tls_context=_server_context(*tls_certificate),
                        require_starttls=True)
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting is refused at once."""
    return free_port()
