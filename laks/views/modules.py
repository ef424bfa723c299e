"""A unit's module: read it, fill it in (with autosave), submit it, review it, discuss it,
and compare its revisions. Every state change goes through laks.workflow."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from laks import queries, workflow
from laks.access import can
from laks.definitions.forms import (
    ModuleFormBase,
    answers_from_form,
    build_module_form,
    form_data,
    mark_missing,
)
from laks.enums import MODULE_KEYS
from laks.extensions import db
from laks.forms import CommentForm, EmptyForm, ReopenForm, ReviewForm
from laks.i18n import format_moment
from laks.memo import content_digest
from laks.models import ModuleRevision, Programme, Unit, UnitModule
from laks.revisions import changes_since_review, diff_answers, revision_marks
from laks.services import modules as service
from laks.services.definitions import get_spec, keep_in_force, module_spec, text_in_force
from laks.views import fragments, guard

bp = Blueprint("modules", __name__, url_prefix="/enheder/<id:unit_id>/moduler")


#: The unit bound as "unit" with its programme, due dates and municipality, and the content
#: of its programme's questions for the module bound as "key" (built once: building it
#: costs more than running it).
_UNIT_WITH_QUESTIONS = (
    select(Unit, text_in_force(Unit.programme_id, bindparam("key")))
    .where(Unit.id == bindparam("unit"))
    .options(joinedload(Unit.programme).joinedload(Programme.module_dues),
             joinedload(Unit.municipality)))


def load_unit_module(unit_id: int, module_key: str) -> UnitModule:
    """The unit's module, read as a module page needs it: the unit with its programme (due
    dates, running), municipality (the unit's title) and the module's questions in force in
    one query; the module with its answers and the unit's other modules (its steps) in
    another."""
    if module_key not in MODULE_KEYS:
        abort(404)
    found = db.session.execute(_UNIT_WITH_QUESTIONS,
                               {"unit": unit_id, "key": module_key}).unique().first()
    if found is None:
        abort(404)
    unit, questions = found
    keep_in_force(unit.programme_id, module_key, questions)
    unit_module, g.laks_unit_modules = service.unit_modules_with(unit, module_key)
    return unit_module


def _steps(unit_module: UnitModule):
    """The unit's five steps, from the modules loaded with this one (laks_unit_modules) –
    this one as it is now, saved or not."""
    unit = unit_module.unit
    saved = g.get("laks_unit_modules")
    if saved is None or any(key[0] != unit.id for key in saved):
        return queries.module_steps(unit)
    return queries.steps_for(unit, {**saved, (unit.id, unit_module.module_key): unit_module})


def _url(unit_module: UnitModule, endpoint: str = "modules.show", **kwargs) -> str:
    return url_for(endpoint, unit_id=unit_module.unit_id, module_key=unit_module.module_key,
                   **kwargs)


def _answering_spec(unit_module: UnitModule):
    """The questions a save answers: the programme's current ones that are still asked."""
    return get_spec(unit_module.module_key, unit_module.unit.programme_id).active(
        unit_module.answers)


def _base_version(form) -> int:
    """The version the form was loaded from; a tampered value can only cause a conflict."""
    try:
        return int(form.version.data or 0)
    except (TypeError, ValueError):
        return -1


#: The newest steps of the timeline and messages of the discussion a module page shows; the
#: whole history is one link away (``?historik=alle``), so a long one costs the page no more
#: than a short one.
STEPS_SHOWN = 5
COMMENTS_SHOWN = 5


def _page(unit_module: UnitModule, *, form=None, status: int = 200, conflict=None,
          review_form=None, comment_form=None, reopen_form=None):
    """Render the module page; every view that shows the module comes through here."""
    whole = request.args.get("historik") == "alle"
    history = service.module_history(unit_module, steps=None if whole else STEPS_SHOWN,
                                     comments=None if whole else COMMENTS_SHOWN)
    spec = module_spec(unit_module)
    user = current_user._get_current_object()
    editable = can(user, "module.edit", unit_module)
    if editable or conflict:
        spec = spec.active(unit_module.answers)
    questions_html = answers_html = None
    if form is None and editable and not conflict:
        form, questions_html = _stored_form(unit_module, spec)
    elif form is None and editable:
        form = build_module_form(spec)(formdata=None, data=form_data(spec, unit_module.answers),
                                       version=unit_module.version)
    if form is not None and (editable or conflict):
        questions_html = questions_html or _macro("questions")(spec, form, conflict)
    else:
        answers_html = fragments.kept(
            ("module-answers", spec, content_digest(unit_module.answers or {}),
             unit_module.unit_id, unit_module.module_key),
            lambda: _macro("answers")(spec, unit_module.answers or {},
                                      link=_cycle_link(unit_module)))
    actions = workflow.available(unit_module, user)
    allowed = {t.action for t in actions}
    # Only the forms of the buttons this person has are made (each costs a CSRF token and
    # its fields): a form the page does not show is None.
    if review_form is None and allowed & {"approve", "request_changes"}:
        review_form = ReviewForm(formdata=None)
    if reopen_form is None and "reopen" in allowed:
        reopen_form = ReopenForm(formdata=None)
    if comment_form is None and can(user, "module.comment", unit_module):
        comment_form = CommentForm(formdata=None)
    return render_template(
        "module/show.html",
        unit_module=unit_module,
        unit=unit_module.unit,
        spec=spec,
        form=form if editable or conflict else None,
        questions_html=questions_html,
        answers_html=answers_html,
        conflict=conflict,
        actions=actions,
        review_form=review_form,
        comment_form=comment_form,
        reopen_form=reopen_form,
        step_form=EmptyForm(formdata=None) if "withdraw" in allowed else None,
        since_review=changes_since_review(unit_module, spec),
        history=history,
        steps=_steps(unit_module),
    ), status


def _macro(name: str):
    return fragments.macro("module/_macros.html", name)


def _stored_form(unit_module: UnitModule, spec):
    """The form of the stored answers, and its questions rendered. The questions' HTML is
    kept (laks.views.fragments): when it is found, the form made is only the part rendered
    anew each time – the CSRF token and the version – and the questions' fields are not
    made at all."""
    key = ("module-form", spec, content_digest(unit_module.answers or {}),
           unit_module.unit_id, unit_module.module_key)
    made = {}

    def render():
        made["form"] = build_module_form(spec)(
            formdata=None, data=form_data(spec, unit_module.answers),
            version=unit_module.version)
        return _macro("questions")(spec, made["form"])

    html = fragments.kept(key, render)
    form = made.get("form") or ModuleFormBase(formdata=None, version=unit_module.version)
    return form, html


def _cycle_link(unit_module: UnitModule):
    """Module 4's cycles each have a page of their own: the link to cycle n."""
    if unit_module.module_key != "afproevning":
        return None
    return lambda number: url_for("testlog.cycle", unit_id=unit_module.unit_id, number=number)


@bp.get("/<module_key>")
@guard("module.view", load=load_unit_module)
def show(unit_module: UnitModule):
    return _page(unit_module)


def _without_row(formdata, key: str, position: str) -> MultiDict:
    """The form as sent without the row at ``position`` (0, 1, …) of the rows question
    ``key``; the rows after it move up (numbered 0, 1, 2 … again). All else is kept."""
    # Row numbers as the page writes them (a few ASCII digits): anything longer or stranger
    # is left to the rows field, which refuses it with a message.
    pattern = re.compile(rf"{re.escape(key)}-(0|[1-9][0-9]{{0,5}})-(.+)", re.DOTALL)
    sent = sorted({int(m.group(1)) for m in map(pattern.fullmatch, formdata) if m})
    kept_rows = [n for i, n in enumerate(sent) if str(i) != position]
    renumber = {old: new for new, old in enumerate(kept_rows)}
    kept = MultiDict()
    for name, value in formdata.items(multi=True):
        match = pattern.fullmatch(name)
        if match is None:
            kept.add(name, value)
        elif int(match.group(1)) in renumber:
            kept.add(f"{key}-{renumber[int(match.group(1))]}-{match.group(2)}", value)
    return kept


@bp.post("/<module_key>")
@guard("module.save", load=load_unit_module)
def save(unit_module: UnitModule):
    """Save the answers (button "Gem"), or save and submit (button "Indsend").

    A form with errors is shown again with everything typed; a form based on an older
    version is shown beside the newer one to merge; nothing is ever overwritten silently.
    """
    spec = _answering_spec(unit_module)
    form = build_module_form(spec)()
    intent = request.form.get("intent", "save")
    user = current_user._get_current_object()

    if intent.startswith("add_row:"):  # add a row without JavaScript: no save, just show
        field = form._fields.get(intent.split(":", 1)[1])
        if field is not None and hasattr(field, "append_entry") \
                and len(field.entries) < field.max_entries:
            field.append_entry()
        return _page(unit_module, form=form)
    if intent.startswith("delete_row:"):  # delete a row without JavaScript: no save, just show
        key, position = (intent.split(":", 2)[1:] + [""])[:2]
        form = build_module_form(spec)(formdata=_without_row(request.form, key, position))
        return _page(unit_module, form=form)
    if not unit_module.state.editable:
        flash(_("The module is “%(state)s” and cannot be edited now. Your text is still in "
                "the form below, so you can copy it.", state=unit_module.state.label), "error")
        return _page(unit_module, form=form, status=409, conflict={"locked": True})
    if not form.validate():
        if intent == "submit":  # the missing answers too, in the same round
            mark_missing(spec, form)
        return _page(unit_module, form=form, status=422)

    answers = answers_from_form(spec, form)
    try:
        saved = service.save_answers(unit_module, answers, actor=user,
                                     base_version=_base_version(form))
    except service.SaveConflict as conflict:
        db.session.commit()  # keep the user's answers as a "conflict" revision
        return _conflict_page(unit_module, spec, conflict)
    except (StaleDataError, IntegrityError):
        # Another save landed in the same instant: keep this person's answers as a revision
        # all the same, and show the two versions to merge.
        kept = _keep_after_race(unit_module, answers, user, _base_version(form))
        if kept is None:
            flash(_("Someone else saved at the same moment. Your text is still in the form: "
                    "save again to compare the two versions."), "error")
            fresh = service.unit_module_for(unit_module.unit, unit_module.module_key)
            return _page(fresh, form=form, status=409)
        return _conflict_page(kept.unit_module, spec, kept)
    if saved is None and intent != "submit":
        flash(_("Nothing has changed since the last save."), "info")
        return redirect(_url(unit_module))

    if intent == "submit":
        try:
            service.submit(unit_module, spec, actor=user)
        except service.IncompleteModule as incomplete:
            db.session.commit()  # the answers are saved as a draft all the same
            for question in incomplete.missing:
                form[question.key].errors = [_("Answer this question before you submit.")]
            flash(_("Your answers are saved as a draft. %(reason)s", reason=str(incomplete)),
                  "error")
            form.version.data = unit_module.version
            return _page(unit_module, form=form, status=422)
        db.session.commit()
        flash(_("The module is submitted. Your facilitator has been asked to review it."),
              "success")
        return redirect(_url(unit_module))
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(_url(unit_module))


def _keep_after_race(unit_module, answers, user, base_version, attempts: int = 3):
    """After a save lost a race in the database: roll back, and keep the answers as a
    "conflict" revision in a fresh transaction (committed). Returns the SaveConflict, or
    None if the module cannot be found (nothing was ever stored)."""
    db.session.rollback()
    unit_id, module_key = unit_module.unit_id, unit_module.module_key
    for attempt in range(attempts):
        if attempt:
            db.session.rollback()
        fresh = service.unit_module_for(db.session.get(Unit, unit_id), module_key)
        if fresh.id is None:
            return None
        try:
            conflict = service.keep_conflict(fresh, answers, actor=user,
                                             base_version=base_version)
            db.session.commit()
            return conflict
        except IntegrityError:  # a revision number taken in the same instant: try again
            if attempt == attempts - 1:
                raise
    return None


def _comparable(answer):
    """No answer is no answer, whether it was stored as None, "" or []."""
    return None if answer in (None, "", []) else answer


def _conflict_page(unit_module, spec, conflict: service.SaveConflict):
    form = build_module_form(spec)(formdata=None, data=form_data(spec, conflict.mine),
                                   version=unit_module.version)
    flash(_("Someone else saved this module while you were writing. Nothing has been "
            "overwritten: compare the two versions below, merge them in the form and save."),
          "error")
    theirs, mine = conflict.theirs, conflict.mine
    differing = {q.key for q in spec.questions
                 if _comparable(theirs.get(q.key)) != _comparable(mine.get(q.key))}
    return _page(unit_module, form=form, status=409,
                 conflict={"theirs": theirs, "differing": differing,
                           "by": unit_module.updated_by, "at": unit_module.updated_at})


@bp.post("/<module_key>/autosave")
@guard("module.save", load=load_unit_module)
def autosave(unit_module: UnitModule):
    """Save a draft from the page's script; answers JSON, never a page."""
    if not unit_module.state.editable:
        return jsonify(status="locked", message=_("The module cannot be edited now.")), 409
    spec = _answering_spec(unit_module)
    form = build_module_form(spec)()
    if not form.validate():
        return jsonify(status="invalid", message=_("Not saved: some answers need correcting."),
                       errors=sorted(form.errors)), 422
    answers = answers_from_form(spec, form)
    user = current_user._get_current_object()
    try:
        service.save_answers(unit_module, answers, actor=user,
                             base_version=_base_version(form), autosave=True)
    except service.SaveConflict:
        db.session.commit()
        return jsonify(status="conflict", message=_(
            "Someone else has saved this module. Save with the button to compare and "
            "merge – your text is kept.")), 409
    except (StaleDataError, IntegrityError):
        if _keep_after_race(unit_module, answers, user, _base_version(form)) is None:
            return jsonify(status="conflict",
                           message=_("Someone else saved at the same moment.")), 409
        return jsonify(status="conflict", message=_(
            "Someone else has saved this module. Save with the button to compare and "
            "merge – your text is kept.")), 409
    db.session.commit()
    return jsonify(status="saved", version=unit_module.version,
                   saved_at=unit_module.updated_at.isoformat(),
                   message=_("Draft saved %(time)s",
                             time=format_moment(unit_module.updated_at)))


@bp.post("/<module_key>/vurdering")
@guard("module.review", load=load_unit_module)
def review(unit_module: UnitModule):
    form = ReviewForm()
    if not form.validate():
        return _page(unit_module, review_form=form, status=422)
    try:
        service.review(unit_module, form.decision.data,
                       actor=current_user._get_current_object(), comment=form.comment.data)
    except workflow.WorkflowError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(unit_module, review_form=form, status=409)
    db.session.commit()
    flash(_("The module is approved.") if form.decision.data == "approve"
          else _("The unit has been asked for changes."), "success")
    return redirect(_url(unit_module))


@bp.post("/<module_key>/traek-tilbage")
@guard("module.withdraw", load=load_unit_module)
def withdraw(unit_module: UnitModule):
    """Staff take their submission back to draft, before it is reviewed."""
    if not EmptyForm().validate():
        abort(400)
    try:
        service.withdraw(unit_module, actor=current_user._get_current_object())
    except workflow.WorkflowError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(unit_module, status=409)
    db.session.commit()
    flash(_("The submission is withdrawn. The module is a draft again, and you can go on "
            "editing it."), "success")
    return redirect(_url(unit_module))


@bp.post("/<module_key>/genaabn")
@guard("module.review", load=load_unit_module)
def reopen(unit_module: UnitModule):
    """A facilitator (or the admin) reopens an approved module, with a comment."""
    form = ReopenForm()
    if not form.validate():
        return _page(unit_module, reopen_form=form, status=422)
    try:
        service.reopen(unit_module, actor=current_user._get_current_object(),
                       comment=form.comment.data)
    except workflow.WorkflowError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(unit_module, reopen_form=form, status=409)
    db.session.commit()
    flash(_("The module is reopened. The unit has been asked for changes."), "success")
    return redirect(_url(unit_module))


@bp.post("/<module_key>/kommentarer")
@guard("module.comment", load=load_unit_module)
def comment(unit_module: UnitModule):
    form = CommentForm()
    if not form.validate():
        return _page(unit_module, comment_form=form, status=422)
    service.add_comment(unit_module, form.body.data, actor=current_user._get_current_object())
    db.session.commit()
    flash(_("Your comment is added."), "success")
    return redirect(_url(unit_module, _anchor="discussion"))


@bp.get("/<module_key>/revisioner")
@guard("module.view", load=load_unit_module)
def revisions(unit_module: UnitModule):
    spec = get_spec(unit_module.module_key, unit_module.unit.programme_id)
    # Every revision is listed, but only the two compared are read whole: the answers of the
    # others are never loaded.
    revisions = list(db.session.scalars(
        select(ModuleRevision).where(ModuleRevision.unit_module_id == unit_module.id)
        .options(defer(ModuleRevision.answers), selectinload(ModuleRevision.author))
        .order_by(ModuleRevision.id))) if unit_module.id is not None else []
    by_number = {r.number: r for r in revisions}
    newest = revisions[-1].number if revisions else None
    to_no = request.args.get("til", newest, type=int)
    from_no = request.args.get("fra", (to_no - 1) if to_no else None, type=int)
    older, newer = by_number.get(from_no), by_number.get(to_no)
    diff = None
    if older is not None and newer is not None:
        diff = [d for d in diff_answers(spec, older.answers, newer.answers) if d.changed]
    elif request.args.get("fra") or request.args.get("til"):
        flash(_("Choose two revisions that exist."), "error")
    return render_template("module/revisions.html", unit_module=unit_module,
                           unit=unit_module.unit, spec=spec, revisions=revisions,
                           older=older, newer=newer, diff=diff,
                           marks=revision_marks(unit_module))
