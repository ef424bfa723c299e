"""One generic form builder: a module definition becomes a WTForms form at run time.

One small builder per question kind (:data:`BUILDERS`); :func:`build_module_form` puts the
fields together with ``type()``. The same form checks formats on every save (lengths,
numbers, dates, choices, CPR-like text) — required answers are checked only on submit, by
:func:`missing_required`, so a half-written draft can always be saved.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from flask import has_request_context
from flask_babel import get_locale
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
from wtforms.utils import unset_value
from wtforms.validators import NumberRange, Optional, StopValidation, ValidationError

from laks.definitions.answers import missing_required
from laks.definitions.schema import Column, ModuleSpec, Question
from laks.enums import DEFAULT_MAX_LENGTH, QuestionKind
from laks.numbers import NUMBER_MAX_LENGTH, parse_number
from laks.privacy import CONTACT_DETAILS_MESSAGES, contact_details, looks_like_cpr

#: WTForms has no Danish catalogue, so laks words its own messages for choices.
NOT_AN_OPTION = _l("Choose one of the options shown.")

CPR_MESSAGE = _l(
    "This looks like a CPR number. laks holds no personal data about citizens – describe the "
    "group instead, without numbers that can identify anyone. If it is another number, say "
    "what it is just before it, e.g. “P-nr. 1012345678” or “kontonr. 1234567890”, and write "
    "dates with the month in words, e.g. “1. januar 1990”."
)
NUL_MESSAGE = _l("The text contains an invisible control character (NUL) that cannot be "
                 "stored. Delete it, or write the text again, and save.")
NOT_TEXT = _l("A file cannot be sent here. Write the answer as text.")
SENT_TWICE = _l("This answer was sent more than once. Write it in one place only and save "
                "again.")
def plain_text(form, field) -> None:
    """Refuse what cannot be stored as text, before any other check: a file sent in a text
    field, a field sent twice, a NUL character. (PostgreSQL refuses NUL in text and JSON.)"""
    raw = [v for v in (field.raw_data or ()) if v is not None]
    if len(raw) > 1:
        raise StopValidation(SENT_TWICE)
    if raw and not isinstance(raw[0], str) or (
            field.data is not None and not isinstance(field.data, str)):
        field.data = None  # never shown back or stored
        field.raw_data = []
        raise StopValidation(NOT_TEXT)
    if isinstance(field.data, str) and "\x00" in field.data:
        raise StopValidation(NUL_MESSAGE)


def no_cpr(form, field) -> None:
    """Refuse text that looks like a CPR number (nothing else in the form is lost)."""
    if isinstance(field.data, str) and looks_like_cpr(field.data):
        raise ValidationError(CPR_MESSAGE)


def role_not_person(form, field) -> None:
    """Refuse an e-mail address or a phone number where a contact is named by role."""
    found = contact_details(field.data) if isinstance(field.data, str) else None
    if found:
        raise ValidationError(CONTACT_DETAILS_MESSAGES[found])


def _one_value(valuelist) -> str:
    """The one text sent for a field; ValueError for a field sent twice or a file."""
    if len(valuelist) > 1:
        raise ValueError(SENT_TWICE)
    if not isinstance(valuelist[0], str):
        raise ValueError(NOT_TEXT)
    return valuelist[0]


class OneMessage:
    """A field whose value could not be read gets that one message, not a second one from
    a range check on the missing value."""

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        super().pre_validate(form)


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


class LocalNumberField(OneMessage, DecimalField):
    """A number typed the Danish way ("12,5", "1.200", "1 200") or the English way ("12.5").
    A text input (not type=number, which refuses a decimal comma in some browsers)."""

    widget = widgets.TextInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        value = _one_value(valuelist)
        if value.strip():
            self.data = parse_number(value)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0] if isinstance(self.raw_data[0], str) else ""
        if self.data is None:
            return ""
        return format(self.data.normalize(), "f").replace(".", ",")


class OptionalRadioField(OneMessage, RadioField):
    """A radio group where choosing nothing is allowed (required is checked on submit)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "RadioField"  # rendered like any radio group

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = _one_value(valuelist)

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        if self.data in (None, "", "None"):
            self.data = None
            return
        if self.data not in {c.value for c in self.choices}:
            raise ValidationError(NOT_AN_OPTION)


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def process_formdata(self, valuelist):
        # A box ticked twice is one choice; a file is no choice at all.
        self.data = list(dict.fromkeys(v if isinstance(v, str) else "" for v in valuelist))

    def pre_validate(self, form):
        allowed = {c.value for c in self.choices}
        if any(value not in allowed for value in self.data or ()):
            raise ValidationError(NOT_AN_OPTION)


class LocalDateField(OneMessage, DateField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        value = _one_value(valuelist).strip()
        if not value:
            self.data = None
            return
        if len(value) > NUMBER_MAX_LENGTH:
            raise ValueError(_l("Write a real date, e.g. 2026-03-02."))
        try:
            super().process_formdata([value])
        except ValueError:
            raise ValueError(_l("Write a real date, e.g. 2026-03-02.")) from None

    def _value(self):
        if self.raw_data and not isinstance(self.raw_data[0], str):
            return ""
        return super()._value()


#: A row index as the page sends it: a plain whole number, no leading zeros, not huge.
_ROW_INDEX = re.compile(r"0|[1-9][0-9]{0,5}")


class RowsField(FieldList):
    """Repeating rows that are never cut: more rows than the question allows, or rows whose
    numbering cannot be read, are refused as a whole with a message at the field (WTForms'
    FieldList would keep the first ``max_entries`` rows without a word)."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.rows_error = None
        self._unreadable = False
        limit, self.max_entries = self.max_entries, None  # keep every row sent, to show it
        try:
            super().process(formdata, data, extra_filters)
        finally:
            self.max_entries = limit
        if self._unreadable:
            self.rows_error = str(_l("Some rows were sent in a form that cannot be read, so "
                                     "nothing is saved. Reload the page and try again."))
        elif formdata and limit and len(self.entries) > limit:
            self.rows_error = str(_l(
                "At most %(max)d rows – %(num)d were sent. Nothing is saved: remove or "
                "combine rows and save again.", max=limit, num=len(self.entries)))

    def _extract_indices(self, prefix, formdata):
        start = prefix + self._separator
        for key in formdata:
            if key.startswith(start):
                index = key[len(start):].split(self._field_separator, 1)[0]
                if _ROW_INDEX.fullmatch(index):
                    yield int(index)
                else:
                    self._unreadable = True

    def validate(self, form, extra_validators=()):
        if self.rows_error:
            self.errors = [self.rows_error]  # the rows are not checked one by one
            return False
        return super().validate(form, extra_validators)


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
    checks = [plain_text, Optional(), TextLength(q.limit), no_cpr]
    if q.role_only:
        checks.append(role_not_person)
    return cls(str(q.label), validators=checks, description=_help(q), filters=[_strip],
               render_kw=render_kw or None)


def _strip(value):
    """Trim the text, and store line breaks as "\n" whatever the browser sent ("\r\n")."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _column_field(column: Column):
    label = str(column.label)
    if column.kind == QuestionKind.NUMBER:
        return LocalNumberField(label, places=None,
                                validators=[Optional(), *_number_range(column.min, column.max)])
    if column.kind == QuestionKind.DATE:
        return LocalDateField(label, validators=[Optional()])
    if column.kind == QuestionKind.CHOICE:
        return OptionalRadioField(label, validate_choice=True, choices=[
            SelectChoice(o.value, str(o.label)) for o in column.options])
    limit = column.max_length or DEFAULT_MAX_LENGTH[QuestionKind.TEXT]
    return StringField(label, validators=[plain_text, Optional(), TextLength(limit), no_cpr],
                       filters=[_strip])


def rows_hint(q: Question) -> str:
    """The hint of a rows question: its help text and the most rows it takes."""
    limit = str(_l("At most %(max)d rows.", max=q.max_rows))
    return f"{_help(q)} {limit}" if q.help else limit


def build_row_form(q: Question) -> type[ModuleFormBase]:
    """A form for one row of the rows question ``q`` on a page of its own (a PDSA cycle):
    the row's columns, built as in the module form, with the module's version."""
    return type(f"RowForm_{q.key}", (ModuleFormBase,),
                {c.key: _column_field(c) for c in q.columns})


def row_from_form(q: Question, form) -> dict | None:
    """The row as stored (JSON), or None when every cell is empty."""
    return _row_to_json(q, {c.key: form[c.key].data for c in q.columns})


def row_form_data(q: Question, row: dict | None) -> dict:
    """A stored row as the row form's data."""
    return _row_form_data(q, row or {})


def _row_form_data(q: Question, row: dict) -> dict:
    return {c.key: (Decimal(str(row[c.key])) if c.kind == QuestionKind.NUMBER
                    and row.get(c.key) is not None else
                    _parse_date(row.get(c.key)) if c.kind == QuestionKind.DATE
                    else row.get(c.key))
            for c in q.columns}


def _rows_field(q: Question):
    row_form = type(f"Row_{q.key}", (Form,), {c.key: _column_field(c) for c in q.columns})
    return RowsField(FormField(row_form), str(q.label), min_entries=1,
                     max_entries=q.max_rows, description=rows_hint(q))


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


#: Form classes kept per process: one per definition content and language (labels, help
#: texts and options are put into the fields in the reader's language).
FORM_CACHE_SIZE = 64
_form_classes: OrderedDict[tuple, type[ModuleFormBase]] = OrderedDict()
_form_classes_lock = threading.Lock()


def _language() -> str:
    if not has_request_context():
        return ""
    locale = get_locale()
    return str(locale) if locale else ""


def build_module_form(spec: ModuleSpec) -> type[ModuleFormBase]:
    """A form class for ``spec``: one field per question, named by the question's key.

    Built once per definition (by its content, so the same questions read in another
    request find the same class) and language, then reused: a class holds no request's
    data, each request makes its own form from it. The last :data:`FORM_CACHE_SIZE` are
    kept."""
    key = (spec, _language())
    with _form_classes_lock:
        found = _form_classes.get(key)
        if found is not None:
            _form_classes.move_to_end(key)
            return found
    fields = {q.key: BUILDERS[q.kind](q) for q in spec.questions}
    built = type(f"ModuleForm_{spec.key}", (ModuleFormBase,), fields)
    with _form_classes_lock:
        _form_classes[key] = built
        while len(_form_classes) > FORM_CACHE_SIZE:
            _form_classes.popitem(last=False)
    return built


# --- between stored answers and form data --------------------------------------------------


def json_number(value: Decimal | None):
    """A parsed number as stored in JSON: a whole number as int, any other as float."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _row_to_json(question: Question, row: dict) -> dict | None:
    out = {}
    for column in question.columns:
        value = row.get(column.key)
        if column.kind == QuestionKind.NUMBER:
            value = json_number(value)
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
            value = json_number(value)
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
            value = [_row_form_data(q, r) for r in (value or [])] or [{}]
        elif q.kind == QuestionKind.MULTI:
            value = list(value or [])
        data[q.key] = value
    return data


def mark_missing(spec: ModuleSpec, form: ModuleFormBase) -> list[Question]:
    """Put "answer this question" at each required question the form leaves empty, so that
    a submit with format errors reports the missing answers in the same round. A question
    with a format error is answered (wrongly) and keeps its one message."""
    answers = answers_from_form(spec, form)
    missing = [q for q in missing_required(spec, answers) if not form[q.key].errors]
    for question in missing:
        form[question.key].errors = [str(_l("Answer this question before you submit."))]
    return missing
