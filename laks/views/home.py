"""The signed-in person's home page: what they need first, by role.

Facilitators, the network admin and observers see the overview's pieces (laks.services.
overview): the review queue and the first page of the matrix, or each programme's units
per state – so that there is one way to see progress, and the page costs the same with a
thousand units as with ten.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from laks import queries
from laks.enums import MODULE_KEYS, ModuleState, Role
from laks.services import overview, overview_needs, overview_totals
from laks.services.progress import scale_words
from laks.views import guard

bp = Blueprint("home", __name__)


@bp.route("/hjem")
@guard("home.view")
def index():
    user = current_user
    if user.role == Role.STAFF:
        units = queries.units_of(user)
        progress = queries.progress(units)
        return render_template(
            "home/staff.html",
            units=units,
            progress=progress,
            next_steps={unit_id: queries.next_step(steps) for unit_id, steps in progress.items()},
        )
    context = {"module_keys": MODULE_KEYS, "ModuleState": ModuleState,
               "filters": overview.Filters(), "scale_words": scale_words}
    if user.role == Role.FACILITATOR:
        scope = overview.scope_for(user)
        return render_template(
            "home/facilitator.html",
            matrix=overview.matrix_page(scope, overview.Filters(), 1),
            needs=overview_needs.needs(scope, overview.Filters(), lists=False), **context)
    tallies = {p.programme_id: p for p in overview_totals.totals(overview.Filters(), reach=False)}
    return render_template(
        f"home/{user.role.value}.html",
        programmes=overview_totals.all_programmes(),
        tallies=tallies,
        counts=queries.network_counts(),
        **context,
    )
