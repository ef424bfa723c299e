"""The fixed forms of laks (the module forms are built from definitions elsewhere).

Every form is a FlaskForm, so every form carries a CSRF token; a state-changing button with
no fields uses :class:`EmptyForm`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from laks.definitions.forms import TextLength, no_cpr
from laks.services.accounts import MIN_PASSWORD_LENGTH


class EmptyForm(FlaskForm):
    """A POST button with a CSRF token and nothing else (log out, state changes)."""


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Log in"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
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
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save password"))


class ReviewForm(FlaskForm):
    """A facilitator's decision on a submitted module; the comment is always required."""

    comment = TextAreaField(
        _l("Comment to the unit"),
        validators=[DataRequired(_l("Write a comment to the unit – it is required for this step.")),
                    TextLength(5000), no_cpr],
        render_kw={"rows": 5},
    )
    decision = SelectField(choices=[SelectChoice("approve", _l("Approve")),
                                    SelectChoice("request_changes", _l("Request changes"))])


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        validators=[DataRequired(_l("Write a comment before you send it.")),
                    TextLength(5000), no_cpr],
        description=_l("You can use markdown: **bold**, *italic*, lists and links."),
        render_kw={"rows": 4},
    )
