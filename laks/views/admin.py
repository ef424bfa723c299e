"""Network-wide pages: programmes, people and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from laks import queries
from laks import testlog as checks
from laks.access import can
from laks.extensions import db
from laks.forms import EmptyForm
from laks.models import Programme, SharedMeasure
from laks.services import testlog as testlog_service
from laks.views import guard, query_int

bp = Blueprint("admin", __name__)

# The one date-time format of the interface, for every template (registered on the app).


def load_programme(programme_id: int) -> Programme:
    return db.get_or_404(Programme, programme_id)


@bp.route("/programmer/<id:programme_id>")
@guard("programme.view", load=load_programme)
def programme(programme: Programme):
    return _programme_page(programme)


def _programme_page(programme: Programme, *, status: int = 200, errors=None, typed=None):
    """The programme's overview: its units, and the shared measures side by side."""
    return render_template(
        "admin/programme.html", programme=programme,
        shared=testlog_service.shared_overview(programme),
        may_define=can(current_user, "programme.measures", programme),
        step_form=EmptyForm(formdata=None), errors=errors or [], typed=typed or {},
        kinds=checks.KIND_LABELS, better=checks.BETTER_LABELS), status


@bp.post("/programmer/<id:programme_id>/faelles-maalinger")
@guard("programme.measures", load=load_programme)
def add_shared_measure(programme: Programme):
    """The network asks every unit of the programme to report a measure."""
    if not EmptyForm().validate():
        abort(400)
    raw = {k: request.form.get(k, "") for k in ("name", "kind", "better", "goal")}
    measure, problems = checks.check_measure(raw)
    if problems:
        return _programme_page(programme, status=422, errors=problems, typed=raw)
    testlog_service.add_shared_measure(programme, measure, actor=current_user)
    db.session.commit()
    flash(_("Every unit of the programme is asked to report “%(name)s” in its test log.",
            name=measure["name"]), "success")
    return redirect(url_for("admin.programme", programme_id=programme.id) + "#shared")


def load_shared_measure(programme_id: int, measure_id: int) -> SharedMeasure:
    shared = db.get_or_404(SharedMeasure, measure_id)
    if shared.programme_id != programme_id:
        abort(404)
    return shared


@bp.post("/programmer/<id:programme_id>/faelles-maalinger/<id:measure_id>/slet")
@guard("programme.measures", load=load_shared_measure)
def delete_shared_measure(shared: SharedMeasure):
    if not EmptyForm().validate():
        abort(400)
    programme_id, name = shared.programme_id, shared.name
    testlog_service.delete_shared_measure(shared, actor=current_user)
    db.session.commit()
    flash(_("“%(name)s” is no longer asked for. What the units reported stays in their test "
            "logs.", name=name), "success")
    return redirect(url_for("admin.programme", programme_id=programme_id) + "#shared")


@bp.route("/admin/brugere")
@guard("user.list")
def users():
    # The list with its filters and buttons lives with the other people pages.
    from laks.views.network import people_context

    return render_template("admin/users.html", **people_context())


@bp.route("/admin/log")
@guard("audit.view")
def audit():
    page = request.args.get("side", 1, type=query_int) or 1
    page = max(page, 1)
    action = request.args.get("handling") or None
    events, total = queries.audit_page(page, action)
    pages = max(1, -(-total // queries.AUDIT_PAGE_SIZE))
    return render_template(
        "admin/audit.html", events=events, total=total, page=page, pages=pages,
        action=action, actions=queries.audit_actions(),
    )
