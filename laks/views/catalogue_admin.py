"""The network admin's pages for the inspiration catalogue: editions listed, made, curated
(texts, cases and their order), previewed as they will read, published and withdrawn.

Every page works without JavaScript: the cases of a draft are chosen with checkboxes and
ordered by a position number or the up and down buttons, all in one form.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from laks.enums import EditionStatus
from laks.extensions import db
from laks.forms import EditionForm, EditionTextForm, EmptyForm, WithdrawEditionForm
from laks.models import Edition, Programme
from laks.rendering import render_markdown
from laks.services import catalogue as service
from laks.views import guard

bp = Blueprint("catalogue_admin", __name__, url_prefix="/admin/katalog")


def load_edition(edition_id: int) -> Edition:
    return db.get_or_404(Edition, edition_id)


def _actor():
    return current_user._get_current_object()


def _programme_choices() -> list[SelectChoice]:
    programmes = db.session.scalars(select(Programme).order_by(Programme.starts_on))
    return [SelectChoice("", _("Every programme"))] + [
        SelectChoice(str(p.id), p.name) for p in programmes]


@bp.get("/")
@guard("catalogue.curate")
def index():
    editions = list(db.session.scalars(select(Edition).order_by(Edition.number.desc())))
    return render_template("catalogue/admin_index.html", editions=editions)


@bp.route("/ny", methods=["GET", "POST"])
@guard("catalogue.curate")
def new():
    form = EditionForm()
    form.programme.choices = _programme_choices()
    if form.validate_on_submit():
        programme = db.session.get(Programme, int(form.programme.data)) \
            if form.programme.data else None
        try:
            edition = service.create_edition(_actor(), form.title.data, programme,
                                             form.grouping.data)
        except service.CatalogueError as exc:
            db.session.rollback()
            form.title.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Edition %(num)d is made as a draft. Choose its cases and write its "
                    "foreword.", num=edition.number), "success")
            return redirect(url_for("catalogue_admin.edit", edition_id=edition.id))
    status = 422 if form.errors else 200
    return render_template("catalogue/admin_new.html", form=form), status


def _draft_rows(edition: Edition, statuses: list[service.CaseStatus]) -> list[dict]:
    """The eligible cases as rows of the choice form: those in the edition first, in
    their order, then the others."""
    position = {case.unit_id: case.position for case in edition.cases}
    rows = [{"status": s, "included": s.unit.id in position,
             "position": position.get(s.unit.id)} for s in statuses if s.eligible]
    # Included cases keep their order; the rest follow by municipality and unit.
    rows.sort(key=lambda r: (not r["included"], r["position"] or 0))
    return rows


def _render_edit(edition: Edition, *, form=None, withdraw_form=None, cases_error=None,
                 preview=None, status=200):
    statuses = service.case_statuses(edition.programme)
    if edition.status == EditionStatus.DRAFT and form is None:
        form = EditionTextForm(obj=edition, formdata=None)
        form.grouping.data = edition.grouping.value
    in_edition = {case.unit_id for case in edition.cases}
    stale = [case for case in edition.cases
             if case.unit_id not in {s.unit.id for s in statuses if s.eligible}]
    # Units that took back their consent after the edition was published: the edition is
    # not changed, but the admin is told, to decide whether to withdraw it.
    consenting = {s.unit.id for s in statuses if s.consent is not None}
    lost_consent = [case for case in edition.cases
                    if case.unit_id is not None and case.unit_id not in consenting]
    return render_template(
        "catalogue/admin_edit.html", edition=edition, form=form,
        withdraw_form=withdraw_form or WithdrawEditionForm(formdata=None),
        rows=_draft_rows(edition, statuses) if edition.status == EditionStatus.DRAFT else [],
        not_eligible=[s for s in statuses if not s.eligible],
        stale=stale if edition.status == EditionStatus.DRAFT else [],
        lost_consent=lost_consent if edition.status == EditionStatus.PUBLISHED else [],
        in_edition=in_edition, cases_error=cases_error, preview=preview,
        contents=service.edition_cases(edition), action_form=EmptyForm(),
    ), status


@bp.get("/<id:edition_id>")
@guard("catalogue.curate", load=load_edition)
def edit(edition: Edition):
    return _render_edit(edition)


@bp.post("/<id:edition_id>/tekst")
@guard("catalogue.curate", load=load_edition)
def save_text(edition: Edition):
    form = EditionTextForm()
    if edition.status != EditionStatus.DRAFT:
        flash(_("Edition %(num)d is published and can no longer be changed. Make a new "
                "edition instead.", num=edition.number), "error")
        return redirect(url_for("catalogue_admin.edit", edition_id=edition.id))
    if not form.validate_on_submit():
        return _render_edit(edition, form=form, status=422)
    if "preview" in request.form:
        preview = {"foreword": render_markdown(form.foreword.data),
                   "introduction": render_markdown(form.introduction.data)}
        return _render_edit(edition, form=form, preview=preview)
    try:
        service.update_edition(edition, _actor(), title=form.title.data,
                               grouping=form.grouping.data, foreword=form.foreword.data or "",
                               introduction=form.introduction.data or "")
    except service.CatalogueError as exc:
        db.session.rollback()
        form.title.errors.append(str(exc))
        return _render_edit(edition, form=form, status=422)
    db.session.commit()
    flash(_("The texts of the edition are saved."), "success")
    return redirect(url_for("catalogue_admin.edit", edition_id=edition.id))


def _chosen_order(form) -> list[int]:
    """The unit ids the admin ticked, in the order their position numbers give (ties and
    empty numbers keep the order on the page), then moved by an up or down button."""
    chosen = []
    for index, value in enumerate(form.getlist("unit")):
        if not (value.isascii() and value.isdigit()) or len(value) > 10:
            continue
        raw = (form.get(f"position-{value}") or "").strip()
        position = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 10**6
        chosen.append((position, index, int(value)))
    order = [unit_id for _p, _i, unit_id in sorted(chosen)]
    order = list(dict.fromkeys(order))  # a unit sent twice counts once
    move = form.get("move", "")
    direction, _sep, unit = move.partition(":")
    if unit.isascii() and unit.isdigit() and len(unit) <= 10 and int(unit) in order:
        i = order.index(int(unit))
        j = i - 1 if direction == "up" else i + 1 if direction == "down" else i
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
    return order


@bp.post("/<id:edition_id>/cases")
@guard("catalogue.curate", load=load_edition)
def save_cases(edition: Edition):
    form = EmptyForm()
    if not form.validate_on_submit():
        return _render_edit(edition, cases_error=_("The form had expired. Try again."),
                            status=400)
    try:
        service.set_edition_cases(edition, _chosen_order(request.form), _actor())
    except service.CatalogueError as exc:
        db.session.rollback()
        return _render_edit(edition, cases_error=str(exc), status=422)
    db.session.commit()
    flash(_("The cases of the edition are saved."), "success")
    return redirect(url_for("catalogue_admin.edit", edition_id=edition.id) + "#cases")


@bp.get("/<id:edition_id>/forhaandsvisning")
@guard("catalogue.curate", load=load_edition)
def preview(edition: Edition):
    return render_template("catalogue/admin_preview.html", edition=edition,
                           groups=service.grouped_cases(edition))


@bp.route("/<id:edition_id>/udgiv", methods=["GET", "POST"])
@guard("catalogue.curate", load=load_edition)
def publish(edition: Edition):
    form = EmptyForm()
    error = None
    if form.validate_on_submit():
        try:
            service.publish_edition(edition, _actor())
        except service.CatalogueError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            flash(_("Edition %(num)d is published. Its PDF is being made.",
                    num=edition.number), "success")
            return redirect(url_for("catalogue_admin.edit", edition_id=edition.id))
    elif edition.status == EditionStatus.DRAFT and not edition.cases:
        error = _("An edition with no cases cannot be published. Choose at least one case "
                  "first.")
    return render_template("catalogue/admin_publish.html", edition=edition, form=form,
                           error=error), 422 if error and request.method == "POST" else 200


@bp.post("/<id:edition_id>/traek-tilbage")
@guard("catalogue.curate", load=load_edition)
def withdraw(edition: Edition):
    form = WithdrawEditionForm()
    if not form.validate_on_submit():
        return _render_edit(edition, withdraw_form=form, status=422)
    try:
        service.withdraw_edition(edition, _actor(), form.reason.data)
    except service.CatalogueError as exc:
        db.session.rollback()
        form.reason.errors.append(str(exc))
        return _render_edit(edition, withdraw_form=form, status=422)
    db.session.commit()
    flash(_("Edition %(num)d is withdrawn from the public.", num=edition.number), "success")
    return redirect(url_for("catalogue_admin.edit", edition_id=edition.id))


@bp.post("/<id:edition_id>/slet")
@guard("catalogue.curate", load=load_edition)
def delete(edition: Edition):
    form = EmptyForm()
    if form.validate_on_submit():
        number = edition.number
        try:
            service.delete_draft(edition, _actor())
        except service.CatalogueError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("catalogue_admin.edit", edition_id=edition.id))
        db.session.commit()
        flash(_("The draft of edition %(num)d is deleted.", num=number), "success")
    return redirect(url_for("catalogue_admin.index"))
