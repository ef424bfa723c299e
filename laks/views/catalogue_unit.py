"""A unit's case for the inspiration catalogue: the case as it will appear, what is missing,
and the tovholder's consent to publishing it (given or withdrawn, who and when)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from laks.enums import EditionStatus
from laks.extensions import db
from laks.forms import EmptyForm
from laks.models import Edition, EditionCase, Unit
from laks.services import catalogue as service
from laks.views import guard

bp = Blueprint("catalogue_unit", __name__, url_prefix="/enheder")


def load_unit(unit_id: int) -> Unit:
    return db.get_or_404(Unit, unit_id)


def _render(unit: Unit, *, error=None, status=200):
    content = service.case_content(unit)
    consent = service.active_consent(unit)
    problems = service.case_problems(unit, content)
    editions = list(db.session.scalars(
        select(Edition).join(EditionCase).where(
            EditionCase.unit_id == unit.id,
            Edition.status.in_([EditionStatus.PUBLISHED, EditionStatus.WITHDRAWN]))
        .order_by(Edition.number)))
    return render_template(
        "catalogue/unit_consent.html", unit=unit, case=content, consent=consent,
        history=service.consent_history(unit), problems=problems, editions=editions,
        form=EmptyForm(), error=error,
    ), status


@bp.get("/<id:unit_id>/katalog")
@guard("unit.view", load=load_unit)
def show(unit: Unit):
    return _render(unit)


@bp.post("/<id:unit_id>/katalog/samtykke")
@guard("catalogue.consent", load=load_unit)
def consent(unit: Unit):
    if not EmptyForm().validate_on_submit():
        return _render(unit, error=_("The form had expired. Try again."), status=400)
    try:
        service.give_consent(unit, current_user._get_current_object())
    except service.CatalogueError as exc:
        db.session.rollback()
        return _render(unit, error=str(exc), status=422)
    db.session.commit()
    flash(_("Thank you. The unit consents to publishing its case in the inspiration "
            "catalogue."), "success")
    return redirect(url_for("catalogue_unit.show", unit_id=unit.id))


@bp.post("/<id:unit_id>/katalog/traek-samtykke")
@guard("catalogue.consent", load=load_unit)
def withdraw(unit: Unit):
    if not EmptyForm().validate_on_submit():
        return _render(unit, error=_("The form had expired. Try again."), status=400)
    try:
        service.withdraw_consent(unit, current_user._get_current_object())
    except service.CatalogueError as exc:
        db.session.rollback()
        return _render(unit, error=str(exc), status=422)
    db.session.commit()
    flash(_("The consent is withdrawn. The case will not be put into new editions."),
          "success")
    return redirect(url_for("catalogue_unit.show", unit_id=unit.id))
