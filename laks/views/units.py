"""A unit's own page: the unit at a glance – its modules' steps, its progress score with the
trajectory, the latest run chart of its test log and the open comments – and the form a
facilitator (or the network admin) scores its progress with."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from laks import queries
from laks.enums import Role
from laks.extensions import db
from laks.forms import ProgressForm
from laks.models import Unit
from laks.services import progress
from laks.services.progress_chart import score_text
from laks.services.unit_glance import glance
from laks.views import guard

bp = Blueprint("units", __name__, url_prefix="/enheder")


def load_unit(unit_id: int) -> Unit:
    return db.get_or_404(Unit, unit_id)


def _page(unit: Unit, form: ProgressForm | None = None, status: int = 200):
    user = current_user._get_current_object()
    steps = queries.module_steps(unit)
    # An observer reads the unit from outside: its chart keeps the small-number rule.
    outside = user.role == Role.OBSERVER
    return render_template(
        "unit/show.html", unit=unit, people=queries.unit_people(unit), steps=steps,
        next_step=queries.next_step(steps), glance=glance(unit, public=outside),
        progress_form=form or ProgressForm(formdata=None), score_text=score_text,
        ihi_words=progress.scale_words), status


@bp.route("/<id:unit_id>")
@guard("unit.view", load=load_unit)
def show(unit: Unit):
    return _page(unit)


@bp.post("/<id:unit_id>/fremdrift")
@guard("progress.set", load=load_unit)
def set_progress(unit: Unit):
    """Score the unit's progress; a refused score comes back at its field, as typed."""
    form = ProgressForm()
    if not form.validate():
        return _page(unit, form, 422)
    try:
        score = progress.set_score(unit, form.half_steps.data, form.note.data,
                                   actor=current_user._get_current_object())
    except progress.ScoreRefused as refused:  # the form checks the same; never expected
        for problem in refused.problems:
            form[problem.field].errors = [*form[problem.field].errors, problem.message]
        return _page(unit, form, 422)
    db.session.commit()
    flash(_("The progress score %(score)s is saved.", score=score_text(score.half_steps)),
          "success")
    return redirect(url_for("units.show", unit_id=unit.id, _anchor="progress"))
