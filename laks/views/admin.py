"""Network-wide pages: programmes, people and the audit log."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from laks import audit_log, queries
from laks import testlog as checks
from laks.access import can
from laks.enums import AUDIT_ACTION_LABELS
from laks.extensions import db
from laks.forms import EmptyForm
from laks.models import Programme, SharedMeasure, Unit, User
from laks.services import testlog as testlog_service
from laks.testlog import _guarded as guarded_cell
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
    """The programme's overview: its units a page at a time, and the shared measures side
    by side for the units of the page (summed across all of them)."""
    units = queries.programme_units(programme.id, request.args.get("side", 1, type=query_int))
    return render_template(
        "admin/programme.html", programme=programme, units=units,
        shared=testlog_service.shared_overview(programme, units.units),
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
    """The audit log, filtered by person, unit, action and period; a bad filter value is
    left out with a note, and a page past the end shows the last page."""
    filters, notes, args = _audit_filters()
    found = audit_log.log_page(filters, request.args.get("side", 1, type=query_int))
    return render_template(
        "admin/audit.html", found=found, rows=found.rows, page=found.page, pages=found.pages,
        total=found.total, filters=filters, notes=notes, args=args,
        actions=audit_log.action_choices(), people=_people(), units=_units(),
    )


@bp.route("/admin/log.csv")
@guard("audit.view")
def audit_csv():
    """The filtered selection of the audit log as a CSV file for a spreadsheet: UTF-8 with
    a byte-order mark, headers in Danish, no cell that a spreadsheet would run as a formula.
    Written as it is read, a few hundred events at a time."""
    filters, _notes, _args = _audit_filters()
    zone = audit_log.local_zone()
    header = [_("Time"), _("Person"), _("E-mail"), _("Action"), _("Object"), _("Unit"),
              _("Details"), _("IP address"), _("Browser")]

    def lines():
        yield "\ufeff" + _csv_line(header)
        for batch in audit_log.export_rows(filters):
            yield "".join(_csv_line([
                row.event.at.astimezone(zone).replace(tzinfo=None).isoformat(
                    sep=" ", timespec="seconds"),
                row.event.actor.name if row.event.actor else _("system")
                if row.event.ip_address is None else _("not logged in"),
                row.event.actor.email if row.event.actor else "",
                row.action, row.object, row.unit, row.details,
                row.event.ip_address or "", row.event.user_agent or "",
            ]) for row in batch)

    return Response(stream_with_context(lines()), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="revisionslog.csv"'})


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerow(
        [guarded_cell(str(cell)) for cell in cells])
    return out.getvalue()


#: The person filter's value for events of no one (the system, or not logged in).
NO_PERSON = "ingen"


def _people() -> list[tuple[int, str]]:
    """The log's people filter: (id, "name (e-mail)")."""
    return [(id_, f"{name} ({email})") for id_, name, email in db.session.execute(
        select(User.id, User.name, User.email).order_by(User.name, User.id))]


def _units() -> list[tuple[int, str]]:
    """The log's unit filter: (id, title), by title."""
    units = db.session.scalars(select(Unit).options(selectinload(Unit.municipality)))
    return sorted(((unit.id, unit.title) for unit in units), key=lambda u: u[1].lower())


def _whole_number(value: str) -> int | None:
    try:
        return query_int(value)
    except ValueError:
        return None


def _audit_filters() -> tuple[audit_log.AuditFilter, list[str], dict[str, str]]:
    """The log's filters from the query string: the filter, a note for each value left out
    (not a person or unit laks knows, not an action, not a date, a period that ends before
    it begins) and the values used, for the links of the page (next page, CSV)."""
    args, notes, used = request.args, [], {}
    fields: dict = {}
    person = args.get("person", "").strip()
    if person == NO_PERSON:
        fields["no_person"], used["person"] = True, person
    elif person:
        person_id = _whole_number(person)
        if person_id is not None and db.session.get(User, person_id) is not None:
            fields["actor_id"], used["person"] = person_id, person
        else:
            notes.append(_("The person chosen is not known; the log is shown for everyone."))
    unit = args.get("enhed", "").strip()
    if unit:
        unit_id = _whole_number(unit)
        if unit_id is not None and db.session.get(Unit, unit_id) is not None:
            fields["unit_id"], used["enhed"] = unit_id, unit
        else:
            notes.append(_("The unit chosen is not known; the log is shown for every unit."))
    action = args.get("handling", "").strip()
    if action:
        if action in AUDIT_ACTION_LABELS:
            fields["action"], used["handling"] = action, action
        else:
            notes.append(_("The action chosen is not known; the log is shown for every "
                           "action."))
    for name, field, message in (
            ("fra", "since", _("The start of the period is not a date (write it as "
                               "2026-03-01); the log is shown without it.")),
            ("til", "until", _("The end of the period is not a date (write it as "
                               "2026-03-01); the log is shown without it."))):
        value = args.get(name, "").strip()
        if value:
            try:
                fields[field], used[name] = date.fromisoformat(value), value
            except ValueError:
                notes.append(message)
    if "since" in fields and "until" in fields and fields["until"] < fields["since"]:
        notes.append(_("The period ends before it begins; the log is shown without its "
                       "end."))
        del fields["until"], used["til"]
    return audit_log.AuditFilter(**fields), notes, used
