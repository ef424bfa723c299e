"""The network admin's pages for running the network: programmes with their due dates, units
and who works in them, and people – created, invited, deactivated and reactivated.

Every change goes through laks.services.network, which checks it and says per field what is
wrong; a form with errors comes back with everything typed and a message at each field.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from laks import queries
from laks.enums import MODULE_KEYS, ProgrammeStatus, Role
from laks.extensions import db
from laks.forms import (
    CloseUnitForm,
    EmptyForm,
    MemberForm,
    MoveUnitForm,
    PersonForm,
    ProgrammeForm,
    TovholderForm,
    UnitForm,
)
from laks.models import Membership, Municipality, Programme, Unit, User
from laks.services import mail
from laks.services import network as service
from laks.services.network import NetworkError, due_field
from laks.views import guard, query_int
from laks.views.auth import safe_next

bp = Blueprint("network", __name__, url_prefix="/admin")


def _actor() -> User:
    return current_user._get_current_object()


def show_errors(form, error: NetworkError, rename: dict | None = None) -> None:
    """Put the service's messages at the form's fields (the rest above the form); ``rename``
    maps the service's name of a field to the form's."""
    db.session.rollback()
    for name, messages in error.errors.items():
        field = form._fields.get((rename or {}).get(name, name))
        if field is not None:
            field.errors = list(field.errors) + [str(m) for m in messages]
        else:
            form.form_errors.extend(str(m) for m in messages)


def _get(model, value: str | None):
    """The row whose id was chosen in a form, or None for nothing or anything else."""
    try:
        return db.session.get(model, query_int(value or ""))
    except ValueError:
        return None


def load_programme(programme_id: int) -> Programme:
    return db.get_or_404(Programme, programme_id)


def load_unit(unit_id: int) -> Unit:
    return db.get_or_404(Unit, unit_id)


def load_user(user_id: int) -> User:
    return db.get_or_404(User, user_id)


def load_membership(unit_id: int, membership_id: int) -> Membership:
    membership = db.get_or_404(Membership, membership_id)
    if membership.unit_id != unit_id:
        abort(404)
    return membership


# --- programmes -------------------------------------------------------------------------------


@bp.get("/programmer")
@guard("programme.view")
def programmes():
    return render_template("network/programmes.html", programmes=service.programmes())


def _programme_values(form: ProgrammeForm) -> dict:
    return {"name": form.name.data, "slug": form.slug.data or "",
            "description": form.description.data or "", "starts_on": form.starts_on.data,
            "ends_on": form.ends_on.data,
            "dues": {key: form[due_field(key)].data for key in MODULE_KEYS},
            "status": ProgrammeStatus(form.status.data)}


def _status_known(form: ProgrammeForm) -> bool:
    if form.status.data in {s.value for s in ProgrammeStatus}:
        return True
    form.status.errors = list(form.status.errors) + [_("Choose one of the options shown.")]
    return False


@bp.route("/programmer/ny", methods=["GET", "POST"])
@guard("programme.create")
def new_programme():
    form = ProgrammeForm()
    if request.method == "GET":
        form.status.data = ProgrammeStatus.RUNNING.value
    if form.validate_on_submit() and _status_known(form):
        try:
            programme = service.create_programme(actor=_actor(), **_programme_values(form))
        except NetworkError as exc:
            show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The programme “%(name)s” is created. Add its units.",
                    name=programme.name), "success")
            return redirect(url_for("network.edit_programme", programme_id=programme.id))
    return render_template("network/programme_form.html", form=form, programme=None), \
        422 if form.errors else 200


@bp.route("/programmer/<id:programme_id>/rediger", methods=["GET", "POST"])
@guard("programme.edit", load=load_programme)
def edit_programme(programme: Programme):
    form = ProgrammeForm(obj=programme if request.method == "GET" else None)
    if request.method == "GET":
        form.status.data = programme.status.value
        for key in MODULE_KEYS:
            form[due_field(key)].data = programme.due_on(key)
    if form.validate_on_submit() and _status_known(form):
        try:
            service.update_programme(programme, actor=_actor(), **_programme_values(form))
        except NetworkError as exc:
            show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The programme “%(name)s” is saved.", name=programme.name), "success")
            return redirect(url_for("admin.programme", programme_id=programme.id))
    return render_template("network/programme_form.html", form=form, programme=programme), \
        422 if form.errors else 200


# --- units ------------------------------------------------------------------------------------


def _municipality_choices(form: UnitForm) -> None:
    form.municipality.choices = [SelectChoice("", _("Choose a municipality"))] + [
        SelectChoice(str(m.id), f"{m.name} ({m.code})") for m in service.municipalities()]


def _unit_values(form: UnitForm) -> dict:
    return {"municipality": _get(Municipality, form.municipality.data),
            "name": form.name.data, "places": form.places.data or "",
            "target_group": form.target_group.data or ""}


@bp.route("/programmer/<id:programme_id>/enheder/ny", methods=["GET", "POST"])
@guard("unit.create", load=load_programme)
def new_unit(programme: Programme):
    form = UnitForm()
    _municipality_choices(form)
    if form.validate_on_submit():
        try:
            unit = service.create_unit(actor=_actor(), programme=programme,
                                       **_unit_values(form))
        except NetworkError as exc:
            show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The unit “%(name)s” is created. Attach its people.", name=unit.title),
                  "success")
            return redirect(url_for("network.edit_unit", unit_id=unit.id))
    return render_template("network/unit_new.html", form=form, programme=programme), \
        422 if form.errors else 200


def _unit_page(unit: Unit, *, form=None, move_form=None, member_form=None,
               tovholder_form=None, close_form=None, reopen_form=None, status: int = 200):
    """The unit's page for the admin: its details, who works in it, moving, closing and
    reopening it."""
    if form is None:
        form = UnitForm(formdata=None, obj=unit)
        form.municipality.data = str(unit.municipality_id)
        form.places.data = "\n".join(unit.places or [])
    _municipality_choices(form)
    people = queries.unit_people(unit)
    memberships = {m.user_id: m for m in unit.memberships}
    if move_form is None:
        move_form = MoveUnitForm(formdata=None)
    move_form.programme.choices = [SelectChoice("", _("Choose a programme"))] + [
        SelectChoice(str(p.id), p.name) for p in service.programmes()
        if p.id != unit.programme_id]
    if member_form is None:
        member_form = MemberForm(formdata=None)
    member_form.user.choices = [SelectChoice("", _("Choose a person"))] + [
        SelectChoice(str(u.id), f"{u.name} ({u.role.label}, {u.email})")
        for u in service.candidates(unit)]
    if tovholder_form is None:
        tovholder_form = TovholderForm(formdata=None)
        current = next((user for user, is_tovholder in people if is_tovholder), None)
        tovholder_form.tovholder.data = str(current.id) if current is not None else ""
    tovholder_form.tovholder.choices = [SelectChoice("", _("No tovholder yet"))] + [
        SelectChoice(str(user.id), user.name) for user, _t in people if user.role == Role.STAFF]
    return render_template(
        "network/unit_edit.html", unit=unit, form=form, move_form=move_form,
        member_form=member_form, tovholder_form=tovholder_form, people=people,
        memberships=memberships, action_form=EmptyForm(formdata=None),
        close_form=close_form or CloseUnitForm(formdata=None),
        reopen_form=reopen_form or EmptyForm(formdata=None)), status


@bp.route("/enheder/<id:unit_id>/rediger", methods=["GET", "POST"])
@guard("unit.edit", load=load_unit)
def edit_unit(unit: Unit):
    if request.method == "GET":
        return _unit_page(unit)
    form = UnitForm()
    _municipality_choices(form)
    if form.validate_on_submit():
        try:
            service.update_unit(unit, actor=_actor(), **_unit_values(form))
        except NetworkError as exc:
            show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The unit “%(name)s” is saved.", name=unit.title), "success")
            return redirect(url_for("network.edit_unit", unit_id=unit.id))
    return _unit_page(unit, form=form, status=422)


@bp.post("/enheder/<id:unit_id>/flyt")
@guard("unit.move", load=load_unit)
def move_unit(unit: Unit):
    form = MoveUnitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.move_unit(unit, actor=_actor(), programme=_get(Programme, form.programme.data))
    except NetworkError as exc:
        show_errors(form, exc)
        return _unit_page(unit, move_form=form, status=422)
    db.session.commit()
    flash(_("“%(name)s” is moved to %(programme)s; that programme's due dates apply to it "
            "now.", name=unit.title, programme=unit.programme.name), "success")
    return redirect(url_for("network.edit_unit", unit_id=unit.id))


def _refused(unit: Unit, exc: NetworkError, **forms):
    """The unit's page again with the service's refusal: 409 when the unit's state changed
    meanwhile (closed or reopened by someone else), 422 for a field to correct."""
    return _unit_page(unit, status=409 if "unit" in exc.errors else 422, **forms)


@bp.post("/enheder/<id:unit_id>/luk")
@guard("unit.close", load=load_unit)
def close_unit(unit: Unit):
    form = CloseUnitForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _unit_page(unit, close_form=form, status=422)
    try:
        service.close_unit(unit, actor=_actor(), comment=form.comment.data or "")
    except NetworkError as exc:
        show_errors(form, exc)
        return _refused(unit, exc, close_form=form)
    db.session.commit()
    flash(_("“%(name)s” is closed. Its modules can be read but no longer changed, and "
            "nothing in it is overdue.", name=unit.title), "success")
    return redirect(url_for("network.edit_unit", unit_id=unit.id) + "#closing")


@bp.post("/enheder/<id:unit_id>/genaabn")
@guard("unit.reopen", load=load_unit)
def reopen_unit(unit: Unit):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.reopen_unit(unit, actor=_actor())
    except NetworkError as exc:
        show_errors(form, exc)
        return _refused(unit, exc, reopen_form=form)
    db.session.commit()
    flash(_("“%(name)s” is open again: its staff can edit its modules, and its due dates "
            "apply.", name=unit.title), "success")
    return redirect(url_for("network.edit_unit", unit_id=unit.id) + "#closing")


@bp.post("/enheder/<id:unit_id>/personer")
@guard("unit.members", load=load_unit)
def add_member(unit: Unit):
    form = MemberForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        membership = service.add_member(unit, _get(User, form.user.data), actor=_actor(),
                                        tovholder=form.as_tovholder.data)
    except NetworkError as exc:
        show_errors(form, exc, rename={"tovholder": "as_tovholder"})
        return _unit_page(unit, member_form=form, status=422)
    db.session.commit()
    flash(_("%(name)s now works in %(unit)s.", name=membership.user.name, unit=unit.title),
          "success")
    return redirect(url_for("network.edit_unit", unit_id=unit.id) + "#people")


@bp.post("/enheder/<id:unit_id>/tovholder")
@guard("unit.members", load=load_unit)
def set_tovholder(unit: Unit):
    form = TovholderForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = _get(User, form.tovholder.data) if form.tovholder.data else None
    if form.tovholder.data and chosen is None:
        form.tovholder.errors = [_("Choose one of the options shown.")]
        return _unit_page(unit, tovholder_form=form, status=422)
    try:
        service.set_tovholder(unit, chosen, actor=_actor())
    except NetworkError as exc:
        show_errors(form, exc)
        return _unit_page(unit, tovholder_form=form, status=422)
    db.session.commit()
    flash(_("%(name)s is the unit's tovholder.", name=chosen.name) if chosen is not None
          else _("The unit has no tovholder for now."), "success")
    return redirect(url_for("network.edit_unit", unit_id=unit.id) + "#people")


@bp.post("/enheder/<id:unit_id>/personer/<id:membership_id>/fjern")
@guard("unit.members", load=load_membership)
def remove_member(membership: Membership):
    if not EmptyForm().validate_on_submit():
        abort(400)
    unit, name = membership.unit, membership.user.name
    service.remove_member(membership, actor=_actor())
    db.session.commit()
    flash(_("%(name)s no longer works in %(unit)s. What they wrote stays in the unit.",
            name=name, unit=unit.title), "success")
    return redirect(url_for("network.edit_unit", unit_id=unit.id) + "#people")


# --- people -----------------------------------------------------------------------------------

#: The filters of the people list, as the query string names them.
STATUS_FILTERS = {"aktive": True, "deaktiverede": False}


def people_context() -> dict:
    """What the people list (``admin.users``) shows: everyone matching the filters in the
    query string – role, programme, unit, active or deactivated, text in name or e-mail."""
    args = request.args
    role = args.get("rolle", "")
    role = Role(role) if role in {r.value for r in Role} else None
    programme_id = args.get("forloeb", None, type=query_int)
    unit_id = args.get("enhed", None, type=query_int)
    status = args.get("status", "")
    text = args.get("q", "")[:200].replace("\x00", "")
    people = service.people(role=role, programme_id=programme_id, unit_id=unit_id,
                            active=STATUS_FILTERS.get(status), text=text)
    units = db.session.scalars(select(Unit).options(
        selectinload(Unit.municipality), selectinload(Unit.programme)))
    return {
        "users": people,
        "filters": {"rolle": role.value if role else "", "forloeb": programme_id,
                    "enhed": unit_id, "status": status if status in STATUS_FILTERS else "",
                    "q": text},
        "filtered": any((role, programme_id, unit_id, status in STATUS_FILTERS, text.strip())),
        "roles": [(role.value, role.label) for role in Role],
        "programme_choices": [(p.id, p.name) for p in service.programmes()],
        "unit_groups": _by_programme(units),
        "action_form": EmptyForm(formdata=None),
        "back": request.full_path if request.query_string else request.path,
    }


def _by_programme(units) -> list[tuple[str, list[Unit]]]:
    """Units grouped by their programme, running programmes first, then by name."""
    groups: dict[int, tuple[Programme, list[Unit]]] = {}
    for unit in units:
        groups.setdefault(unit.programme_id, (unit.programme, []))[1].append(unit)
    return [(programme.name, sorted(members, key=lambda u: u.title))
            for programme, members in sorted(groups.values(), key=lambda g: (
                not g[0].is_running, g[0].name))]


def _unit_choices(form: PersonForm) -> None:
    units = db.session.scalars(select(Unit).options(
        selectinload(Unit.municipality), selectinload(Unit.programme)))
    form.unit.choices = [SelectChoice("", _("No unit"))] + [
        SelectChoice(str(u.id), u.title, optgroup=name)
        for name, members in _by_programme(units) for u in members]


@bp.route("/brugere/ny", methods=["GET", "POST"])
@guard("user.create")
def new_person():
    form = PersonForm()
    _unit_choices(form)
    if request.method == "GET" and request.args.get("enhed"):
        unit = _get(Unit, request.args.get("enhed"))
        if unit is not None:
            form.unit.data = str(unit.id)
            form.role.data = Role.STAFF.value
    unit = _get(Unit, form.unit.data) if form.unit.data else None
    if form.unit.data and unit is None:
        form.unit.errors = [_("Choose one of the options shown.")]
    elif form.validate_on_submit():
        try:
            user = service.create_person(
                actor=_actor(), name=form.name.data, email=form.email.data,
                role=form.role.data, unit=unit, tovholder=form.tovholder.data,
                observer_group=form.observer_group.data or None)
        except NetworkError as exc:
            show_errors(form, exc)
        else:
            if form.invite.data:
                mail.send_invitation(user, actor=_actor())
            db.session.commit()
            flash(_("%(name)s is created, and an invitation is on its way to %(email)s.",
                    name=user.name, email=user.email) if form.invite.data else
                  _("%(name)s is created. Send the invitation from the list of people when "
                    "you are ready.", name=user.name), "success")
            return redirect(url_for("admin.users", q=user.email))
    days = max(1, round(current_app.config["LAKS_INVITATION_MAX_AGE"] / 86400))
    return render_template("network/person_new.html", form=form, invitation_days=days), \
        422 if form.errors else 200


def _back() -> str:
    return safe_next(request.form.get("next")) if request.form.get("next") \
        else url_for("admin.users")


@bp.post("/brugere/<id:user_id>/deaktiver")
@guard("user.deactivate", load=load_user)
def deactivate_person(user: User):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.set_person_active(user, actor=_actor(), active=False)
    except NetworkError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(_back())
    db.session.commit()
    flash(_("%(name)s is deactivated and can no longer log in; every session they had has "
            "ended. Their work stays.", name=user.name), "success")
    return redirect(_back())


@bp.post("/brugere/<id:user_id>/aktiver")
@guard("user.activate", load=load_user)
def activate_person(user: User):
    if not EmptyForm().validate_on_submit():
        abort(400)
    service.set_person_active(user, actor=_actor(), active=True)
    db.session.commit()
    flash(_("%(name)s can log in again.", name=user.name), "success")
    return redirect(_back())


@bp.post("/brugere/<id:user_id>/invitation")
@guard("user.invite", load=load_user)
def invite_person(user: User):
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not user.active:
        flash(_("%(name)s is deactivated. Reactivate them before sending an invitation.",
                name=user.name), "error")
        return redirect(_back())
    mail.send_invitation(user, actor=_actor())
    db.session.commit()
    flash(_("An invitation is on its way to %(email)s.", email=user.email), "success")
    return redirect(_back())
