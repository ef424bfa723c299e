"""A unit's test log (module 4): each PDSA cycle on its own page, and the measures page –
measures, data points (typed or imported from CSV), the equity reach, run charts with
their reading – and the log as CSV.

Everything is stored in module 4's answers through laks.services.testlog, so the module's
access rules, its state (editable or not), its revisions and its optimistic locking apply
unchanged: these pages post the version they were loaded from, like the module page.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from laks import testlog as checks
from laks.access import can, require
from laks.definitions.forms import build_row_form, row_form_data, row_from_form
from laks.extensions import db
from laks.forms import EmptyForm
from laks.models import Unit, UnitModule
from laks.services import modules as module_service
from laks.services import testlog as service
from laks.services.definitions import module_spec
from laks.services.testlog_charts import measure_chart, reach_summary
from laks.views import guard

bp = Blueprint("testlog", __name__, url_prefix="/enheder/<id:unit_id>/afproevning")

#: The biggest CSV file read (laks.testlog checks it again before parsing).
MAX_UPLOAD = 1024 * 1024


def load_test_log(unit_id: int, **_kwargs) -> UnitModule:
    unit = db.get_or_404(Unit, unit_id)
    return module_service.unit_module_for(unit, service.MODULE_KEY)


def _cycles_question(unit_module: UnitModule):
    return module_spec(unit_module).questions_by_key["cycles"]


def _version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return -1


def _measures_url(unit_module: UnitModule, anchor: str | None = None) -> str:
    url = url_for("testlog.measures", unit_id=unit_module.unit_id)
    return f"{url}#{anchor}" if anchor else url


def _locked(unit_module: UnitModule):
    """The answer for a write to a module that cannot be edited now (or None)."""
    if unit_module.state.editable:
        return None
    flash(_("The module is “%(state)s” and cannot be edited now.",
            state=unit_module.state.label), "error")
    return redirect(_measures_url(unit_module))


def _saved(unit_module: UnitModule, write, success: str, anchor: str | None = None):
    """Run ``write`` (a service call that saves module 4's answers), commit once, and say
    what happened; a save based on an older version keeps the person's change as a
    conflict revision and says so."""
    try:
        write()
    except module_service.SaveConflict:
        db.session.commit()  # the change is kept as a "conflict" revision
        flash(_("Someone else saved the test log since you opened this page, so your change "
                "was not applied. It is kept in the module's revisions; look at the page "
                "now and make it again."), "error")
        return redirect(_measures_url(unit_module, anchor))
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        flash(_("Someone else saved at the same moment. Look at the page now and make your "
                "change again."), "error")
        return redirect(_measures_url(unit_module, anchor))
    db.session.commit()
    flash(success, "success")
    return redirect(_measures_url(unit_module, anchor))


# --- cycles ------------------------------------------------------------------------------------


@bp.route("/cyklusser/<int:number>", methods=["GET", "POST"])
@bp.route("/cyklusser/ny", methods=["GET", "POST"], defaults={"number": None})
@guard("module.view", load=load_test_log)
def cycle(unit_module: UnitModule):
    """One PDSA cycle: read it, and edit it while the module can be edited."""
    number = request.view_args.get("number")
    log = service.test_log(unit_module.unit)
    if number is not None and not 1 <= number <= len(log.cycles):
        abort(404)
    question = _cycles_question(unit_module)
    user = current_user._get_current_object()
    editable = can(user, "module.edit", unit_module)
    stored = log.cycles[number - 1] if number else None
    if number is None and not editable:
        require(user, "module.edit", unit_module)  # says why (e.g. the unit is closed)
        abort(403)
    form_class = build_row_form(question)
    status = 200
    if request.method == "POST":
        require(user, "module.save", unit_module)  # a 403 that says why
        form = form_class()
        if not editable:
            flash(_("The module is “%(state)s” and cannot be edited now. Your text is still "
                    "in the form below, so you can copy it.", state=unit_module.state.label),
                  "error")
            status = 409
        elif form.validate():
            row = row_from_form(question, form)
            if row is None:
                form.form_errors.append(_("Write at least one thing about the cycle."))
                status = 422
            else:
                try:
                    saved = service.save_cycle(log, number, row, actor=user,
                                               base_version=_version())
                except module_service.SaveConflict as conflict:
                    db.session.commit()
                    flash(_("Someone else saved the test log since you opened this page. "
                            "Your text is in the form below and kept in the module's "
                            "revisions; the saved cycle is shown above it."), "error")
                    form.version.data = conflict.unit_module.version
                    status = 409
                else:
                    db.session.commit()
                    flash(_("Cycle %(num)d is saved.", num=saved), "success")
                    return redirect(url_for("testlog.cycle", unit_id=unit_module.unit_id,
                                            number=saved))
        else:
            status = 422
    else:
        form = form_class(formdata=None, data=row_form_data(question, stored),
                          version=unit_module.version)
    return render_template(
        "testlog/cycle.html", unit=unit_module.unit, unit_module=unit_module,
        question=question, cycle=stored, number=number, count=len(log.cycles),
        form=form if editable else None), status


@bp.get("/cyklusser.csv")
@guard("module.view", load=load_test_log)
def cycles_csv(unit_module: UnitModule):
    log = service.test_log(unit_module.unit)
    question = _cycles_question(unit_module)
    labels = {c.key: str(c.label) for c in question.columns}
    return _csv(checks.export_cycles_csv(log.cycles, labels),
                f"pdsa-cyklusser-{unit_module.unit_id}.csv")


# --- measures ----------------------------------------------------------------------------------


@bp.get("/maalinger")
@guard("module.view", load=load_test_log)
def measures(unit_module: UnitModule):
    return _measures_page(unit_module)


def _measures_page(unit_module: UnitModule, *, status: int = 200, errors=None,
                   typed=None, anchor_for=None):
    """The measures page; ``errors`` ([Problem]) and ``typed`` (what was sent) belong to
    the form named ``anchor_for``, shown again with everything typed."""
    log = service.test_log(unit_module.unit)
    unit = unit_module.unit
    user = current_user._get_current_object()
    programme = unit.programme
    shared = service.shared_measures(unit)
    # Those who work with the unit see every count; an observer reads from outside, with
    # the small-number rule, as on the programme's overview.
    outside = not can(user, "testlog.data", unit_module)
    charts = [measure_chart(m, log.points.get(m["key"], []), log.cycles, public=outside)
              for m in [*shared, *log.measures]]
    return render_template(
        "testlog/measures.html", unit=unit, unit_module=unit_module, log=log,
        charts=charts, shared_keys={m["key"] for m in shared},
        reach=reach_summary(log.reach, public=outside), outside=outside,
        editable=can(user, "module.edit", unit_module),
        step_form=EmptyForm(formdata=None), errors=errors or [], typed=typed or {},
        anchor_for=anchor_for, kinds=checks.KIND_LABELS, better=checks.BETTER_LABELS,
        stages=checks.STAGE_LABELS, reach_fields={
            f"{stage}_{group}": f"{checks.STAGE_LABELS[stage]} – {checks.GROUP_LABELS[group]}"
            for stage in checks.REACH_STAGES for group in checks.REACH_GROUPS},
        period=service.programme_period(programme)), status


def _form_ok() -> bool:
    form = EmptyForm()
    return form.validate()


@bp.post("/maalinger")
@guard("module.save", load=load_test_log)
def add_measure(unit_module: UnitModule):
    if not _form_ok():
        abort(400)
    locked = _locked(unit_module)
    if locked:
        return locked
    raw = {k: request.form.get(k, "") for k in ("name", "kind", "better", "goal", "baseline")}
    measure, problems = checks.check_measure(raw)
    if problems:
        return _measures_page(unit_module, status=422, errors=problems, typed=raw,
                              anchor_for="new-measure")
    log = service.test_log(unit_module.unit)
    user = current_user._get_current_object()
    return _saved(unit_module, lambda: service.add_measure(
        log, measure, actor=user, base_version=_version()),
        _("The measure “%(name)s” is added.", name=measure["name"]))


def _measure_or_404(log, key: str) -> dict:
    shared = service.shared_measures(log.unit_module.unit)
    measure = log.measure(key) or next((m for m in shared if m["key"] == key), None)
    if measure is None:
        abort(404)
    return measure


@bp.post("/maalinger/<key>/punkter")
@guard("module.save", load=load_test_log)
def add_point(unit_module: UnitModule):
    if not _form_ok():
        abort(400)
    key = request.view_args["key"]
    log = service.test_log(unit_module.unit)
    measure = _measure_or_404(log, key)
    locked = _locked(unit_module)
    if locked:
        return locked
    raw = {k: request.form.get(k, "") for k in ("date", "value", "numerator", "denominator")}
    period = service.programme_period(unit_module.unit.programme)
    point, problems = checks.check_point(measure, raw, period)
    if problems:
        return _measures_page(unit_module, status=422, errors=problems, typed=raw,
                              anchor_for=f"point-{key}")
    user = current_user._get_current_object()
    return _saved(unit_module, lambda: service.add_points(
        log, measure, [point], actor=user, base_version=_version()),
                  _("The measurement is saved."), anchor=f"measure-{key}")


@bp.post("/maalinger/<key>/import")
@guard("module.save", load=load_test_log)
def import_points(unit_module: UnitModule):
    if not _form_ok():
        abort(400)
    key = request.view_args["key"]
    log = service.test_log(unit_module.unit)
    measure = _measure_or_404(log, key)
    locked = _locked(unit_module)
    if locked:
        return locked
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _measures_page(unit_module, status=422, errors=[checks.Problem(
            None, "file", _("Choose a CSV file to import."))], anchor_for=f"import-{key}")
    data = upload.stream.read(MAX_UPLOAD + 1)
    period = service.programme_period(unit_module.unit.programme)
    try:
        points = checks.import_points(data, measure, period)
    except checks.ImportRefused as refused:
        return _measures_page(unit_module, status=422, anchor_for=f"import-{key}", errors=[
            checks.Problem(None, "file", refused.message), *refused.problems])
    user = current_user._get_current_object()
    return _saved(unit_module, lambda: service.add_points(
        log, measure, points, actor=user, base_version=_version()),
                  _("%(num)d measurements are imported.", num=len(points)),
                  anchor=f"measure-{key}")


@bp.get("/maalinger/<key>/skabelon.csv")
@guard("module.view", load=load_test_log)
def template_csv(unit_module: UnitModule):
    log = service.test_log(unit_module.unit)
    measure = _measure_or_404(log, request.view_args["key"])
    period = service.programme_period(unit_module.unit.programme)
    return _csv(checks.csv_template(measure, period), f"skabelon-{measure['key']}.csv")


@bp.post("/maalinger/<key>/punkter/<on>/slet")
@guard("module.save", load=load_test_log)
def delete_point(unit_module: UnitModule):
    if not _form_ok():
        abort(400)
    key, on = request.view_args["key"], request.view_args["on"]
    log = service.test_log(unit_module.unit)
    _measure_or_404(log, key)
    locked = _locked(unit_module)
    if locked:
        return locked
    if not any(p["date"] == on for p in log.points.get(key, [])):
        abort(404)
    user = current_user._get_current_object()
    return _saved(unit_module, lambda: service.delete_point(
        log, key, on, actor=user, base_version=_version()),
        _("The measurement is deleted."), anchor=f"measure-{key}")


@bp.post("/maalinger/<key>/slet")
@guard("module.save", load=load_test_log)
def delete_measure(unit_module: UnitModule):
    if not _form_ok():
        abort(400)
    key = request.view_args["key"]
    log = service.test_log(unit_module.unit)
    measure = log.measure(key)
    if measure is None or measure.get("shared"):
        abort(404)
    locked = _locked(unit_module)
    if locked:
        return locked
    if request.form.get("confirm") != "yes":
        flash(_("Nothing was deleted: tick the box to confirm that the measure and all its "
                "measurements are to be deleted."), "error")
        return redirect(_measures_url(unit_module, f"measure-{key}"))
    user = current_user._get_current_object()
    return _saved(unit_module, lambda: service.delete_measure(
        log, key, actor=user, base_version=_version()),
        _("The measure “%(name)s” and its measurements are deleted.", name=measure["name"]))


@bp.get("/maalinger.csv")
@guard("testlog.data", load=load_test_log)
def points_csv(unit_module: UnitModule):
    log = service.test_log(unit_module.unit)
    shared = service.shared_measures(unit_module.unit)
    return _csv(checks.export_points_csv([*shared, *log.measures], log.points),
                f"maalinger-{unit_module.unit_id}.csv")


# --- equity reach ------------------------------------------------------------------------------


@bp.post("/raekkevidde")
@guard("module.save", load=load_test_log)
def add_reach(unit_module: UnitModule):
    if not _form_ok():
        abort(400)
    locked = _locked(unit_module)
    if locked:
        return locked
    raw = {k: request.form.get(k, "") for k in ("date", *checks.REACH_FIELDS)}
    period = service.programme_period(unit_module.unit.programme)
    row, problems = checks.check_reach(raw, period)
    if problems:
        return _measures_page(unit_module, status=422, errors=problems, typed=raw,
                              anchor_for="reach")
    log = service.test_log(unit_module.unit)
    user = current_user._get_current_object()
    return _saved(unit_module, lambda: service.add_reach(
        log, [row], actor=user, base_version=_version()),
        _("The reach is saved."), anchor="reach")


@bp.post("/raekkevidde/import")
@guard("module.save", load=load_test_log)
def import_reach(unit_module: UnitModule):
    if not _form_ok():
        abort(400)
    locked = _locked(unit_module)
    if locked:
        return locked
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _measures_page(unit_module, status=422, errors=[checks.Problem(
            None, "file", _("Choose a CSV file to import."))], anchor_for="reach-import")
    period = service.programme_period(unit_module.unit.programme)
    try:
        rows = checks.import_reach(upload.stream.read(MAX_UPLOAD + 1), period)
    except checks.ImportRefused as refused:
        return _measures_page(unit_module, status=422, anchor_for="reach-import", errors=[
            checks.Problem(None, "file", refused.message), *refused.problems])
    log = service.test_log(unit_module.unit)
    user = current_user._get_current_object()
    return _saved(unit_module, lambda: service.add_reach(
        log, rows, actor=user, base_version=_version()),
        _("%(num)d rows of reach are imported.", num=len(rows)), anchor="reach")


@bp.get("/raekkevidde/skabelon.csv")
@guard("module.view", load=load_test_log)
def reach_template(unit_module: UnitModule):
    period = service.programme_period(unit_module.unit.programme)
    return _csv(checks.csv_template(None, period), "skabelon-raekkevidde.csv")


def _csv(text: str, filename: str) -> Response:
    """A CSV download: UTF-8 with a byte-order mark, which Danish Excel needs to read æøå."""
    return Response("\ufeff" + text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
