"""Two-factor sign-in: a time-based code (TOTP, RFC 6238) from an app on the person's phone,
and ten recovery codes for the day the phone is lost.

A person's second factor is *on* once the secret has been confirmed with a first code
(``User.totp_confirmed_at`` is set). Until then ``User.totp_secret`` may hold a secret that
is being set up; it counts for nothing.

A code is accepted once: ``User.totp_confirmed_at`` holds the start of the time step of the
last code accepted (at set-up, then at every sign-in), and only a code of a later step is
accepted after it. Codes of the step before and after the server's clock are accepted, so
that a phone whose clock is a little off still works. Recovery codes are stored as salted
SHA-256 digests only; each is removed when used. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime

import pyotp
import segno
from flask import current_app
from sqlalchemy import update

from laks.access import TWO_FACTOR_ROLES
from laks.audit import record
from laks.extensions import db
from laks.models import User

#: The name the authenticator app shows above the person's e-mail address.
ISSUER = "laks"
#: Seconds per code (the TOTP default every authenticator app uses).
STEP_SECONDS = 30
#: Codes of this many steps before and after the server's clock are accepted.
WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: Recovery codes are 12 characters from an alphabet without look-alikes (no 0/o, 1/l/i):
#: about 59 bits each, shown as three groups of four.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 12
#: The secret of the demo's network admin and facilitators (``seed --demo``). It is
#: published in the README, so these accounts protect nothing; the code page shows their
#: current code, which anyone could compute from the README anyway.
DEMO_SECRET = "LAKSDEMOLAKSDEMOLAKSDEMOLAKSDEMO"  # noqa: S105 – public on purpose

_TOTP_FORMAT = re.compile(r"[0-9]{6}")


class CodeError(ValueError):
    """A code that is not accepted. ``reason`` says why: ``"format"`` (neither six digits nor
    a recovery code), ``"wrong"`` (not the code of now), ``"used"`` (a code already
    accepted once) or ``"recovery"`` (not one of the person's unused recovery codes)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def is_required(user: User) -> bool:
    """Whether the person's role requires a second factor (network admins, facilitators)."""
    return user.role in TWO_FACTOR_ROLES


def is_on(user: User) -> bool:
    """Whether the person signs in with a second factor."""
    return bool(user.totp_secret) and user.totp_confirmed_at is not None


# --- setting it up ---------------------------------------------------------------------------


def begin_setup(user: User) -> str:
    """Give ``user`` a new secret to set up (replacing any earlier one that was never
    confirmed) and return it. Refuses (ValueError) when the second factor is on already:
    it must be turned off or reset first."""
    if is_on(user):
        raise ValueError("two-factor sign-in is on already")
    user.totp_secret = pyotp.random_base32()  # 32 characters, 160 bits
    user.totp_confirmed_at = None
    user.recovery_codes = None
    db.session.flush()
    return user.totp_secret


def secret_fingerprint(secret: str | None) -> str:
    """A keyed digest of a secret being set up, for the browser's session to name it by."""
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"laks.totp:{secret}".encode(), hashlib.sha256).hexdigest()[:32]


def provisioning_uri(user: User) -> str:
    """The ``otpauth://`` address the QR code holds: the secret, laks and the e-mail."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def account_name(user: User) -> str:
    """The account's name as an authenticator app shows it."""
    return f"{ISSUER} ({user.email})"


def qr_svg(user: User, *, title: str) -> str:
    """The QR code of :func:`provisioning_uri` as an inline SVG with ``title`` as its name
    (no style attribute, so it passes the site's Content-Security-Policy)."""
    qr = segno.make(provisioning_uri(user), error="m")
    svg = qr.svg_inline(scale=5, border=4, dark="#000", light="#fff", title=title,
                        svgclass="twofactor-qr")
    return svg.replace("<svg ", '<svg role="img" focusable="false" ', 1)


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def confirm_setup(user: User, typed: str, *, actor: User | None = None,
                  now: float | None = None) -> list[str]:
    """Turn the second factor on with the first code from the person's app, and return ten
    new recovery codes (shown once; only their digests are kept).

    Raises CodeError (``"format"`` or ``"wrong"``) when the code is not the secret's code
    of now, ValueError when no set-up was begun or it is on already."""
    if not user.totp_secret or is_on(user):
        raise ValueError("no two-factor set-up under way")
    code = re.sub(r"\s+", "", typed or "")
    if not _TOTP_FORMAT.fullmatch(code):
        raise CodeError("format")
    step = _matching_step(user.totp_secret, code, time.time() if now is None else now)
    if step is None:
        raise CodeError("wrong")
    user.totp_confirmed_at = _step_start(step)
    codes = _new_recovery_codes(user)
    record(actor or user, "user.two_factor_on", user)
    db.session.flush()
    return codes


# --- signing in ------------------------------------------------------------------------------


def verify(user: User, typed: str, *, now: float | None = None) -> str:
    """Accept ``typed`` – a code from the app, or one of the person's recovery codes – once,
    and return which it was (``"totp"`` or ``"recovery"``). Raises CodeError otherwise.

    The person's row is locked first, so that two requests with the same code (or the same
    recovery code) cannot both be accepted."""
    if not is_on(user):
        raise ValueError("two-factor sign-in is not on")
    compact = re.sub(r"[\s-]+", "", typed or "").lower()
    if _TOTP_FORMAT.fullmatch(compact):
        _lock(user)
        step = _matching_step(user.totp_secret, compact, time.time() if now is None else now)
        if step is None:
            raise CodeError("wrong")
        if step <= _last_step(user):
            raise CodeError("used")
        user.totp_confirmed_at = _step_start(step)
        db.session.flush()
        return "totp"
    if len(compact) == RECOVERY_LENGTH and compact.isalnum():
        _lock(user)
        kept = list(user.recovery_codes or [])
        for stored in kept:
            if _recovery_matches(stored, compact):
                kept.remove(stored)
                user.recovery_codes = kept
                db.session.flush()
                return "recovery"
        raise CodeError("recovery")
    raise CodeError("format")


def recovery_codes_left(user: User) -> int:
    return len(user.recovery_codes or [])


def renew_recovery_codes(user: User, *, actor: User) -> list[str]:
    """Replace the person's recovery codes with ten new ones and return them (shown once)."""
    if not is_on(user):
        raise ValueError("two-factor sign-in is not on")
    codes = _new_recovery_codes(user)
    record(actor, "user.recovery_codes_renew", user)
    db.session.flush()
    return codes


def turn_off(user: User, *, actor: User) -> None:
    """Turn the person's second factor off (their own choice; the access rule
    ``account.two_factor_off`` says whose role allows it)."""
    _clear(user)
    record(actor, "user.two_factor_off", user)
    db.session.flush()


def reset(user: User, *, actor: User) -> None:
    """The network admin's reset, for a lost phone: the secret and recovery codes go and
    every session of the person ends. At their next login the person sets it up again if
    their role requires it."""
    _clear(user)
    user.end_sessions()
    record(actor, "user.two_factor_reset", user)
    db.session.flush()


def set_up_demo(user: User) -> None:
    """Turn on the second factor of a demo account with the published :data:`DEMO_SECRET`
    (``seed --demo`` only; never for a real account)."""
    user.totp_secret = DEMO_SECRET
    # Confirmed before the steps a code of now may come from, so that any of them works.
    user.totp_confirmed_at = _step_start(int(time.time()) // STEP_SECONDS - WINDOW - 1)
    user.recovery_codes = []
    db.session.flush()


def demo_code(user: User, *, now: float | None = None) -> str | None:
    """The current code of a demo account (one whose secret is the published
    :data:`DEMO_SECRET`); None for every other account."""
    if user.totp_secret != DEMO_SECRET:
        return None
    return pyotp.TOTP(DEMO_SECRET).at(time.time() if now is None else now)


# --- inside ----------------------------------------------------------------------------------


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.recovery_codes = None


def _lock(user: User) -> None:
    # An UPDATE that changes nothing takes the row's lock on PostgreSQL and the database's
    # write lock on SQLite until the request commits; reading the row again after it sees
    # what a request that held the lock before has written.
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_token=User.session_token)
                       .execution_options(synchronize_session=False))
    db.session.refresh(user)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step, within the window around ``now``, whose code is ``code``."""
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    found = None
    for offset in range(-WINDOW, WINDOW + 1):
        at = now + offset * STEP_SECONDS
        # Compare every candidate (no early exit), in constant time.
        if hmac.compare_digest(totp.at(at), code):
            found = int(at) // STEP_SECONDS  # the step pyotp's code was made for
    return found


def _step_start(step: int) -> datetime:
    return datetime.fromtimestamp(step * STEP_SECONDS, UTC)


def _last_step(user: User) -> int:
    return int(user.totp_confirmed_at.timestamp()) // STEP_SECONDS


def _new_recovery_codes(user: User) -> list[str]:
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes = [_recovery_digest(code) for code in codes]
    return [format_recovery_code(code) for code in codes]


def format_recovery_code(code: str) -> str:
    """A recovery code as it is shown: three groups of four."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _recovery_digest(code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def _recovery_matches(stored: str, code: str) -> bool:
    method, _sep, rest = stored.partition("$")
    salt, _sep, _digest = rest.partition("$")
    return method == "sha256" and hmac.compare_digest(_recovery_digest(code, salt), stored)
