"""The network admin's pages for the module questions – without touching code.

Each page exists twice: under ``/admin/moduler`` for the network's questions, the ones a new
programme starts from, and under ``/admin/programmer/<id>/moduler`` for one programme's own,
the ones its units answer. A change reaches only the definitions it was made in. The admin
can change a question's wording, add a question, move it up or down, retire it (kept for the
answers already given) or take it back, and change a choice question's options.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from laks.definitions import DefinitionError, ModuleSpec, Question
from laks.enums import MODULE_KEYS, QuestionKind
from laks.extensions import db
from laks.forms import EmptyForm, OptionsForm, QuestionAddForm, QuestionEditForm
from laks.models import Programme
from laks.services import definitions as service
from laks.services.network import programmes as all_programmes
from laks.views import guard

bp = Blueprint("definitions", __name__)

NETWORK = "/admin/moduler"
PROGRAMME = "/admin/programmer/<id:programme_id>/moduler"


def route(rule: str, **options):
    """Register a view under both prefixes: the network's questions and a programme's."""
    def decorate(view):
        bp.add_url_rule(NETWORK + rule, view_func=view, defaults={"programme_id": None},
                        **options)
        bp.add_url_rule(PROGRAMME + rule, view_func=view, **options)
        return view
    return decorate


@dataclass
class Found:
    """What a page works on: whose questions (a programme, or the network's) and which."""

    programme: Programme | None
    spec: ModuleSpec | None = None
    question: Question | None = None

    @property
    def programme_id(self) -> int | None:
        return self.programme.id if self.programme else None

    def url(self, endpoint: str, **values) -> str:
        return url_for(f"definitions.{endpoint}", programme_id=self.programme_id, **values)


def load_owner(programme_id: int | None = None) -> Found:
    if programme_id is None:
        return Found(None)
    return Found(db.get_or_404(Programme, programme_id))


def load_spec(module_key: str, programme_id: int | None = None) -> Found:
    found = load_owner(programme_id)
    if module_key not in MODULE_KEYS:
        abort(404)
    try:
        found.spec = service.get_spec(module_key, found.programme_id)
    except LookupError:
        abort(404)
    return found


def load_question(module_key: str, question_key: str, programme_id: int | None = None
                  ) -> Found:
    found = load_spec(module_key, programme_id)
    found.question = found.spec.question(question_key)
    if found.question is None:
        abort(404)
    return found


def _actor():
    return current_user._get_current_object()


def _back(found: Found):
    return redirect(found.url("show", module_key=found.spec.key, _anchor=f"q-{found.question.key}")
                    if found.question else found.url("show", module_key=found.spec.key))


@route("/")
@guard("definition.edit", load=load_owner)
def index(found: Found):
    return render_template("definitions/index.html", found=found,
                           specs=service.all_specs(found.programme_id),
                           programmes=all_programmes())


@route("/<module_key>")
@guard("definition.edit", load=load_spec)
def show(found: Found):
    return render_template("definitions/show.html", found=found, spec=found.spec,
                           step_form=EmptyForm(formdata=None))


@route("/<module_key>/spoergsmaal/<question_key>", methods=["GET", "POST"])
@guard("definition.edit", load=load_question)
def edit_question(found: Found):
    spec, question = found.spec, found.question
    form = QuestionEditForm()
    if not form.is_submitted():
        form.label_da.data, form.label_en.data = question.label.da, question.label.en
        if question.help:
            form.help_da.data, form.help_en.data = question.help.da, question.help.en
        form.required.data = question.required
        form.min_value.data = None if question.min is None else Decimal(str(question.min))
        form.max_value.data = None if question.max is None else Decimal(str(question.max))
    elif form.validate() and _stored(lambda: service.update_question(
            actor=_actor(), module_key=spec.key, programme=found.programme,
            question_key=question.key, label_da=form.label_da.data,
            label_en=form.label_en.data or "", help_da=form.help_da.data or "",
            help_en=form.help_en.data or "", required=form.required.data,
            number_range=form.number_range()
            if question.kind == QuestionKind.NUMBER else None),
            form.label_da, _("The question is changed. Answers already given are kept.")):
        return _back(found)
    status = 422 if form.errors else 200
    return render_template("definitions/question.html", found=found, spec=spec,
                           question=question, form=form), status


def _stored(change, error_field, done: str) -> bool:
    """Make ``change`` and commit it, with ``done`` to tell so; a change the definition
    refuses (DefinitionError) stores nothing and is told at ``error_field``."""
    try:
        change()
    except DefinitionError as exc:
        db.session.rollback()
        error_field.errors.append(str(exc))
        return False
    db.session.commit()
    flash(done, "success")
    return True


@route("/<module_key>/nyt-spoergsmaal", methods=["GET", "POST"])
@guard("definition.edit", load=load_spec)
def add_question(found: Found):
    spec = found.spec
    form = QuestionAddForm(existing_keys=spec.questions_by_key)
    form.section.choices = [SelectChoice(s.key, str(s.title)) for s in spec.sections]
    if form.validate_on_submit() and _stored(lambda: service.add_question(
            actor=_actor(), module_key=spec.key, programme=found.programme,
            section_key=form.section.data, question=form.question()),
            form.key, _("The question is added to the module.")):
        return _back(found)
    status = 422 if form.errors else 200
    return render_template("definitions/add.html", found=found, spec=spec, form=form), status


@route("/<module_key>/spoergsmaal/<question_key>/flyt", methods=["POST"])
@guard("definition.edit", load=load_question)
def move_question(found: Found):
    """Move a question one place up or down in its section (a button each, no script)."""
    if not EmptyForm().validate():
        abort(400)
    step = {"op": -1, "ned": 1}.get(request.form.get("retning", ""))
    if step is None:
        abort(400)
    service.move_question(actor=_actor(), module_key=found.spec.key, programme=found.programme,
                          question_key=found.question.key, step=step)
    db.session.commit()
    return _back(found)


@route("/<module_key>/spoergsmaal/<question_key>/udgaaet", methods=["POST"])
@guard("definition.edit", load=load_question)
def retire_question(found: Found):
    """Retire a question, or take a retired one back into use."""
    if not EmptyForm().validate():
        abort(400)
    retired = request.form.get("udgaaet") == "ja"
    service.retire_question(actor=_actor(), module_key=found.spec.key,
                            programme=found.programme, question_key=found.question.key,
                            retired=retired)
    db.session.commit()
    flash(_("The question is no longer asked. Answers already given to it are kept and shown.")
          if retired else _("The question is asked again."), "success")
    return _back(found)


@route("/<module_key>/spoergsmaal/<question_key>/valgmuligheder", methods=["GET", "POST"])
@guard("definition.edit", load=load_question)
def edit_options(found: Found):
    question = found.question
    if question.kind not in (QuestionKind.CHOICE, QuestionKind.MULTI):
        abort(404)
    if request.method == "POST":
        form = OptionsForm()
        if len(form.options.entries) != len(question.options):
            # The page was made before someone else changed the options: start again.
            flash(_("The options were changed by someone else meanwhile. Here they are now."),
                  "error")
            return redirect(found.url("edit_options", module_key=found.spec.key,
                                      question_key=question.key))
        if form.validate():
            changes = [{"value": option.value, "label_da": entry["label_da"] or "",
                        "label_en": entry["label_en"] or "", "retired": entry["retired"]}
                       for option, entry in zip(question.options, form.options.data,
                                                strict=True)]
            new = [{"label_da": form.new_da.data or "", "label_en": form.new_en.data or ""}]
            if _stored(lambda: service.update_options(
                    actor=_actor(), module_key=found.spec.key, programme=found.programme,
                    question_key=question.key, options=changes, new=new),
                    form.new_da, _("The options are saved. Answers already given are kept.")):
                return _back(found)
    else:
        form = OptionsForm(data={"options": [
            {"label_da": o.label.da, "label_en": o.label.en, "retired": o.retired}
            for o in question.options]})
    status = 422 if form.errors else 200
    return render_template("definitions/options.html", found=found, spec=found.spec,
                           question=question, form=form), status
