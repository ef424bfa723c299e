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
        units = queries.units_of(user)
        progress = queries.progress(units)
        return render_template(
            f"home/{user.role.value}.html",
            units=units,
            progress=progress,
            next_steps={unit_id: queries.next_step(steps) for unit_id, steps in progress.items()},
            awaiting=queries.awaiting_review(units) if user.role == Role.FACILITATOR else [],
        )
    programmes = queries.programmes_with_units()
    return render_template(
        f"home/{user.role.value}.html",
        programmes=programmes,
        counts=queries.network_counts(),
        progress=queries.progress([u for p in programmes for u in p.units]),
    )
