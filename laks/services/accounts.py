"""Accounts: creating people, passwords, logging in, and invitation links."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import secrets
from functools import cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from laks.audit import record
from laks.enums import ObserverGroup, Role
from laks.extensions import db
from laks.models import Membership, Unit, User, utcnow
from laks.privacy import looks_like_cpr

MIN_PASSWORD_LENGTH = 12
_INVITATION_SALT = "laks.invitation"
_DATA = Path(__file__).resolve().parent.parent / "data"
# Django's list of 20,000 common passwords (BSD licence, laks/data/LICENSE-django.txt) and
# laks' own list of common Danish ones; both lower-case, one per line.
COMMON_PASSWORD_FILES = (_DATA / "common-passwords.txt.gz", _DATA / "common-passwords-da.txt")


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message says why."""


def normalise_email(email: str) -> str:
    """Return the canonical, lower-cased form of an address; raise AccountError if invalid."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"{email!r} is not a valid e-mail address: {exc}") from None


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    *,
    actor: User | None,
    email: str,
    name: str,
    role: Role,
    units: list[Unit] = (),
    tovholder: bool = False,
    observer_group: ObserverGroup | None = None,
    password: str | None = None,
) -> User:
    """Create a person with a role and, for staff and facilitators, their units.

    Raises AccountError for a duplicate or invalid e-mail, a missing name, units given to a
    role that has none, a staff member or facilitator without a unit, or a second tovholder.
    """
    email = normalise_email(email)
    if find_user(email) is not None:
        raise AccountError(f"A user with the e-mail {email} already exists.")
    if not name.strip():
        raise AccountError("A user needs a name.")
    if role in (Role.STAFF, Role.FACILITATOR) and not units:
        raise AccountError(f"A {role.value} must belong to at least one unit.")
    if role in (Role.ADMIN, Role.OBSERVER) and units:
        raise AccountError(f"A {role.value} works across the network and has no units.")
    if tovholder and (role != Role.STAFF or len(units) != 1):
        raise AccountError("Only a staff member of exactly one unit can be its tovholder.")
    if observer_group is not None and role != Role.OBSERVER:
        raise AccountError("Only observers belong to a steering or follow group.")
    if tovholder:
        _ensure_no_tovholder(units[0])

    user = User(email=email, name=name.strip(), role=role, observer_group=observer_group)
    if password is not None:
        check_password_strength(password)
        user.set_password(password)
    user.memberships = [Membership(unit=u, is_tovholder=tovholder) for u in units]
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", user, email=email, role=role.value,
           units=[u.id for u in units], tovholder=tovholder)
    return user


def _ensure_no_tovholder(unit: Unit) -> None:
    existing = db.session.scalar(
        select(Membership).where(Membership.unit_id == unit.id, Membership.is_tovholder)
    )
    if existing is not None:
        raise AccountError(
            f"{unit.title} already has a tovholder ({existing.user.email})."
        )


@cache
def _common_passwords() -> frozenset[str]:
    words: set[str] = set()
    for path in COMMON_PASSWORD_FILES:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            words.update(line.strip() for line in handle
                         if line.strip() and not line.startswith("#"))
    return frozenset(words)


def is_common_password(password: str) -> bool:
    """True if ``password`` (ignoring case and surrounding spaces) is on a list of common
    passwords that laks ships with."""
    return password.strip().lower() in _common_passwords()


def check_password_strength(password: str) -> None:
    """Raise AccountError if the password is too short or one of the common passwords."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if is_common_password(password):
        raise AccountError("This password is on the list of common passwords; choose another.")


def set_password(*, actor: User | None, user: User, password: str) -> None:
    """Give ``user`` a new password (checked for length and commonness), end every session
    the person has, and log that it happened. Raises AccountError for a weak password."""
    check_password_strength(password)
    user.set_password(password)
    user.end_sessions()
    record(actor, "user.set_password", user)


def set_active(*, actor: User | None, user: User, active: bool) -> None:
    """Let a person log in again, or not; deactivating ends every session they have."""
    user.active = active
    if not active:
        user.end_sessions()
    record(actor, "user.activate" if active else "user.deactivate", user)


def log_out(user: User) -> None:
    """End every session of ``user`` – on this device and on any other – and log it."""
    user.end_sessions()
    record(user, "auth.logout", user)


@cache
def _dummy_hash() -> str:
    # Made like every real hash (werkzeug's default method), so checking against it costs
    # the same time as checking a real password.
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """:func:`check_credentials`, and for a match :func:`record_login`: for a login that
    needs nothing more than the password."""
    user = check_credentials(email, password)
    if user is not None:
        record_login(user)
    return user


def record_login(user: User, **details) -> None:
    """Log that ``user`` has logged in – after the password, and the second factor for a
    person who has one (``details`` say which)."""
    user.last_login_at = utcnow()
    record(user, "auth.login", user, **details)


def check_credentials(email: str, password: str) -> User | None:
    """Return the user if the e-mail and password match an active account, else None.

    Every failed attempt is logged. The caller shows one message for every failure, so a
    visitor cannot learn whether an address has an account – neither from the page nor from
    the time it takes: an unknown address costs the same hashing as a wrong password.
    """
    user = find_user(email)
    if user is None or user.password_hash is None:
        check_password_hash(_dummy_hash(), password)
        matches = False
    else:
        matches = user.check_password(password)
    if not matches:
        typed = email.strip()[:254]
        # People used to logging in with their CPR number type it here; it is never stored.
        details = ({"email_withheld": "looks like a CPR number"} if looks_like_cpr(typed)
                   else {"email": typed})
        record(user, "auth.login_failed", user, reason="credentials", **details)
        return None
    if not user.active:
        record(user, "auth.login_failed", user, reason="inactive")
        return None
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_INVITATION_SALT)


def _password_fingerprint(user: User) -> str:
    # Binding the token to the current hash makes it single-use: once a password is set,
    # the hash changes and the old link no longer verifies. The token's payload is readable
    # by anyone holding the link, so it carries a keyed digest of the hash, never any of it.
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    message = f"laks.invitation:{user.password_hash or 'none'}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def invitation_token(user: User) -> str:
    """A signed token that lets ``user`` choose a password once, until it expires."""
    return _serializer().dumps({"uid": user.id, "pw": _password_fingerprint(user)})


def invitation_url(user: User) -> str:
    """The absolute link for an invitation, built against ``LAKS_BASE_URL``."""
    base = current_app.config["LAKS_BASE_URL"].rstrip("/")
    # Built from the URL map directly: the CLI prints links outside any request.
    path = current_app.url_map.bind("laks").build(
        "auth.accept_invitation", {"token": invitation_token(user)}
    )
    return base + path


def user_from_invitation(token: str) -> User:
    """Return the invited user; raise AccountError if the link is forged, used or expired."""
    max_age = current_app.config["LAKS_INVITATION_MAX_AGE"]
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise AccountError("expired") from None
    except BadSignature:
        raise AccountError("invalid") from None
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active \
            or not hmac.compare_digest(str(data.get("pw")), _password_fingerprint(user)):
        raise AccountError("invalid")
    return user
