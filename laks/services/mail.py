"""Mail: queued in the caller's transaction, sent outside the request.

:func:`queue_mail` renders a mail from ``templates/mail/<template>.txt`` and ``.html`` in the
recipient's language and adds it to the queue table (``MailMessage``) in the caller's
transaction; the caller commits once, and the job mechanism (laks.jobs) starts sending only
after that commit. :func:`send_pending` sends what is due: through the SMTP server of
``LAKS_SMTP_URL``, or – with none configured – by writing each mail as an ``.eml`` file to
the outbox folder. A failed attempt keeps the mail queued with its error and a later next
attempt; after the last attempt it is marked failed, for the admin to send again. Nothing
is lost, and nothing here ever fails the request of the person who caused the mail.
"""

from __future__ import annotations

import importlib
import logging
import os
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from laks.audit import record
from laks.enums import MailStatus
from laks.extensions import db
from laks.i18n import BABEL_LOCALES
from laks.models import MailMessage, User, utcnow

log = logging.getLogger(__name__)

#: The wait before each further attempt after a failure: 1 and 5 minutes, half an hour, two
#: hours, twelve hours. After the attempt that follows the last wait, the mail has failed.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
                timedelta(hours=2), timedelta(hours=12))
#: Attempts in all before a mail is marked failed.
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: A claimed mail is someone's for this long: if its sender stops mid-way (a process killed),
#: the mail is due again after it – sent twice at worst, never lost.
CLAIM_TIME = timedelta(minutes=10)
#: Seconds to wait for the SMTP server before the attempt counts as failed.
SMTP_TIMEOUT = 20
#: How many mails one call of send_pending takes at most (the rest wait for the next call).
BATCH_SIZE = 200

#: The kinds of mail laks sends, as the admin's outbox names them.
MAIL_KIND_LABELS = {
    "invitation": _l("Invitation"),
    "password_reset": _l("Password reset"),
    # The notices (laks.services.notifications.KINDS), as a mail.
    "module_submitted": _l("Module submitted"),
    "module_changes_requested": _l("Changes requested"),
    "module_approved": _l("Module approved"),
    "module_reopened": _l("Module reopened"),
    "module_comment": _l("Comment"),
    "reminder_due": _l("Reminder: due in a week"),
    "reminder_overdue": _l("Reminder: overdue"),
}


class MailError(ValueError):
    """A mail that cannot be queued (no address) or an SMTP setting that cannot be read."""


def mail_kind_label(kind: str) -> str:
    label = MAIL_KIND_LABELS.get(kind)
    return str(label) if label is not None else kind


def absolute_url(endpoint: str, **values) -> str:
    """A link for a mail: built against ``LAKS_BASE_URL`` from the URL map, so that it is
    the same inside a request, in a job and on the command line."""
    base = current_app.config["LAKS_BASE_URL"].rstrip("/")
    return base + current_app.url_map.bind("laks").build(endpoint, values)


# --- writing mails ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def render_mail(template: str, language: str = "da", **context) -> RenderedMail:
    """Render ``templates/mail/<template>.txt`` and ``.html`` in ``language``.

    The text template sets the subject (``{% set subject = _("…") %}``); both templates
    receive ``context`` plus ``subject``, ``network_name`` and ``home_url``. Works inside a
    request and outside one (a job, the command line): links must be absolute
    (:func:`absolute_url`), never ``url_for``.
    """
    language = language if language in BABEL_LOCALES else "da"
    app = current_app._get_current_object()
    values = {"network_name": app.config["LAKS_NETWORK_NAME"],
              "home_url": absolute_url("public.index"), "language": language, **context}
    with force_locale(BABEL_LOCALES[language]):
        text_context = dict(values)
        app.update_template_context(text_context)
        module = app.jinja_env.get_template(f"mail/{template}.txt").make_module(text_context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        if not subject:
            raise MailError(f"templates/mail/{template}.txt sets no subject")
        text = str(module).strip() + "\n"
        html = render_template(f"mail/{template}.html", subject=subject, **values)
    return RenderedMail(subject=subject[:200], text=text, html=html)


def queue_mail(to: User | str, kind: str, template: str, *, language: str | None = None,
               once_key: str | None = None, **context) -> MailMessage:
    """Queue a mail to a person (in their language, Danish by default) or to an address.

    Renders the mail now, adds it to the caller's transaction (flushed; the caller commits)
    and asks the background jobs to send it once that transaction commits. ``context`` goes
    to the templates, with ``recipient`` (the User, or None). With ``once_key``, a mail with
    that key that exists already is returned instead of a second one (a reminder goes out
    once). Raises MailError for a recipient without an address.
    """
    user = to if isinstance(to, User) else None
    address = (user.email if user is not None else str(to or "")).strip()
    if not address or "@" not in address:
        raise MailError(f"no e-mail address to send the {kind} mail to: {to!r}")
    if once_key is not None:
        existing = db.session.scalar(select(MailMessage).where(MailMessage.once_key == once_key))
        if existing is not None:
            return existing
    language = language or (user.language if user is not None else None) or "da"
    rendered = render_mail(template, language, recipient=user, **context)
    message = MailMessage(
        to_address=address, user=user, kind=kind, language=language,
        subject=rendered.subject, text_body=rendered.text, html_body=rendered.html,
        status=MailStatus.QUEUED, attempts=0, last_error="", once_key=once_key,
        created_at=utcnow(), next_attempt_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    _ask_for_sending()
    return message


def send_invitation(user: User, *, actor: User | None) -> MailMessage:
    """Queue the invitation mail for ``user``: a link to choose a password that works once
    and expires after ``LAKS_INVITATION_MAX_AGE`` seconds. Audited as ``user.invite``.
    Raises MailError for a deactivated person (activate first)."""
    from laks.services.accounts import invitation_url

    if not user.active:
        raise MailError(f"{user.email} is deactivated; activate the account first.")
    days = max(1, round(current_app.config["LAKS_INVITATION_MAX_AGE"] / 86400))
    message = queue_mail(user, "invitation", "invitation", link=invitation_url(user),
                         days=days, inviter=actor)
    record(actor, "user.invite", user, mail_id=message.id)
    return message


def resend(message: MailMessage, *, actor: User) -> MailMessage:
    """Put a failed (or still queued) mail back in the queue to be sent now, with a fresh
    series of attempts; its last error stays until the next attempt. Audited."""
    if message.status == MailStatus.SENT:
        raise MailError("This mail has been sent already.")
    message.status = MailStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = utcnow()
    db.session.flush()
    record(actor, "mail.resend", message, kind=message.kind)
    _ask_for_sending()
    return message


def _ask_for_sending() -> None:
    # The jobs sit above the services (they run them), so the module is looked up when a
    # mail is queued, not imported – as laks.services.catalogue does for its PDFs.
    importlib.import_module("laks.jobs").enqueue_mail_sending()


# --- sending ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: str
    tls: bool  # smtps: TLS from the first byte
    starttls: bool


def smtp_settings(url: str | None = None) -> SmtpSettings | None:
    """``LAKS_SMTP_URL`` read: ``smtp://user:pass@host:port`` (port 25 unless given),
    ``smtps://…`` for TLS (port 465), ``?starttls=1`` to upgrade a plain connection.
    None when no SMTP server is configured. Raises MailError for a URL it cannot read."""
    url = current_app.config.get("LAKS_SMTP_URL", "") if url is None else url
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("LAKS_SMTP_URL must look like smtp://user:password@host:port "
                        "or smtps://…")
    try:
        port = parts.port
    except ValueError:
        raise MailError("LAKS_SMTP_URL has a port that is not a number.") from None
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes")
    tls = parts.scheme == "smtps"
    return SmtpSettings(host=parts.hostname, port=port or (465 if tls else 25),
                        username=unquote(parts.username or ""),
                        password=unquote(parts.password or ""), tls=tls, starttls=starttls)


def outbox_dir() -> Path:
    """Where mails are written without SMTP: ``LAKS_OUTBOX_DIR``, or ``<instance>/outbox``."""
    return Path(current_app.config.get("LAKS_OUTBOX_DIR")
                or Path(current_app.instance_path) / "outbox")


def eml_name(message: MailMessage) -> str:
    """The file a mail is written to in the outbox folder."""
    return f"mail-{message.id}.eml"


def build_email(message: MailMessage, now: datetime | None = None) -> EmailMessage:
    """The mail as it is sent: plain text and HTML as alternatives, Date, Message-ID (the same
    on every attempt, so a receiver can tell a repeat), From ``LAKS_MAIL_FROM``."""
    sender = current_app.config["LAKS_MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    name = message.user.name if message.user is not None else ""
    email["To"] = formataddr((name, message.to_address)) if name else message.to_address
    email["Date"] = formatdate((now or utcnow()).timestamp(), usegmt=True)  # RFC 5322
    email["Message-ID"] = (f"<laks.{message.id}.{int(message.created_at.timestamp())}"
                           f"@{domain}>")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    email["Content-Language"] = message.language  # after the content, which clears Content-*
    return email


class _Transport:
    """One SMTP connection for a batch of mails, opened at the first mail; or the outbox."""

    def __init__(self, settings: SmtpSettings | None):
        self.settings = settings
        self.connection: smtplib.SMTP | None = None
        # Why the server could not be reached: every further mail of the batch fails with it
        # at once, rather than waiting for the same timeout again.
        self.unreachable: BaseException | None = None

    def send(self, email: EmailMessage, message: MailMessage) -> None:
        if self.settings is None:
            _write_eml(email, outbox_dir() / eml_name(message))
            return
        if self.unreachable is not None:
            raise self.unreachable
        if self.connection is None:
            try:
                self.connection = _connect(self.settings)
            except Exception as error:
                self.unreachable = error
                raise
        try:
            self.connection.send_message(email)
        except smtplib.SMTPServerDisconnected:
            # A connection the server closed between two mails: one more try on a new one.
            self.close()
            self.connection = _connect(self.settings)
            self.connection.send_message(email)

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.tls:
        connection = smtplib.SMTP_SSL(settings.host, settings.port, timeout=SMTP_TIMEOUT,
                                      context=context)
    else:
        connection = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT)
    try:
        if settings.starttls and not settings.tls:
            connection.starttls(context=context)
        if settings.username:
            connection.login(settings.username, settings.password)
    except BaseException:
        connection.close()
        raise
    return connection


def _write_eml(email: EmailMessage, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".mail-", suffix=".eml.part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(email.as_bytes())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def due_ids(now: datetime | None = None, limit: int = BATCH_SIZE) -> list[int]:
    """The queued mails whose next attempt has come, oldest first."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(MailMessage.id)
        .where(MailMessage.status == MailStatus.QUEUED, MailMessage.next_attempt_at <= now)
        .order_by(MailMessage.next_attempt_at, MailMessage.id).limit(limit)))


def claim(message_id: int, now: datetime | None = None) -> bool:
    """Take a due mail for this sender in one UPDATE (its own transaction): the attempt is
    counted and the mail is not due again for CLAIM_TIME. True for exactly one of any number
    of senders asking at once."""
    now = now or utcnow()
    with db.engine.begin() as conn:
        result = conn.execute(
            update(MailMessage)
            .where(MailMessage.id == message_id, MailMessage.status == MailStatus.QUEUED,
                   MailMessage.next_attempt_at <= now)
            .values(attempts=MailMessage.attempts + 1, next_attempt_at=now + CLAIM_TIME))
    return result.rowcount == 1


def _finish(message_id: int, **values) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(MailMessage).where(MailMessage.id == message_id).values(**values))


def error_text(error: BaseException) -> str:
    """What the admin reads about a failed attempt (in Danish, as the admin's pages are;
    the server's own words after it)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        details = "; ".join(f"{address}: {code} {reply.decode(errors='replace')}"
                            for address, (code, reply) in error.recipients.items())
        return f"SMTP-serveren afviste modtageren ({details})"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        reply = error.smtp_error.decode(errors="replace") \
            if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
        return f"SMTP-serveren afviste brugernavn og adgangskode: {error.smtp_code} {reply}"
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        reply = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"SMTP-serveren svarede {error.smtp_code}: {reply}"
    if isinstance(error, ConnectionRefusedError | socket.timeout | TimeoutError | socket.gaierror):
        return f"SMTP-serveren kunne ikke nås: {error}"
    if isinstance(error, ssl.SSLError):
        return f"Forbindelsen til SMTP-serveren kunne ikke krypteres (TLS): {error}"
    detail = str(error).strip() or type(error).__name__
    return f"Mailen kunne ikke sendes: {type(error).__name__}: {detail}"


def send_pending(now: datetime | None = None) -> tuple[int, int]:
    """Send every queued mail whose next attempt has come: ``(sent, failed)`` – failed
    counting the attempts that failed in this call (the mail is then queued again for
    later, or marked failed after its last attempt).

    Safe to run from any number of processes at once: each mail is claimed first. Uses its
    own transactions; call it outside a request (a job, the command line), in an app context.
    """
    now = now or utcnow()
    ids = due_ids(now)
    db.session.rollback()  # end the read: hold no lock while talking to the SMTP server
    try:
        transport = _Transport(smtp_settings())
    except MailError as error:
        log.error("mail not sent: %s", error)
        return 0, 0
    sent = failed = 0
    try:
        for message_id in ids:
            if not claim(message_id, now):
                continue  # another sender has it
            message = db.session.get(MailMessage, message_id, populate_existing=True)
            try:
                transport.send(build_email(message, now), message)
            except Exception as error:  # noqa: BLE001 - recorded on the mail, never raised
                if not isinstance(error, smtplib.SMTPResponseException
                                  | smtplib.SMTPRecipientsRefused):
                    transport.close()  # the connection's state is unknown: a new one next
                failed += 1
                _failed(message, error, now)
            else:
                sent += 1
                _finish(message_id, status=MailStatus.SENT, sent_at=now, last_error="")
            db.session.rollback()
    finally:
        transport.close()
    return sent, failed


def _failed(message: MailMessage, error: BaseException, now: datetime) -> None:
    attempts = message.attempts  # counted by the claim
    text = error_text(error)[:2000]
    if attempts >= MAX_ATTEMPTS:
        log.error("mail %s to %s failed for good after %d attempts: %s",
                  message.id, message.to_address, attempts, text)
        _finish(message.id, status=MailStatus.FAILED, last_error=text)
    else:
        delay = RETRY_DELAYS[max(0, attempts - 1)]
        log.warning("mail %s to %s not sent (attempt %d), next in %s: %s",
                    message.id, message.to_address, attempts, delay, text)
        _finish(message.id, last_error=text, next_attempt_at=now + delay)


# --- reading the queue (the admin's outbox) ---------------------------------------------------

OUTBOX_PAGE_SIZE = 50


def outbox_page(page: int = 1, status: MailStatus | None = None) -> tuple[list[MailMessage], int]:
    """A page of mails, newest first, optionally of one status; and how many there are."""
    query = select(MailMessage)
    if status is not None:
        query = query.where(MailMessage.status == status)
    total = db.session.scalar(select(db.func.count()).select_from(query.subquery()))
    rows = list(db.session.scalars(
        query.order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
        .offset((page - 1) * OUTBOX_PAGE_SIZE).limit(OUTBOX_PAGE_SIZE)))
    return rows, total or 0


def next_attempt_at() -> datetime | None:
    """When the earliest queued mail is due (None when nothing is queued)."""
    return db.session.scalar(select(db.func.min(MailMessage.next_attempt_at))
                             .where(MailMessage.status == MailStatus.QUEUED))


def recent_failures(ids: list[int]) -> list[MailMessage]:
    """Of the mails ``ids``, those whose last attempt failed (queued again, or failed)."""
    if not ids:
        return []
    return list(db.session.scalars(
        select(MailMessage).where(MailMessage.id.in_(ids), MailMessage.last_error != "",
                                  MailMessage.status != MailStatus.SENT)
        .order_by(MailMessage.id)))
