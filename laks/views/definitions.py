"""The network admin's pages for the module definitions: read every question, change a
question's wording, add a question – without touching code."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from laks.definitions import DefinitionError
from laks.enums import MODULE_KEYS, QuestionKind
from laks.extensions import db
from laks.forms import QuestionAddForm, QuestionEditForm
from laks.services import definitions as service
from laks.views import guard

bp = Blueprint("definitions", __name__, url_prefix="/admin/moduler")


def load_spec(module_key: str):
    if module_key not in MODULE_KEYS:
        abort(404)
    try:
        return service.get_spec(module_key)
    except LookupError:
        abort(404)


def load_question(module_key: str, question_key: str):
    spec = load_spec(module_key)
    question = spec.question(question_key)
    if question is None:
        abort(404)
    return spec, question


@bp.get("/")
@guard("definition.edit")
def index():
    return render_template("definitions/index.html", specs=service.all_specs())


@bp.get("/<module_key>")
@guard("definition.edit", load=load_spec)
def show(spec):
    return render_template("definitions/show.html", spec=spec)


@bp.route("/<module_key>/spoergsmaal/<question_key>", methods=["GET", "POST"])
@guard("definition.edit", load=load_question)
def edit_question(found):
    spec, question = found
    form = QuestionEditForm()
    if not form.is_submitted():
        form.label_da.data, form.label_en.data = question.label.da, question.label.en
        if question.help:
            form.help_da.data, form.help_en.data = question.help.da, question.help.en
        form.required.data = question.required
        form.min_value.data = None if question.min is None else Decimal(str(question.min))
        form.max_value.data = None if question.max is None else Decimal(str(question.max))
    elif form.validate():
        try:
            service.update_question(
                actor=current_user._get_current_object(), module_key=spec.key,
                question_key=question.key, label_da=form.label_da.data,
                label_en=form.label_en.data or "", help_da=form.help_da.data or "",
                help_en=form.help_en.data or "", required=form.required.data,
                number_range=form.number_range()
                if question.kind == QuestionKind.NUMBER else None)
        except DefinitionError as exc:
            db.session.rollback()
            form.label_da.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The question is changed. Answers already given are kept."), "success")
            return redirect(url_for("definitions.show", module_key=spec.key))
    status = 422 if form.errors else 200
    return render_template("definitions/question.html", spec=spec, question=question,
                           form=form), status


@bp.route("/<module_key>/nyt-spoergsmaal", methods=["GET", "POST"])
@guard("definition.edit", load=load_spec)
def add_question(spec):
    form = QuestionAddForm(existing_keys=spec.questions_by_key)
    form.section.choices = [SelectChoice(s.key, str(s.title)) for s in spec.sections]
    if form.validate_on_submit():
        try:
            service.add_question(actor=current_user._get_current_object(),
                                 module_key=spec.key, section_key=form.section.data,
                                 question=form.question())
        except DefinitionError as exc:
            db.session.rollback()
            form.key.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The question is added to the module."), "success")
            return redirect(url_for("definitions.show", module_key=spec.key))
    status = 422 if form.errors else 200
    return render_template("definitions/add.html", spec=spec, form=form), status
