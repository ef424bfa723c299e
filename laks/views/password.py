"""A forgotten password, and a new invitation link: asked for by e-mail address, sent by mail.

Each request form answers the same whether the address has an account or not (and takes
the same time), and is limited per e-mail address and per network address
(``LAKS_RESET_LIMIT``, ``LAKS_RESET_ADDRESS_LIMIT``; the two forms share the counts). A
reset link lets the person choose a new password once, within an hour; it ends every other
session they have and signs them in.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from wtforms import EmailField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from laks.definitions.forms import plain_text
from laks.extensions import db, limiter
from laks.forms import SetPasswordForm
from laks.services import accounts, password_reset
from laks.views import guard

bp = Blueprint("password", __name__)


class EmailRequestForm(FlaskForm):
    """The e-mail address a link is asked for."""

    email = EmailField(
        _l("E-mail"),
        validators=[plain_text, DataRequired(_l("Enter your e-mail address.")),
                    Length(max=254, message=_l("At most %(max)d characters."))],
        render_kw={"autocomplete": "email"},
    )
    submit = SubmitField(_l("Send the link"))

    def validate_email(self, field):
        try:
            accounts.normalise_email(field.data)
        except accounts.AccountError:
            raise ValidationError(_l("Enter an e-mail address such as name@kommune.dk."))\
                from None


def _submitted_email() -> str:
    """The limiter's key for one address: a digest of the e-mail typed, normalised the way
    accounts are found."""
    try:
        typed = request.form.get("email", "")
    except HTTPException:  # a body too large to read; the view answers 413
        typed = ""
    return "email:" + hashlib.sha256(typed.strip().lower().encode()).hexdigest()


def _limited(view):
    """The limits of both request forms, counted together: every POST counts."""
    view = limiter.shared_limit(lambda: current_app.config["LAKS_RESET_ADDRESS_LIMIT"],
                                "mail-link-address", methods=["POST"])(view)
    return limiter.shared_limit(lambda: current_app.config["LAKS_RESET_LIMIT"],
                                "mail-link-email", methods=["POST"],
                                key_func=_submitted_email)(view)


@bp.errorhandler(429)
def too_many(_exc):
    breached = limiter.current_limit
    reset_at = breached.window.reset_time if breached is not None else time.time() + 60
    wait = max(1, math.ceil(reset_at - time.time()))
    minute = math.ceil((time.time() + wait) / 60) * 60  # never earlier than the real moment
    at = format_time(datetime.fromtimestamp(minute, UTC), "short")
    html = render_template(
        "errors/error.html", code=429, title=_("Too many requests for a link"),
        text=_("A link has been asked for too many times for this e-mail address or from "
               "your network. Try again after %(time)s.", time=at))
    return html, 429, {"Retry-After": str(wait)}


@bp.route("/glemt-adgangskode", methods=["GET", "POST"])
@_limited
@guard("public.view")
def forgotten():
    """Ask for a link to choose a new password."""
    form = EmailRequestForm()
    if form.validate_on_submit():
        password_reset.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("password/sent.html", email=form.email.data.strip(),
                               reset=True)
    status = 422 if request.method == "POST" else 200
    return render_template("password/forgotten.html", form=form), status


@bp.route("/ny-invitation", methods=["GET", "POST"])
@_limited
@guard("public.view")
def new_invitation():
    """Ask for a new invitation link (for an account that has no password yet)."""
    form = EmailRequestForm()
    if form.validate_on_submit():
        password_reset.request_new_invitation(form.email.data)
        db.session.commit()
        return render_template("password/sent.html", email=form.email.data.strip(),
                               reset=False)
    status = 422 if request.method == "POST" else 200
    return render_template("password/new_invitation.html", form=form), status


@bp.route("/nulstil-adgangskode/<token>", methods=["GET", "POST"])
@guard("public.view")
def reset(token: str):
    """Choose a new password from a reset link; then signed in, on one's home page."""
    try:
        user = password_reset.user_from_reset(token)
    except accounts.AccountError as exc:
        expired = str(exc) == "expired"
        return render_template("password/link_invalid.html", expired=expired,
                               form=EmailRequestForm(formdata=None)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.reset_password(user, form.password.data)
        except accounts.AccountError:
            form.password.errors.append(_("This password is one of the most common ones and "
                                          "easy to guess. Choose another."))
        else:
            db.session.commit()
            return _sign_in(user)
    status = 422 if request.method == "POST" else 200
    return render_template("password/reset.html", form=form, user=user,
                           min_length=accounts.MIN_PASSWORD_LENGTH), status


def _sign_in(user):
    """Sign ``user`` in after a reset, as logging in does – in a new session, and through the
    second step for a person who has a second factor or whose role requires one: a reset
    link proves the mailbox, never the second factor."""
    # Imported here, as the login view does: the second step builds on laks.views.auth.
    from laks.views import auth, twofactor

    target = url_for("home.index")
    second_step = twofactor.start_second_step(user, target)
    if second_step is not None:
        db.session.commit()
        flash(_("Your new password is saved, and every other session you had has ended. "
                "Finish logging in with two-factor sign-in."), "success")
        return second_step
    auth.sign_in(user, via="password_reset")
    flash(_("Your new password is saved, and you are logged in. Every other session you "
            "had has ended."), "success")
    return redirect(target)
