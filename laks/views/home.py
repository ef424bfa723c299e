"""The signed-in person's home page: what they need first, by role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from laks import queries
from laks.enums import Role
from laks.views import guard

bp = Blueprint("home", __name__)


@bp.route("/hjem")
@guard("home.view")
def index():
    user = current_user
    if user.role in (Role.STAFF, Role.FACILITATOR):
        return render_template(f"home/{user.role.value}.html", units=queries.units_of(user))
    return render_template(
        f"home/{user.role.value}.html",
        programmes=queries.programmes_with_units(),
        counts=queries.network_counts(),
    )
