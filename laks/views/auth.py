"""Logging in and out, and choosing a password from an invitation link."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from laks.audit import record
from laks.extensions import db, login_manager
from laks.forms import EmptyForm, LoginForm, SetPasswordForm
from laks.models import User
from laks.services import accounts
from laks.views import guard

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Log in to see this page.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def safe_next(target: str | None) -> str:
    """Only ever redirect to a path on this site, never to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("home.index")


@bp.route("/log-ind", methods=["GET", "POST"])
@guard("public.view")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        db.session.commit()
        if user is not None:
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        # One message for an unknown address, a wrong password and an inactive account.
        form.password.errors.append(_("The e-mail or the password is wrong."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/log-ud", methods=["POST"])
@guard("account.logout")
def logout():
    if EmptyForm().validate_on_submit():
        record(current_user._get_current_object(), "auth.logout", current_user)
        db.session.commit()
        logout_user()
        flash(_("You are logged out."), "success")
    return redirect(url_for("public.index"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@guard("public.view")
def accept_invitation(token: str):
    try:
        user = accounts.user_from_invitation(token)
    except accounts.AccountError as exc:
        message = (_("This invitation link has expired. Ask the network admin for a new one.")
                   if str(exc) == "expired" else
                   _("This invitation link is not valid, or it has already been used."))
        return render_template("auth/invitation_invalid.html", message=message), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(actor=user, user=user, password=form.password.data)
        db.session.commit()
        logout_user()
        flash(_("Your password is saved. You can log in now."), "success")
        return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/invitation.html", form=form, user=user), status
