"""Settings read from the environment, with defaults that are safe on a fresh machine.

Nothing secret lives in the repository: when ``LAKS_SECRET_KEY`` is not set, a key is
generated once and kept in the instance folder (outside version control), so sessions
survive restarts without anyone having to invent a key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    from_env = os.environ.get("LAKS_SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    # Create with owner-only permissions: the key signs sessions and invitation links.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


#: A shorter key can be guessed or brute-forced offline from one signed cookie.
MIN_SECRET_KEY_BYTES = 32
#: Failed logins allowed for one e-mail address, and from one network address.
LOGIN_LIMIT = "5 per 15 minutes"
LOGIN_ADDRESS_LIMIT = "30 per 15 minutes"
#: Requests for a password-reset link or a new invitation, per e-mail and per address.
RESET_LIMIT = "5 per hour"
RESET_ADDRESS_LIMIT = "30 per hour"
#: How long the audit log keeps an event when LAKS_AUDIT_RETENTION_DAYS is not set: five
#: years (of 365.25 days).
AUDIT_RETENTION_DAYS = 1826
#: The sender of laks' mails when LAKS_MAIL_FROM is not set.
MAIL_FROM = "laks <noreply@localhost>"


def _number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def from_environment(instance_path: str) -> dict:
    """Return the Flask config for this process, read from ``LAKS_*`` variables."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("LAKS_DATABASE_URL") or f"sqlite:///{folder / 'laks.sqlite'}"
    return {
        "SECRET_KEY": _secret_key(folder),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": "da",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Copenhagen",
        "LAKS_LOCALES": ("da", "en"),
        "LAKS_BASE_URL": os.environ.get("LAKS_BASE_URL", "http://127.0.0.1:5000"),
        # Where the accessibility statement tells people to report a problem.
        "LAKS_CONTACT_EMAIL": os.environ.get("LAKS_CONTACT_EMAIL", ""),
        # The network that publishes the catalogue: the PDF's author and running header.
        "LAKS_NETWORK_NAME": os.environ.get("LAKS_NETWORK_NAME", "Sund By Netværket"),
        "LAKS_INVITATION_MAX_AGE": int(os.environ.get("LAKS_INVITATION_MAX_AGE", 7 * 24 * 3600)),
        # A link to choose a new password works once, for this many seconds.
        "LAKS_PASSWORD_RESET_MAX_AGE": int(os.environ.get("LAKS_PASSWORD_RESET_MAX_AGE", 3600)),
        # Requests for such a link (or a new invitation) per e-mail and per network address.
        "LAKS_RESET_LIMIT": os.environ.get("LAKS_RESET_LIMIT", RESET_LIMIT),
        "LAKS_RESET_ADDRESS_LIMIT": os.environ.get("LAKS_RESET_ADDRESS_LIMIT",
                                                   RESET_ADDRESS_LIMIT),
        # Mail: sent through this SMTP server (smtp://user:pass@host:port, smtps://… for TLS,
        # ?starttls=1); without one, mails are written as .eml files to the outbox folder.
        "LAKS_SMTP_URL": os.environ.get("LAKS_SMTP_URL", ""),
        "LAKS_MAIL_FROM": os.environ.get("LAKS_MAIL_FROM", MAIL_FROM),
        # Empty: the folder "outbox" in the instance folder (laks.services.mail.outbox_dir).
        "LAKS_OUTBOX_DIR": os.environ.get("LAKS_OUTBOX_DIR", ""),
        # Where counters of login attempts live: in memory (each process counts for itself)
        # unless a Redis server is given, which every worker and machine then shares.
        "LAKS_REDIS_URL": os.environ.get("LAKS_REDIS_URL", ""),
        "LAKS_LOGIN_LIMIT": os.environ.get("LAKS_LOGIN_LIMIT", LOGIN_LIMIT),
        "LAKS_LOGIN_ADDRESS_LIMIT": os.environ.get("LAKS_LOGIN_ADDRESS_LIMIT",
                                                   LOGIN_ADDRESS_LIMIT),
        # How many reverse proxies in front of laks set X-Forwarded-For (0: none, the
        # address of the connection is the visitor's).
        "LAKS_PROXY_COUNT": int(os.environ.get("LAKS_PROXY_COUNT", "0")),
        # A session ends after this long without a request, and this long after login.
        "LAKS_SESSION_IDLE_MINUTES": _number("LAKS_SESSION_IDLE_MINUTES", 120),
        "LAKS_SESSION_MAX_HOURS": _number("LAKS_SESSION_MAX_HOURS", 12),
        "LAKS_SECURE_COOKIES": os.environ.get("LAKS_SECURE_COOKIES", "0") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("LAKS_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_SECURE": os.environ.get("LAKS_SECURE_COOKIES", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        # How long the audit log keeps an event (days) before `flask --app laks audit prune`
        # deletes it: five years by default.
        "LAKS_AUDIT_RETENTION_DAYS": int(os.environ.get("LAKS_AUDIT_RETENTION_DAYS",
                                                        AUDIT_RETENTION_DAYS)),
        # A module form is text; nothing a person types comes near this.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }
