"""Logging in and out, the life of a session, and choosing a password from an invitation.

A session is the signed cookie Flask keeps in the browser. It holds the person's id and
their current session token (``User.get_id``), the time of login and the time of the last
request. It ends – on the server, whatever copies of the cookie exist – when the token is
rotated (logout, a new password, deactivation), after ``LAKS_SESSION_IDLE_MINUTES`` without
a request and ``LAKS_SESSION_MAX_HOURS`` after login.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, select
from werkzeug.exceptions import HTTPException

from laks.extensions import db, limiter, login_manager
from laks.forms import EmptyForm, LoginForm, SetPasswordForm
from laks.models import User
from laks.services import accounts
from laks.views import guard

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Log in to see this page.")
login_manager.login_message_category = "info"

#: Session keys laks sets at login: when it began and when the person was last seen.
LOGIN_AT, SEEN_AT = "laks_login_at", "laks_seen_at"
#: How often a session's last activity is written down: a request within this many seconds
#: of the last one written changes nothing in the session, so its cookie is not sent anew
#: (an idle limit of minutes is kept to within these seconds).
SEEN_AT_STEP = 15
#: What survives logging out: the language the visitor chose.
KEPT_ON_LOGOUT = ("lang",)


_PERSON = select(User).where(User.id == bindparam("id"))


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session, if its token is still theirs and they are active."""
    user_id, _sep, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None  # a cookie from before session tokens, or a forged one
    # Every request asks: the statement is built once.
    user = db.session.scalar(_PERSON, {"id": int(user_id)})
    if user is None or not user.active \
            or not hmac.compare_digest(token.encode(), user.session_token.encode()):
        return None
    return user


def _clear_session() -> None:
    kept = {key: session[key] for key in KEPT_ON_LOGOUT if key in session}
    session.clear()
    session.update(kept)


@bp.before_app_request
def end_expired_session():
    """Log out a session that has been idle too long or has lasted too long since login."""
    if "_user_id" not in session or request.endpoint == "static":
        return
    config, now = current_app.config, time.time()
    idle = now - session.get(SEEN_AT, 0) > config["LAKS_SESSION_IDLE_MINUTES"] * 60
    too_old = now - session.get(LOGIN_AT, 0) > config["LAKS_SESSION_MAX_HOURS"] * 3600
    if idle or too_old:
        logout_user()
        _clear_session()
        flash(_("You were logged out after a while without activity. Log in again.")
              if idle else
              ngettext("You were logged out because a session lasts at most %(hours)s hour. "
                       "Log in again.",
                       "You were logged out because a session lasts at most %(hours)s hours. "
                       "Log in again.", 1 if config["LAKS_SESSION_MAX_HOURS"] == 1 else 2,
                       hours=format_decimal(config["LAKS_SESSION_MAX_HOURS"])), "info")
        return
    if now - session.get(SEEN_AT, 0) >= SEEN_AT_STEP:
        session[SEEN_AT] = round(now, 1)


def safe_next(target: str | None) -> str:
    """Only ever redirect to a path on this site, never to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("home.index")


def _submitted_email() -> str:
    """The limiter's key for one account: a digest of the e-mail typed, normalised the way
    accounts are found (so that "Anna@X.dk " and "anna@x.dk" share one count)."""
    try:
        typed = request.form.get("email", "")
    except HTTPException:  # a body too large to read; the view answers 413
        typed = ""
    digest = hashlib.sha256(typed.strip().lower().encode()).hexdigest()
    return f"email:{digest}"


def _login_failed(response) -> bool:
    # Only failed attempts count: a municipality's staff behind one address may all log in.
    return response.status_code == 422


@bp.route("/log-ind", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LAKS_LOGIN_ADDRESS_LIMIT"], methods=["POST"],
               deduct_when=_login_failed, scope="address")
@limiter.limit(lambda: current_app.config["LAKS_LOGIN_LIMIT"], methods=["POST"],
               key_func=_submitted_email, deduct_when=_login_failed, scope="email")
@guard("public.view")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.check_credentials(form.email.data, form.password.data)
        if user is not None:
            # The second step, for those who have one (imported here: it builds on this
            # module).
            from laks.views import twofactor

            target = safe_next(request.args.get("next"))
            second_step = twofactor.start_second_step(user, target)
            if second_step is not None:
                db.session.commit()
                return second_step
            sign_in(user)
            return redirect(target)
        db.session.commit()
        # One message for an unknown address, a wrong password and an inactive account.
        form.password.errors.append(_("The e-mail or the password is wrong."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def sign_in(user: User, **details) -> None:
    """Sign ``user`` in – the password checked, and the second factor for a person who has
    one (``details`` for the audit log say which) – in a new session; commits."""
    accounts.record_login(user, **details)
    db.session.commit()
    # A new session: nothing from before login – the CSRF token above all – carries over
    # into it.
    _clear_session()
    login_user(user)
    now = round(time.time(), 1)
    session[LOGIN_AT] = session[SEEN_AT] = now


@bp.route("/log-ud", methods=["POST"])
@guard("account.logout")
def logout():
    if EmptyForm().validate_on_submit():
        accounts.log_out(current_user._get_current_object())
        db.session.commit()
        logout_user()
        _clear_session()
        flash(_("You are logged out."), "success")
    return redirect(url_for("public.index"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@guard("public.view")
def accept_invitation(token: str):
    try:
        user = accounts.user_from_invitation(token)
    except accounts.AccountError as exc:
        message = (_("This invitation link has expired. You can get a new one below.")
                   if str(exc) == "expired" else
                   _("This invitation link is not valid, or it has already been used."))
        return render_template("auth/invitation_invalid.html", message=message), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(actor=user, user=user, password=form.password.data)
        db.session.commit()
        logout_user()
        _clear_session()
        # Signed in at once, as after a reset – through the second step for a person whose
        # role requires one (the link proves the mailbox, never a second factor).
        from laks.views import twofactor

        target = url_for("home.index")
        second_step = twofactor.start_second_step(user, target)
        if second_step is not None:
            db.session.commit()
            flash(_("Your password is saved. Now set up two-factor sign-in."), "success")
            return second_step
        sign_in(user, via="invitation")
        flash(_("Your password is saved, and you are logged in. Welcome to laks."), "success")
        return redirect(target)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/invitation.html", form=form, user=user,
                           min_length=accounts.MIN_PASSWORD_LENGTH), status
