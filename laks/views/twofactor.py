"""Two-factor sign-in in the browser: the code after the password, setting it up (at login
for the roles that require it, from the account page for everyone else), recovery codes, and
the network admin's reset.

After a correct password, a person with a second factor – or whose role requires one – is
not signed in yet. The session holds only a marker (:data:`PENDING`): who passed the
password, with their session token, when, and where they were going. The marker lasts
:data:`CODE_MAX_AGE` seconds for typing a code (:data:`SETUP_MAX_AGE` for setting up, which
may mean installing an app first) and ends after :data:`MAX_FAILURES` wrong codes; wrong
codes are also limited per person by Flask-Limiter (``LAKS_LOGIN_LIMIT``), across markers.
"""

from __future__ import annotations

import hmac
import math
import time
from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from laks.audit import record
from laks.definitions.forms import plain_text
from laks.extensions import db, limiter
from laks.forms import EmptyForm
from laks.models import User
from laks.services import twofactor
from laks.views import guard
from laks.views.auth import _clear_session, safe_next, sign_in

bp = Blueprint("twofactor", __name__)

#: The session key of the marker "the password was right, the second step is to come".
PENDING = "laks_second_step"
#: Seconds from the password to the code; and to the first code when setting up.
CODE_MAX_AGE = 5 * 60
SETUP_MAX_AGE = 15 * 60
#: Wrong codes after which the marker ends and the password must be typed again.
MAX_FAILURES = 5
#: The session key naming the secret a signed-in person is setting up (its fingerprint).
SETUP_KEY = "laks_setup_secret"


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[plain_text, DataRequired(_l("Type the code.")),
                    Length(max=40, message=_l("At most %(max)d characters."))],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                   "spellcheck": "false"},
    )


class FirstCodeForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        validators=[plain_text, DataRequired(_l("Type the 6-digit code from the app.")),
                    Length(max=40, message=_l("At most %(max)d characters."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


# --- messages --------------------------------------------------------------------------------


def _code_message(reason: str) -> str:
    return {
        "format": _("Type the 6 digits from your app, or one of your recovery codes."),
        "wrong": _("The code is wrong. Type the 6 digits your app shows now for laks."),
        "used": _("This code has already been used. Wait for the next code in your app."),
        "recovery": _("This recovery code is wrong or has already been used. Each recovery "
                      "code works once."),
    }[reason]


def _first_code_message(reason: str) -> str:
    return (_("Type the 6 digits the app shows, without letters.") if reason == "format" else
            _("The code does not match. Check that the app's clock is right, and type the "
              "code the app shows now."))


# --- the marker ------------------------------------------------------------------------------


def start_second_step(user: User, target: str):
    """Called by the login view after a correct password: for a person with a second
    factor, or whose role requires one, put the marker in a new session and return the
    redirect to the code or the set-up page; for everyone else None (sign them in)."""
    if twofactor.is_on(user):
        marker = {"purpose": "code"}
    elif twofactor.is_required(user):
        secret = twofactor.begin_setup(user)
        marker = {"purpose": "setup", "secret": twofactor.secret_fingerprint(secret)}
    else:
        return None
    _clear_session()  # a new session, with a new CSRF token
    session[PENDING] = {**marker, "uid": user.id, "token": user.session_token,
                        "at": round(time.time(), 1), "next": target, "failures": 0}
    return redirect(url_for("twofactor.code" if marker["purpose"] == "code"
                            else "twofactor.setup"))


def _end_marker() -> None:
    session.pop(PENDING, None)


def _back_to_login(message: str):
    _end_marker()
    flash(message, "info")
    return redirect(url_for("auth.login"))


def _pending(purpose: str):
    """The person of the marker for ``purpose``, or the redirect that replaces the page."""
    marker = session.get(PENDING)
    if not isinstance(marker, dict) or marker.get("purpose") not in ("code", "setup"):
        return _back_to_login(_("Log in with your e-mail address and password first."))
    if marker["purpose"] != purpose:
        return redirect(url_for("twofactor.code" if marker["purpose"] == "code"
                                else "twofactor.setup"))
    max_age = CODE_MAX_AGE if purpose == "code" else SETUP_MAX_AGE
    at = marker.get("at")
    if not isinstance(at, int | float) or time.time() - at > max_age:
        return _back_to_login(
            _("More than %(minutes)d minutes passed after you typed your password. Log in "
              "again.", minutes=max_age // 60))
    user_id, token = marker.get("uid"), marker.get("token")
    user = db.session.get(User, user_id) if type(user_id) is int else None
    valid = (user is not None and user.active and isinstance(token, str)
             and hmac.compare_digest(token.encode(), user.session_token.encode()))
    if valid and purpose == "code":
        valid = twofactor.is_on(user)
    elif valid:
        fingerprint = marker.get("secret")
        valid = (not twofactor.is_on(user) and isinstance(fingerprint, str)
                 and hmac.compare_digest(fingerprint,
                                         twofactor.secret_fingerprint(user.totp_secret)))
    if not valid:
        return _back_to_login(_("This login is no longer valid. Log in again."))
    return user, marker


def _person_key() -> str:
    """The limiter's key for wrong codes: the person of the marker, or the signed-in one."""
    marker = session.get(PENDING)
    if isinstance(marker, dict) and type(marker.get("uid")) is int:
        return f"person:{marker['uid']}"
    if current_user.is_authenticated:
        return f"person:{current_user.id}"
    return f"address:{request.remote_addr}"


def _code_failed(_response) -> bool:
    return g.get("laks_code_failed", False)


#: Wrong codes allowed per person, in the code step and on the account page together.
code_limit = limiter.shared_limit(
    lambda: current_app.config["LAKS_LOGIN_LIMIT"], scope="second-factor",
    key_func=_person_key, methods=["POST"], deduct_when=_code_failed)


@bp.errorhandler(429)
def too_many_codes(_exc):
    breached = limiter.current_limit
    reset_at = breached.window.reset_time if breached is not None else time.time() + 60
    wait = max(1, math.ceil(reset_at - time.time()))
    minute = math.ceil((time.time() + wait) / 60) * 60
    at = format_time(datetime.fromtimestamp(minute, UTC), "short")
    _end_marker()
    html = render_template(
        "errors/error.html", code=429, title=_("Too many wrong codes"),
        text=_("There have been too many wrong codes for this account. Try again after "
               "%(time)s.", time=at))
    return html, 429, {"Retry-After": str(wait)}


# --- the code after the password -------------------------------------------------------------


@bp.route("/log-ind/kode", methods=["GET", "POST"])
@code_limit
@guard("public.view")
def code():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    found = _pending("code")
    if not isinstance(found, tuple):
        return found
    user, marker = found
    form = CodeForm()
    if form.validate_on_submit():
        try:
            method = twofactor.verify(user, form.code.data)
        except twofactor.CodeError as exc:
            g.laks_code_failed = True
            record(user, "auth.second_factor_failed", user, reason=exc.reason)
            db.session.commit()
            marker["failures"] = marker.get("failures", 0) + 1
            session[PENDING] = marker
            if marker["failures"] >= MAX_FAILURES:
                return _back_to_login(_("Too many wrong codes. Log in again with your "
                                        "password."))
            form.code.errors.append(_code_message(exc.reason))
        else:
            _end_marker()
            sign_in(user, second_factor=method)
            if method == "recovery":
                left = twofactor.recovery_codes_left(user)
                flash(_("You logged in with a recovery code. You have %(num)d left; make new "
                        "ones on the page Two-factor sign-in.", num=left), "warning")
            return redirect(marker.get("next") or url_for("home.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("twofactor/code.html", form=form, user=user,
                           account_name=twofactor.account_name(user),
                           demo_code=twofactor.demo_code(user)), status


# --- setting it up at login ------------------------------------------------------------------


def _setup_page(user: User, form, action: str, *, at_login: bool, status: int = 200):
    title = _("QR code for setting up two-factor sign-in for %(account)s",
              account=twofactor.account_name(user))
    return render_template(
        "twofactor/setup.html", form=form, user=user, action=action, at_login=at_login,
        qr=Markup(twofactor.qr_svg(user, title=title)),  # noqa: S704  # nosec B704 – segno
        secret=twofactor.grouped_secret(user.totp_secret),
        account_name=twofactor.account_name(user),
    ), status


@bp.route("/log-ind/totrin", methods=["GET", "POST"])
@guard("public.view")
def setup():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    found = _pending("setup")
    if not isinstance(found, tuple):
        return found
    user, marker = found
    form = FirstCodeForm()
    if form.validate_on_submit():
        try:
            codes = twofactor.confirm_setup(user, form.code.data)
        except twofactor.CodeError as exc:
            form.code.errors.append(_first_code_message(exc.reason))
        else:
            _end_marker()
            sign_in(user, second_factor="setup")
            return render_template("twofactor/recovery_codes.html", codes=codes,
                                   next_url=marker.get("next") or url_for("home.index"),
                                   just_turned_on=True)
    status = 422 if request.method == "POST" else 200
    return _setup_page(user, form, url_for("twofactor.setup"), at_login=True, status=status)


# --- the account page ------------------------------------------------------------------------


def _account_page(*, status: int = 200, failed: CodeForm | None = None):
    """The account page; ``failed`` is the form (renew or off) whose code was refused."""
    user = current_user._get_current_object()
    forms = {prefix: CodeForm(prefix=prefix, formdata=None) for prefix in ("renew", "off")}
    if failed is not None:
        forms[failed._prefix.rstrip("-")] = failed
    return render_template(
        "twofactor/account.html", user=user, is_on=twofactor.is_on(user),
        required=twofactor.is_required(user), left=twofactor.recovery_codes_left(user),
        renew_form=forms["renew"], off_form=forms["off"],
        start_form=EmptyForm(formdata=None)), status


def _setup_under_way(user: User) -> bool:
    fingerprint = session.get(SETUP_KEY)
    return (not twofactor.is_on(user) and bool(user.totp_secret)
            and isinstance(fingerprint, str)
            and hmac.compare_digest(fingerprint, twofactor.secret_fingerprint(user.totp_secret)))


@bp.route("/konto/totrin", methods=["GET", "POST"])
@guard("account.two_factor")
def account():
    user = current_user._get_current_object()
    if not _setup_under_way(user):
        return _account_page()
    form = FirstCodeForm()
    if form.validate_on_submit():
        try:
            codes = twofactor.confirm_setup(user, form.code.data)
        except twofactor.CodeError as exc:
            form.code.errors.append(_first_code_message(exc.reason))
        else:
            db.session.commit()
            session.pop(SETUP_KEY, None)
            return render_template("twofactor/recovery_codes.html", codes=codes,
                                   next_url=url_for("twofactor.account"), just_turned_on=True)
    status = 422 if request.method == "POST" else 200
    return _setup_page(user, form, url_for("twofactor.account"), at_login=False, status=status)


@bp.post("/konto/totrin/start")
@guard("account.two_factor")
def start():
    user = current_user._get_current_object()
    if EmptyForm().validate_on_submit() and not twofactor.is_on(user):
        secret = twofactor.begin_setup(user)
        db.session.commit()
        session[SETUP_KEY] = twofactor.secret_fingerprint(secret)
    return redirect(url_for("twofactor.account"))


def _refused_code(prefix: str):
    """Check the current code typed with an action of the account page (``prefix`` names
    its form); None when it is accepted, else the answer to send."""
    user = current_user._get_current_object()
    if not twofactor.is_on(user):
        return redirect(url_for("twofactor.account"))
    form = CodeForm(prefix=prefix)
    if not form.validate_on_submit():
        return _account_page(status=422, failed=form)
    try:
        twofactor.verify(user, form.code.data)
    except twofactor.CodeError as exc:
        g.laks_code_failed = True
        record(user, "auth.second_factor_failed", user, reason=exc.reason)
        db.session.commit()
        form.code.errors.append(_code_message(exc.reason))
        return _account_page(status=422, failed=form)
    return None


@bp.post("/konto/totrin/nye-koder")
@code_limit
@guard("account.two_factor")
def renew_codes():
    refused = _refused_code("renew")
    if refused is not None:
        return refused
    user = current_user._get_current_object()
    codes = twofactor.renew_recovery_codes(user, actor=user)
    db.session.commit()
    return render_template("twofactor/recovery_codes.html", codes=codes,
                           next_url=url_for("twofactor.account"), just_turned_on=False)


@bp.post("/konto/totrin/slaa-fra")
@code_limit
@guard("account.two_factor_off")
def turn_off():
    refused = _refused_code("off")
    if refused is not None:
        return refused
    user = current_user._get_current_object()
    twofactor.turn_off(user, actor=user)
    db.session.commit()
    flash(_("Two-factor sign-in is off. You log in with your password only."), "success")
    return redirect(url_for("twofactor.account"))


# --- the network admin's reset ---------------------------------------------------------------


def load_user(user_id: int) -> User:
    return db.get_or_404(User, user_id)


@bp.post("/admin/brugere/<id:user_id>/totrin/nulstil")
@guard("user.two_factor_reset", load=load_user)
def reset(person: User):
    if not EmptyForm().validate_on_submit():
        abort(400)
    twofactor.reset(person, actor=current_user._get_current_object())
    db.session.commit()
    flash(_("Two-factor sign-in of %(name)s is reset, and their sessions have ended. They set "
            "it up again at their next login.", name=person.name) if twofactor.is_required(person)
          else _("Two-factor sign-in of %(name)s is reset, and their sessions have ended.",
                 name=person.name), "success")
    back = request.form.get("next")
    return redirect(safe_next(back) if back else url_for("admin.users"))


@bp.app_template_global("two_factor_required")
def two_factor_required(user: User) -> bool:
    return twofactor.is_required(user)


# --- every request ---------------------------------------------------------------------------


@bp.before_app_request
def require_second_factor():
    """A signed-in person whose role requires a second factor that is not on (a session from
    before it was required, a role changed) is logged out and sets it up at login."""
    if "_user_id" not in session or request.endpoint in (None, "static"):
        return None
    user = current_user
    if user.is_authenticated and twofactor.is_required(user) and not twofactor.is_on(user):
        logout_user()
        _clear_session()
        flash(_("Your role requires two-factor sign-in. Log in again to set it up."), "info")
        return redirect(url_for("auth.login"))
    return None
