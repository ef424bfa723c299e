"""One generic form builder: a module definition becomes a WTForms form at run time.

One small builder per question kind (:data:`BUILDERS`); :func:`build_module_form` puts the
fields together with ``type()``. The same form checks formats on every save (lengths,
numbers, dates, choices, CPR-like text) — required answers are checked only on submit, by
:func:`missing_required`, so a half-written draft can always be saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import NumberRange, Optional, ValidationError

from laks.definitions.schema import Column, ModuleSpec, Question
from laks.enums import DEFAULT_MAX_LENGTH, QuestionKind
from laks.privacy import looks_like_cpr

#: WTForms has no Danish catalogue, so laks words its own messages for choices.
NOT_AN_OPTION = _l("Choose one of the options shown.")

_THOUSANDS = re.compile(r"-?\d{1,3}(\.\d{3})+")

CPR_MESSAGE = _l(
    "This looks like a CPR number. laks holds no personal data about citizens – describe the "
    "group instead, without numbers that can identify anyone."
)


def no_cpr(form, field) -> None:
    """Refuse text that looks like a CPR number (nothing else in the form is lost)."""
    if isinstance(field.data, str) and looks_like_cpr(field.data):
        raise ValidationError(CPR_MESSAGE)


class TextLength:
    """Length check whose message says how long the text is now (it is never truncated)."""

    def __init__(self, limit: int):
        self.limit = limit

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and len(field.data) > self.limit:
            raise ValidationError(_l(
                "The answer is too long: at most %(max)d characters, it has %(length)d. "
                "Shorten it – nothing has been cut off.",
                max=self.limit, length=len(field.data)))


class LocalNumberField(DecimalField):
    """A number typed the Danish way ("12,5" or "1.200") or the English way ("12.5").
    A text input (not type=number, which refuses a decimal comma in some browsers)."""

    widget = widgets.TextInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        raw = valuelist[0].strip().replace(" ", "").replace(" ", "")
        if "," in raw:  # Danish: thousands with ".", decimals with ","
            raw = raw.replace(".", "").replace(",", ".")
        elif _THOUSANDS.fullmatch(raw):  # "1.200" is twelve hundred in a Danish form
            raw = raw.replace(".", "")
        try:
            self.data = Decimal(raw)
        except InvalidOperation:
            self.data = None
            raise ValueError(_l("Write a number, e.g. 12 or 12,5.")) from None
        if not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Write a number, e.g. 12 or 12,5."))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format(self.data.normalize(), "f").replace(".", ",")


class OptionalRadioField(RadioField):
    """A radio group where choosing nothing is allowed (required is checked on submit)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "RadioField"  # rendered like any radio group

    def pre_validate(self, form):
        if self.data in (None, "", "None"):
            self.data = None
            return
        if self.data not in {c.value for c in self.choices}:
            raise ValidationError(NOT_AN_OPTION)


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        allowed = {c.value for c in self.choices}
        if any(value not in allowed for value in self.data or ()):
            raise ValidationError(NOT_AN_OPTION)


class LocalDateField(DateField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Write a real date, e.g. 2026-03-02.")) from None


def _number_range(lo, hi):
    if lo is None and hi is None:
        return []
    if lo is not None and hi is not None:
        message = _l("Write a number from %(min)s to %(max)s.", min=lo, max=hi)
    elif lo is not None:
        message = _l("Write a number of at least %(min)s.", min=lo)
    else:
        message = _l("Write a number of at most %(max)s.", max=hi)
    return [NumberRange(min=lo, max=hi, message=message)]


def _help(question: Question) -> str | None:
    return str(question.help) if question.help else None


def _text_field(q: Question, cls, **render_kw):
    return cls(str(q.label), validators=[Optional(), TextLength(q.limit), no_cpr],
               description=_help(q), filters=[_strip], render_kw=render_kw or None)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _column_field(column: Column):
    label = str(column.label)
    if column.kind == QuestionKind.NUMBER:
        return LocalNumberField(label, places=None,
                                validators=[Optional(), *_number_range(column.min, column.max)])
    if column.kind == QuestionKind.DATE:
        return LocalDateField(label, validators=[Optional()])
    limit = column.max_length or DEFAULT_MAX_LENGTH[QuestionKind.TEXT]
    return StringField(label, validators=[Optional(), TextLength(limit), no_cpr],
                       filters=[_strip])


def _rows_field(q: Question):
    row_form = type(f"Row_{q.key}", (Form,), {c.key: _column_field(c) for c in q.columns})
    return FieldList(FormField(row_form), str(q.label), min_entries=1,
                     max_entries=q.max_rows, description=_help(q))


BUILDERS: dict[QuestionKind, Callable[[Question], object]] = {
    QuestionKind.MARKDOWN: lambda q: _text_field(q, TextAreaField, rows=8),
    QuestionKind.TEXT: lambda q: _text_field(q, StringField),
    QuestionKind.NUMBER: lambda q: LocalNumberField(
        str(q.label), places=None, description=_help(q),
        validators=[Optional(), *_number_range(q.min, q.max)]),
    QuestionKind.DATE: lambda q: LocalDateField(str(q.label), description=_help(q),
                                                validators=[Optional()]),
    QuestionKind.CHOICE: lambda q: OptionalRadioField(
        str(q.label), description=_help(q), validate_choice=True,
        choices=[SelectChoice(o.value, str(o.label)) for o in q.options]),
    QuestionKind.MULTI: lambda q: MultiCheckboxField(
        str(q.label), description=_help(q),
        choices=[SelectChoice(o.value, str(o.label)) for o in q.options]),
    QuestionKind.ROWS: _rows_field,
}


class ModuleFormBase(FlaskForm):
    #: The version of the answers this form was filled from (optimistic locking).
    version = HiddenField()


def build_module_form(spec: ModuleSpec) -> type[ModuleFormBase]:
    """A form class for ``spec``: one field per question, named by the question's key."""
    fields = {q.key: BUILDERS[q.kind](q) for q in spec.questions}
    return type(f"ModuleForm_{spec.key}", (ModuleFormBase,), fields)


# --- between stored answers and form data --------------------------------------------------


def _to_json_number(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _row_to_json(question: Question, row: dict) -> dict | None:
    out = {}
    for column in question.columns:
        value = row.get(column.key)
        if column.kind == QuestionKind.NUMBER:
            value = _to_json_number(value)
        elif column.kind == QuestionKind.DATE:
            value = value.isoformat() if value else None
        else:
            value = value or None
        out[column.key] = value
    return out if any(v not in (None, "") for v in out.values()) else None


def answers_from_form(spec: ModuleSpec, form: ModuleFormBase) -> dict:
    """The answers as stored (JSON): empty answers are None, empty rows are dropped."""
    answers = {}
    for q in spec.questions:
        value = form[q.key].data
        if q.kind == QuestionKind.NUMBER:
            value = _to_json_number(value)
        elif q.kind == QuestionKind.DATE:
            value = value.isoformat() if value else None
        elif q.kind == QuestionKind.MULTI:
            value = list(value or [])
        elif q.kind == QuestionKind.ROWS:
            value = [r for r in (_row_to_json(q, row) for row in value) if r is not None]
        else:
            value = value or None
        answers[q.key] = value
    return answers


def _parse_date(value):
    if isinstance(value, date) or not value:
        return value or None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def form_data(spec: ModuleSpec, answers: dict) -> dict:
    """Stored answers turned into the Python values the form fields expect."""
    data = {}
    for q in spec.questions:
        value = answers.get(q.key)
        if q.kind == QuestionKind.NUMBER and value is not None:
            value = Decimal(str(value))
        elif q.kind == QuestionKind.DATE:
            value = _parse_date(value)
        elif q.kind == QuestionKind.ROWS:
            value = [
                {c.key: (Decimal(str(r[c.key])) if c.kind == QuestionKind.NUMBER
                         and r.get(c.key) is not None else
                         _parse_date(r.get(c.key)) if c.kind == QuestionKind.DATE
                         else r.get(c.key))
                 for c in q.columns}
                for r in (value or [])
            ] or [{}]
        elif q.kind == QuestionKind.MULTI:
            value = list(value or [])
        data[q.key] = value
    return data
