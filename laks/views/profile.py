"""Each person's own profile (``/konto``): their name, their language – of the interface and
of their mails – and a new password.

A person's language is also the interface's language from the moment they sign in, unless
they chose one in this browser before (the language switcher's choice is kept).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, user_logged_in

from laks.extensions import db
from laks.forms import ChangePasswordForm, ProfileForm
from laks.services import network as service
from laks.services.accounts import MIN_PASSWORD_LENGTH
from laks.services.network import LANGUAGES, NetworkError
from laks.views import guard
from laks.views.network import show_errors

bp = Blueprint("profile", __name__, url_prefix="/konto")


def _use_language(sender, user, **extra) -> None:
    """At sign-in, speak the person's language unless this browser chose one already."""
    if "lang" not in session and getattr(user, "language", None) in LANGUAGES:
        session["lang"] = user.language


user_logged_in.connect(_use_language)


def _page(*, form=None, password_form=None, status: int = 200):
    user = current_user._get_current_object()
    if form is None:
        form = ProfileForm(formdata=None, obj=user)
    if password_form is None:
        password_form = ChangePasswordForm(formdata=None)
    return render_template("profile/show.html", form=form, password_form=password_form,
                           min_length=MIN_PASSWORD_LENGTH), status


@bp.route("", methods=["GET", "POST"])
@guard("account.profile")
def show():
    if request.method == "GET":
        return _page()
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            service.update_profile(current_user._get_current_object(), name=form.name.data,
                                   language=form.language.data)
        except NetworkError as exc:
            show_errors(form, exc)
        else:
            db.session.commit()
            session["lang"] = form.language.data  # the interface speaks it from now on
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("profile.show"))
    return _page(form=form, status=422)


@bp.post("/adgangskode")
@guard("account.password")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            service.change_password(user, current=form.current_password.data,
                                    new=form.password.data)
        except NetworkError as exc:
            show_errors(form, exc)
        else:
            db.session.commit()
            # The new password ended every session of the person; this one goes on with
            # the new session token (its time of login is kept).
            login_user(user)
            flash(_("Your password is changed. You are logged out everywhere else."),
                  "success")
            return redirect(url_for("profile.show"))
    return _page(password_form=form, status=422)
