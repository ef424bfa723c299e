"""Forgotten passwords and lost invitations: links sent by mail, asked for by e-mail address.

Both requests answer the visitor the same way whether the address has an account or not,
and take the same work either way (the mail is rendered for an unknown address too, and
thrown away), so neither the page nor its timing tells who has an account. A reset link is
signed like an invitation, with a salt of its own, and bound to the person's password hash:
it works once, and for ``LAKS_PASSWORD_RESET_MAX_AGE`` seconds (an hour).
"""

from __future__ import annotations

import hashlib
import hmac
from types import SimpleNamespace

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from laks.audit import record
from laks.extensions import db
from laks.models import MailMessage, User
from laks.privacy import looks_like_cpr
from laks.services import accounts, mail

_RESET_SALT = "laks.password-reset"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_RESET_SALT)


def _fingerprint(user) -> str:
    # As for invitations: a keyed digest of the current hash, so that the link stops working
    # once the password changes, and carries nothing of the hash itself.
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    message = f"laks.password-reset:{user.password_hash or 'none'}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def reset_token(user: User) -> str:
    """A signed token that lets ``user`` choose a new password once, for an hour."""
    return _serializer().dumps({"uid": user.id, "pw": _fingerprint(user)})


def reset_url(user: User) -> str:
    """The absolute link of a reset, built against ``LAKS_BASE_URL``."""
    return mail.absolute_url("password.reset", token=reset_token(user))


def user_from_reset(token: str) -> User:
    """The person a reset link is for; AccountError("expired") when it is too old,
    AccountError("invalid") when it is forged, used (the password changed since) or the
    person deactivated."""
    try:
        data = _serializer().loads(token, max_age=current_app.config[
            "LAKS_PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise accounts.AccountError("expired") from None
    except BadSignature:
        raise accounts.AccountError("invalid") from None
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.active \
            or not hmac.compare_digest(str(data.get("pw")), _fingerprint(user)):
        raise accounts.AccountError("invalid")
    return user


def _typed(email: str) -> dict:
    typed = (email or "").strip()[:254]
    return ({"email_withheld": "looks like a CPR number"} if looks_like_cpr(typed)
            else {"email": typed})


def _stand_in(email: str):
    """Someone to write the mail to when nobody will get it: the same work as for a person."""
    return SimpleNamespace(id=0, name="", email=email.strip(), password_hash=None,
                           language="da", active=False)


def request_password_reset(email: str) -> MailMessage | None:
    """Queue a mail with a reset link if ``email`` belongs to an active account; audited
    as ``auth.password_reset_request`` either way (the address typed, unless it looks like
    a CPR number; never the link). Returns the mail, or None – which the caller must not
    show: the visitor sees the same answer either way."""
    user = accounts.find_user(email)
    person = user if user is not None and user.active else None
    minutes = max(1, round(current_app.config["LAKS_PASSWORD_RESET_MAX_AGE"] / 60))
    message = None
    if person is not None:
        message = mail.queue_mail(person, "password_reset", "password_reset",
                                  link=reset_url(person), minutes=minutes)
    else:
        stand_in = _stand_in(email)
        mail.render_mail("password_reset", "da", recipient=stand_in,
                         link=reset_url(stand_in), minutes=minutes)
    record(None, "auth.password_reset_request", person, sent=message is not None,
           **_typed(email))
    return message


def reset_password(user: User, password: str) -> None:
    """Set the new password chosen through a reset link (the password rules of
    accounts.check_password_strength; AccountError otherwise). Every session the person
    has ends; the link stops working. Audited as ``auth.password_reset``."""
    accounts.set_password(actor=user, user=user, password=password)
    record(user, "auth.password_reset", user)


def request_new_invitation(email: str) -> MailMessage | None:
    """Queue a new invitation mail if ``email`` belongs to an active account that has not
    chosen a password yet; audited as ``auth.invitation_request`` either way. Returns the
    mail or None, which the caller must not show (the same answer either way)."""
    user = accounts.find_user(email)
    person = (user if user is not None and user.active and user.password_hash is None
              else None)
    message = None
    if person is not None:
        message = mail.send_invitation(person, actor=None)
    else:
        stand_in = _stand_in(email)
        mail.render_mail("invitation", "da", recipient=stand_in, days=7,
                         link=mail.absolute_url("auth.accept_invitation", token="x" * 80),
                         inviter=None)
    record(None, "auth.invitation_request", person, sent=message is not None,
           **_typed(email))
    return message
