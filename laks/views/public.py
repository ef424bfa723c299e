"""Pages for everyone: the front page, the language switch and the accessibility statement."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from laks import catalogue_search
from laks.forms import LoginForm
from laks.views import guard
from laks.views.auth import safe_next

bp = Blueprint("public", __name__)

#: When the accessibility statement was prepared and last reviewed (change with the text).
STATEMENT_PREPARED_ON = date(2026, 11, 25)
STATEMENT_REVIEWED_ON = date(2026, 11, 25)


@bp.route("/")
@guard("public.view")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return render_template("public/index.html", form=LoginForm(),
                           edition=catalogue_search.newest_edition(),
                           programmes=catalogue_search.public_programmes())


@bp.route("/sprog/<code>")
@guard("public.view")
def set_language(code: str):
    """Remember the chosen language; an unknown code falls back to Danish."""
    session["lang"] = code if code in current_app.config["LAKS_LOCALES"] else "da"
    return redirect(safe_next(request.args.get("next")))


@bp.route("/tilgaengelighed")
@guard("public.view")
def accessibility():
    """The accessibility statement (tilgængelighedserklæring) that the footer links to."""
    return render_template(
        "public/accessibility.html",
        prepared_on=STATEMENT_PREPARED_ON,
        reviewed_on=STATEMENT_REVIEWED_ON,
        contact_email=current_app.config.get("LAKS_CONTACT_EMAIL", ""),
    )
