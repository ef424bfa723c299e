"""Pages for everyone: the front page and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user

from laks.forms import LoginForm
from laks.views import guard
from laks.views.auth import safe_next

bp = Blueprint("public", __name__)


@bp.route("/")
@guard("public.view")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return render_template("public/index.html", form=LoginForm())


@bp.route("/sprog/<code>")
@guard("public.view")
def set_language(code: str):
    """Remember the chosen language; an unknown code falls back to Danish."""
    from flask import current_app

    session["lang"] = code if code in current_app.config["LAKS_LOCALES"] else "da"
    return redirect(safe_next(request.args.get("next")))
