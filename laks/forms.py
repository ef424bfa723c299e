"""The fixed forms of laks (the module forms are built from definitions elsewhere).

Every form is a FlaskForm, so every form carries a CSRF token; a state-changing button with
no fields uses :class:`EmptyForm`.
"""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from laks.definitions.forms import (
    LocalDateField,
    LocalNumberField,
    TextLength,
    json_number,
    no_cpr,
    plain_text,
)
from laks.enums import (
    IHI_SCALE,
    MODULE_KEYS,
    MODULE_TITLES,
    QUESTION_KIND_LABELS,
    ObserverGroup,
    ProgrammeStatus,
    Role,
)
from laks.services import progress
from laks.services.accounts import MIN_PASSWORD_LENGTH, is_common_password


class EmptyForm(FlaskForm):
    """A POST button with a CSRF token and nothing else (log out, state changes)."""


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[plain_text, DataRequired(_l("Enter your e-mail address.")),
                    Length(max=254, message=_l("At most %(max)d characters."))],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[plain_text, DataRequired(_l("Enter your password.")),
                    Length(max=200, message=_l("At most %(max)d characters."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Log in"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            plain_text,
            DataRequired(_l("Choose a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("The password must have at least %(num)d characters.",
                           num=MIN_PASSWORD_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            plain_text,
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save password"))

    def validate_password(self, field):
        if len(field.data or "") >= MIN_PASSWORD_LENGTH and is_common_password(field.data):
            raise ValidationError(_l("This password is one of the most common ones and easy "
                                     "to guess. Choose another."))


class ReviewForm(FlaskForm):
    """A facilitator's decision on a submitted module; the comment is always required."""

    comment = TextAreaField(
        _l("Comment to the unit"),
        validators=[plain_text,
                    DataRequired(_l("Write a comment to the unit – it is required for this step.")),
                    TextLength(5000), no_cpr],
        render_kw={"rows": 5},
    )
    decision = SelectField(choices=[SelectChoice("approve", _l("Approve")),
                                    SelectChoice("request_changes", _l("Request changes"))])


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        validators=[plain_text, DataRequired(_l("Write a comment before you send it.")),
                    TextLength(5000), no_cpr],
        description=_l("You can use markdown: **bold**, *italic*, lists and links."),
        render_kw={"rows": 4},
    )


class QuestionEditForm(FlaskForm):
    """The admin's change to a question's wording. The key and the kind never change:
    answers are stored by key."""

    label_da = StringField(_l("Question in Danish"),
                           validators=[plain_text,
                                       DataRequired(_l("Write the question in Danish.")),
                                       TextLength(300), no_cpr])
    label_en = StringField(_l("Question in English"),
                           validators=[plain_text, TextLength(300), no_cpr])
    help_da = TextAreaField(_l("Help text in Danish"),
                            validators=[plain_text, TextLength(1000), no_cpr],
                            render_kw={"rows": 3})
    help_en = TextAreaField(_l("Help text in English"),
                            validators=[plain_text, TextLength(1000), no_cpr],
                            render_kw={"rows": 3})
    required = BooleanField(_l("Required before the module can be submitted"))
    min_value = LocalNumberField(
        _l("Smallest number allowed"), places=None, validators=[Optional()],
        description=_l("Only for number questions. Leave empty for no lower limit."))
    max_value = LocalNumberField(
        _l("Largest number allowed"), places=None, validators=[Optional()],
        description=_l("Only for number questions. Leave empty for no upper limit."))

    def validate_max_value(self, field):
        low = self.min_value.data
        if field.data is not None and low is not None and field.data < low:
            raise ValidationError(_l("The largest number must be at least the smallest "
                                     "(%(min)s).", min=self.min_value._value()))

    def number_range(self) -> tuple:
        """(min, max) as stored in a definition: whole numbers as int, None for no limit."""
        return json_number(self.min_value.data), json_number(self.max_value.data)


def _parse_lines(text: str, parts: int) -> list[list[str]]:
    rows = []
    for line in (text or "").splitlines():
        if line.strip():
            cells = [c.strip() for c in line.split("|")]
            rows.append((cells + [""] * parts)[:parts])
    return rows


class QuestionAddForm(QuestionEditForm):
    """A new question. Options and columns are written one per line, separated by |."""

    section = SelectField(_l("Section"))
    key = StringField(
        _l("Key"),
        description=_l("A short, permanent name: lower-case letters, digits and _, e.g. "
                       "partners. It can never be changed."),
        validators=[plain_text, DataRequired(_l("Give the question a key.")),
                    Regexp(r"^[a-z][a-z0-9_]{0,39}$", message=_l(
                        "Use lower-case letters a–z, digits and _, starting with a letter "
                        "(at most 40)."))])
    kind = SelectField(_l("Kind of answer"), choices=[
        SelectChoice(kind.value, label) for kind, label in QUESTION_KIND_LABELS.items()])
    options = TextAreaField(
        _l("Options (for one or several choices)"),
        description=_l("One per line: key | Danish | English, e.g. ja | Ja | Yes"),
        validators=[plain_text, TextLength(5000), no_cpr], render_kw={"rows": 4})
    columns = TextAreaField(
        _l("Columns (for repeating rows)"),
        description=_l("One per line: key | kind (text, number or date) | Danish | English"),
        validators=[plain_text, TextLength(5000), no_cpr], render_kw={"rows": 4})

    def __init__(self, *args, existing_keys=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_keys = set(existing_keys)

    def validate_key(self, field):
        if field.data in self.existing_keys:
            raise ValidationError(_l("The module already has a question with this key."))

    def validate_options(self, field):
        if self.kind.data in ("choice", "multi") and not _parse_lines(field.data, 3):
            raise ValidationError(_l("A choice question needs at least one option."))

    def validate_columns(self, field):
        if self.kind.data == "rows":
            columns = _parse_lines(field.data, 4)
            if not columns:
                raise ValidationError(_l("A rows question needs at least one column."))
            if any(kind not in ("text", "number", "date") for _key, kind, *_ in columns):
                raise ValidationError(_l("A column's kind must be text, number or date."))

    def question(self) -> dict:
        """The new question as definition data."""
        data = {
            "key": self.key.data,
            "kind": self.kind.data,
            "label": {"da": self.label_da.data.strip(), "en": (self.label_en.data or "").strip()},
            "required": bool(self.required.data),
        }
        if (self.help_da.data or "").strip():
            data["help"] = {"da": self.help_da.data.strip(),
                            "en": (self.help_en.data or "").strip()}
        if self.kind.data in ("choice", "multi"):
            data["options"] = [{"value": v, "label": {"da": da or v, "en": en}}
                               for v, da, en in _parse_lines(self.options.data, 3)]
        if self.kind.data == "rows":
            data["columns"] = [{"key": k, "kind": kind, "label": {"da": da or k, "en": en}}
                               for k, kind, da, en in _parse_lines(self.columns.data, 4)]
        if self.kind.data == "number":
            low, high = self.number_range()
            data.update({name: value for name, value in (("min", low), ("max", high))
                         if value is not None})
        return data


class OptionForm(Form):
    """One existing option of a choice question: its texts, and whether it is retired."""

    label_da = StringField(_l("Option in Danish"),
                           validators=[plain_text,
                                       DataRequired(_l("Write the option in Danish.")),
                                       TextLength(200), no_cpr])
    label_en = StringField(_l("Option in English"),
                           validators=[plain_text, TextLength(200), no_cpr])
    retired = BooleanField(_l("No longer offered (answers given with it are kept)"))


class OptionsForm(FlaskForm):
    """The options of a choice question: change their texts, retire one, or add one. The
    options are matched by position with the question's, so their stored values – what the
    answers hold – never pass through the browser."""

    options = FieldList(FormField(OptionForm), min_entries=0, max_entries=200)
    new_da = StringField(_l("New option in Danish"),
                         validators=[plain_text, TextLength(200), no_cpr])
    new_en = StringField(_l("New option in English"),
                         validators=[plain_text, TextLength(200), no_cpr])

    def validate_options(self, field):
        if field.data and all(entry.get("retired") for entry in field.data) \
                and not (self.new_da.data or "").strip():
            raise ValidationError(_l("At least one option must stay in use."))


class ReopenForm(FlaskForm):
    """A facilitator reopens an approved module; the comment to the unit is required."""

    comment = TextAreaField(
        _l("Comment to the unit"),
        validators=[plain_text,
                    DataRequired(_l("Write a comment to the unit – it is required for this step.")),
                    TextLength(5000), no_cpr],
        render_kw={"rows": 4},
    )


# --- the inspiration catalogue (the network admin's editions) -------------------------------

class EditionForm(FlaskForm):
    """A new edition of the catalogue: its title, the programme it tells about (choices
    are set by the view) and how its cases are grouped."""

    title = StringField(
        _l("Title"),
        validators=[plain_text, DataRequired(_l("Give the edition a title.")),
                    TextLength(200), no_cpr],
    )
    programme = SelectField(_l("Programme"), choices=[], validate_choice=True)
    grouping = SelectField(_l("Group the cases"), choices=[], validate_choice=True)

    def __init__(self, *args, **kwargs):
        from laks.enums import CatalogueGrouping

        super().__init__(*args, **kwargs)
        self.grouping.choices = [SelectChoice(g.value, g.label) for g in CatalogueGrouping]


class EditionTextForm(EditionForm):
    """A draft edition's title, grouping, foreword and introduction (markdown); the
    programme is chosen once, when the edition is made."""

    programme = None

    foreword = TextAreaField(
        _l("Foreword"), validators=[plain_text, TextLength(20000), no_cpr],
        description=_l("You can use markdown: **bold**, *italic*, lists and links."),
        render_kw={"rows": 8},
    )
    introduction = TextAreaField(
        _l("Introduction"), validators=[plain_text, TextLength(40000), no_cpr],
        description=_l("You can use markdown: **bold**, *italic*, lists and links."),
        render_kw={"rows": 12},
    )


class WithdrawEditionForm(FlaskForm):
    """Withdrawing a published edition from the public; the reason is required."""

    reason = TextAreaField(
        _l("Why is the edition withdrawn?"),
        validators=[plain_text, DataRequired(_l("Say why the edition is withdrawn.")),
                    TextLength(2000), no_cpr],
        render_kw={"rows": 3},
    )


# --- running the network: programmes, units, people; one's own profile ---------------------

class ProgrammeForm(FlaskForm):
    """A programme: its name, web address name, description, period, status and the five
    modules' due dates (the fields ``due_<module key>``, added below). The order of the dates
    and their place in the period are checked by laks.services.network."""

    name = StringField(_l("Name"), validators=[
        plain_text, DataRequired(_l("Give the programme a name.")), TextLength(200), no_cpr])
    slug = StringField(
        _l("Short name for the web address"),
        description=_l("Lower-case letters a–z, digits and dashes. Leave it empty to have it "
                       "made from the name."),
        validators=[plain_text, TextLength(40)])
    description = TextAreaField(_l("Description"),
                                validators=[plain_text, TextLength(5000), no_cpr],
                                render_kw={"rows": 4})
    starts_on = LocalDateField(_l("Starts"), validators=[
        DataRequired(_l("Give the date the programme starts."))])
    ends_on = LocalDateField(_l("Ends"), validators=[
        DataRequired(_l("Give the date the programme ends."))])
    status = RadioField(_l("Status"), choices=[], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice(s.value, s.label) for s in ProgrammeStatus]

    def due_fields(self):
        """The five due-date fields in the modules' order."""
        return [self[f"due_{key}"] for key in MODULE_KEYS]


def _add_due_fields() -> None:
    for position, key in enumerate(MODULE_KEYS, start=1):
        setattr(ProgrammeForm, f"due_{key}", LocalDateField(
            _l("Module %(num)d, %(title)s: due", num=position, title=MODULE_TITLES[key]),
            validators=[DataRequired(_l("Give the date module %(num)d is due.",
                                        num=position))]))


_add_due_fields()


class UnitForm(FlaskForm):
    """A unit's municipality (from the official list; choices set by the view), name,
    places (one per line) and target group."""

    municipality = SelectField(_l("Municipality"), choices=[], validate_choice=False)
    name = StringField(_l("Name"), validators=[
        plain_text, DataRequired(_l("Give the unit a name.")), TextLength(200), no_cpr])
    places = TextAreaField(
        _l("Places"), description=_l("One place per line. Leave it empty if the unit's name "
                                     "is its one place."),
        validators=[plain_text, TextLength(5000), no_cpr], render_kw={"rows": 3})
    target_group = TextAreaField(_l("Target group"),
                                 validators=[plain_text, TextLength(2000), no_cpr],
                                 render_kw={"rows": 3})


class MoveUnitForm(FlaskForm):
    """The programme a unit moves to (choices set by the view)."""

    programme = SelectField(_l("Move to the programme"), choices=[], validate_choice=False)


class CloseUnitForm(FlaskForm):
    """Closing a unit: why, if the admin wants to say (kept in the audit log)."""

    comment = TextAreaField(
        _l("Why (optional)"), description=_l("Kept in the audit log with the closing."),
        validators=[plain_text, TextLength(500), no_cpr], render_kw={"rows": 2})


class MemberForm(FlaskForm):
    """A staff member or facilitator attached to a unit (choices set by the view)."""

    user = SelectField(_l("Person"), choices=[], validate_choice=False)
    as_tovholder = BooleanField(_l("The unit's tovholder"))


class TovholderForm(FlaskForm):
    """Which staff member of the unit is its tovholder, or nobody yet (choices by the view)."""

    tovholder = SelectField(_l("Tovholder"), choices=[], validate_choice=False)


class PersonForm(FlaskForm):
    """A new person: name, e-mail, role and, for staff and facilitators, their first unit;
    for observers, their group. The unit and the choices are checked by the service."""

    name = StringField(_l("Name"), validators=[
        plain_text, DataRequired(_l("Write the person's name.")), TextLength(120), no_cpr])
    email = EmailField(_l("E-mail"), validators=[
        plain_text, DataRequired(_l("Write the person's e-mail address.")), TextLength(254)])
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    unit = SelectField(_l("Unit"), choices=[], validate_choice=False,
                       description=_l("For staff and facilitators. More units can be added on "
                                      "each unit's page."))
    tovholder = BooleanField(_l("The unit's tovholder"))
    observer_group = SelectField(_l("Group"), choices=[], validate_choice=False,
                                 description=_l("For observers."))
    invite = BooleanField(_l("Send an invitation by e-mail now"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice("", _l("Choose a role"))] + [
            SelectChoice(r.value, r.label) for r in Role]
        self.observer_group.choices = [SelectChoice("", _l("No group"))] + [
            SelectChoice(g.value, g.label) for g in ObserverGroup]


class ProfileForm(FlaskForm):
    """One's own name and language."""

    name = StringField(_l("Name"), validators=[
        plain_text, DataRequired(_l("Write your name.")), TextLength(120), no_cpr],
        render_kw={"autocomplete": "name"})
    language = RadioField(_l("Language"), choices=[SelectChoice("da", "Dansk"),
                                                   SelectChoice("en", "English")],
                          validate_choice=False,
                          description=_l("The language of laks' pages and of your mails."))


class ChangePasswordForm(SetPasswordForm):
    """A new password, given after the current one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[plain_text, DataRequired(_l("Enter your current password.")),
                    Length(max=200, message=_l("At most %(max)d characters."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Change password"))


def _half_steps(value):
    """A posted score as a whole number of half steps; anything else stays as it was sent
    (and is refused by the form with the scale's message)."""
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else text


class ProgressForm(FlaskForm):
    """A unit's progress on the IHI scale, with a short note (laks.services.progress)."""

    half_steps = RadioField(_l("Score on the IHI scale"), choices=[], coerce=_half_steps,
                            validate_choice=False)
    note = TextAreaField(
        _l("Note (optional)"),
        description=_l("What the score rests on, in a sentence or two – at most 500 "
                       "characters, and never about a citizen."),
        validators=[plain_text], render_kw={"rows": 3})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.half_steps.choices = [
            SelectChoice(n, f"{format_decimal(n / 2, format='0.0')} – {words}")
            for n, words in IHI_SCALE.items()]

    def validate_half_steps(self, field):
        if len(field.raw_data or ()) > 1:
            raise ValidationError(progress.OFF_SCALE)
        for problem in progress.check_score(field.data, ""):
            raise ValidationError(problem.message)

    def validate_note(self, field):
        for problem in progress.check_score(1, field.data or ""):
            raise ValidationError(problem.message)
