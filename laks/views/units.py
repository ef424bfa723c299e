"""A unit's own page."""

from __future__ import annotations

from flask import Blueprint, render_template

from laks import queries
from laks.extensions import db
from laks.models import Unit
from laks.views import guard

bp = Blueprint("units", __name__, url_prefix="/enheder")


def load_unit(unit_id: int) -> Unit:
    return db.get_or_404(Unit, unit_id)


@bp.route("/<id:unit_id>")
@guard("unit.view", load=load_unit)
def show(unit: Unit):
    steps = queries.module_steps(unit)
    return render_template("unit/show.html", unit=unit, people=queries.unit_people(unit),
                           steps=steps, next_step=queries.next_step(steps))
