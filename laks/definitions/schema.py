"""The shape of a module definition, and the parser that checks it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from laks.enums import COLUMN_KINDS, DEFAULT_MAX_LENGTH, MODULE_KEYS, QuestionKind

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class DefinitionError(ValueError):
    """A module definition is malformed; the message names the module and the question."""


@dataclass(frozen=True)
class I18nText:
    """A text in Danish and English. ``str()`` gives the current locale, falling back to da."""

    da: str
    en: str = ""

    def get(self, locale: str) -> str:
        return (self.en if locale == "en" else self.da) or self.da

    def __str__(self) -> str:
        from flask import has_request_context
        from flask_babel import get_locale

        if not has_request_context():
            return self.da
        locale = get_locale()
        return self.get(locale.language if locale else "da")

    def to_data(self) -> dict:
        return {"da": self.da, "en": self.en}


@dataclass(frozen=True)
class Option:
    value: str
    label: I18nText
    retired: bool = False  # no longer offered; kept so that answers given with it read back


@dataclass(frozen=True)
class Column:
    key: str
    kind: QuestionKind
    label: I18nText
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    options: tuple[Option, ...] = ()  # a choice column's options
    group: I18nText | None = None  # on a card, the columns under one heading (PDSA's phases)
    help: I18nText | None = None

    def option_label(self, value: str) -> str:
        return next((str(o.label) for o in self.options if o.value == value), value)


@dataclass(frozen=True)
class Question:
    key: str
    kind: QuestionKind
    label: I18nText
    help: I18nText | None = None
    required: bool = False
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    options: tuple[Option, ...] = ()
    columns: tuple[Column, ...] = ()
    max_rows: int = 30
    catalogue: bool = False
    role_only: bool = False  # a contact named by role: no e-mail address, no phone number
    layout: str = "table"  # a rows question: "table", or "cards" – a card and a page per row
    item_label: I18nText | None = None  # what one row is called ("Cyklus"), for cards
    # No longer asked: left out of the form and of the required answers, but kept in the
    # definition so that the answers given to it still read back under their question.
    retired: bool = False

    @property
    def limit(self) -> int | None:
        """The maximum length of a text answer (stated, or the kind's default)."""
        return self.max_length or DEFAULT_MAX_LENGTH.get(self.kind)

    def option_label(self, value: str) -> str:
        return next((str(o.label) for o in self.options if o.value == value), value)


@dataclass(frozen=True)
class Section:
    key: str
    title: I18nText
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class ModuleSpec:
    key: str
    position: int
    title: I18nText
    intro: I18nText
    sections: tuple[Section, ...]
    questions_by_key: dict[str, Question] = field(default_factory=dict, compare=False)

    @property
    def questions(self) -> list[Question]:
        return [q for section in self.sections for q in section.questions]

    def question(self, key: str) -> Question | None:
        return self.questions_by_key.get(key)

    def active(self, answers: dict | None = None) -> ModuleSpec:
        """The module as it is answered now: without retired questions, and without retired
        options – except an option that ``answers`` already hold, so that editing a module
        never silently drops an answer given before the option was retired."""
        answers = answers or {}
        sections = []
        for section in self.sections:
            questions = []
            for q in section.questions:
                if q.retired:
                    continue
                if any(o.retired for o in q.options):
                    given = answers.get(q.key)
                    given = set(given) if isinstance(given, list) else {given}
                    q = replace(q, options=tuple(
                        o for o in q.options if not o.retired or o.value in given))
                questions.append(q)
            sections.append(replace(section, questions=tuple(questions)))
        by_key = {q.key: q for s in sections for q in s.questions}
        return replace(self, sections=tuple(sections), questions_by_key=by_key)


def _text(value, where: str, *, required: bool = True) -> I18nText | None:
    if value is None and not required:
        return None
    if isinstance(value, str):
        return I18nText(da=value)
    if isinstance(value, dict) and isinstance(value.get("da"), str) and value["da"].strip():
        return I18nText(da=value["da"], en=str(value.get("en") or ""))
    raise DefinitionError(f"{where}: needs a Danish text ('da')")


def _key(value, where: str) -> str:
    if not isinstance(value, str) or not KEY_RE.match(value):
        raise DefinitionError(
            f"{where}: key {value!r} must be lower-case letters, digits and _ (max 40)")
    return value


def _kind(value, where: str, allowed) -> QuestionKind:
    try:
        kind = QuestionKind(value)
    except ValueError:
        raise DefinitionError(f"{where}: unknown kind {value!r}") from None
    if kind not in allowed:
        raise DefinitionError(f"{where}: kind {value!r} is not allowed here")
    return kind


def _number(value, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DefinitionError(f"{where}: {value!r} is not a number")
    return value


def _range(data: dict, where: str) -> tuple[float | None, float | None]:
    low, high = _number(data.get("min"), where), _number(data.get("max"), where)
    if low is not None and high is not None and low > high:
        raise DefinitionError(f"{where}: min {low} is larger than max {high}")
    return low, high


def _column(data: dict, where: str) -> Column:
    key = _key(data.get("key"), where)
    where = f"{where}.{key}"
    low, high = _range(data, where)
    kind = _kind(data.get("kind"), where, COLUMN_KINDS)
    options = _options(data, where)
    if kind == QuestionKind.CHOICE and not options:
        raise DefinitionError(f"{where}: a choice column needs options")
    if options and kind != QuestionKind.CHOICE:
        raise DefinitionError(f"{where}: only choice columns have options")
    unknown = set(data) - {"key", "kind", "label", "max_length", "min", "max", "options",
                           "group", "help"}
    if unknown:
        raise DefinitionError(f"{where}: unknown fields {', '.join(sorted(unknown))}")
    return Column(
        key=key,
        kind=kind,
        label=_text(data.get("label"), where),
        max_length=data.get("max_length"),
        min=low,
        max=high,
        options=options,
        group=_text(data.get("group"), where, required=False),
        help=_text(data.get("help"), where, required=False),
    )


def _options(data: dict, where: str) -> tuple[Option, ...]:
    options = tuple(
        Option(value=_key(o.get("value"), where), label=_text(o.get("label"), where),
               retired=bool(o.get("retired", False)))
        for o in data.get("options") or ()
    )
    values = [o.value for o in options]
    if len(set(values)) != len(values):
        raise DefinitionError(f"{where}: duplicate option values")
    return options


def _question(data: dict, where: str) -> Question:
    key = _key(data.get("key"), where)
    where = f"{where}: question {key!r}"
    kind = _kind(data.get("kind"), where, set(QuestionKind))
    options = _options(data, where)
    if kind in (QuestionKind.CHOICE, QuestionKind.MULTI):
        if not options:
            raise DefinitionError(f"{where}: a {kind.value} question needs options")
    elif options:
        raise DefinitionError(f"{where}: only choice questions have options")
    columns = tuple(_column(c, where) for c in data.get("columns") or ())
    if kind == QuestionKind.ROWS:
        if not columns:
            raise DefinitionError(f"{where}: a rows question needs columns")
        if len({c.key for c in columns}) != len(columns):
            raise DefinitionError(f"{where}: duplicate column keys")
    elif columns:
        raise DefinitionError(f"{where}: only rows questions have columns")
    max_length = data.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise DefinitionError(f"{where}: max_length must be a positive whole number")
    unknown = set(data) - {"key", "kind", "label", "help", "required", "max_length", "min",
                           "max", "options", "columns", "max_rows", "catalogue", "role_only",
                           "layout", "item_label", "retired"}
    if unknown:
        raise DefinitionError(f"{where}: unknown fields {', '.join(sorted(unknown))}")
    layout = data.get("layout", "table")
    if layout not in ("table", "cards"):
        raise DefinitionError(f"{where}: layout is table or cards, not {layout!r}")
    if layout == "cards" and kind != QuestionKind.ROWS:
        raise DefinitionError(f"{where}: only rows questions are laid out as cards")
    low, high = _range(data, where)
    max_rows = data.get("max_rows", 30)
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise DefinitionError(f"{where}: max_rows must be a positive whole number")
    return Question(
        key=key,
        kind=kind,
        label=_text(data.get("label"), where),
        help=_text(data.get("help"), where, required=False),
        required=bool(data.get("required", False)),
        max_length=max_length,
        min=low,
        max=high,
        options=options,
        columns=columns,
        max_rows=max_rows,
        catalogue=bool(data.get("catalogue", False)),
        role_only=bool(data.get("role_only", False)),
        layout=layout,
        item_label=_text(data.get("item_label"), where, required=False),
        retired=bool(data.get("retired", False)),
    )


def parse_module(data: dict) -> ModuleSpec:
    """Check a module definition (as loaded from YAML or JSON) and return it frozen.

    Raises DefinitionError naming the module and question for an unknown module key, an
    unknown kind, a malformed key, or a question key used twice in the module.
    """
    if not isinstance(data, dict):
        raise DefinitionError("a module definition must be a mapping")
    key = data.get("key")
    if key not in MODULE_KEYS:
        raise DefinitionError(f"unknown module {key!r}; expected one of {', '.join(MODULE_KEYS)}")
    where = f"module {key!r}"
    sections = []
    seen: dict[str, Question] = {}
    for s in data.get("sections") or ():
        section_key = _key(s.get("key"), where)
        questions = []
        for q in s.get("questions") or ():
            question = _question(q, f"{where}, section {section_key!r}")
            if question.key in seen:
                raise DefinitionError(f"{where}: question key {question.key!r} is used twice")
            seen[question.key] = question
            questions.append(question)
        sections.append(Section(section_key, _text(s.get("title"), where), tuple(questions)))
    if not seen:
        raise DefinitionError(f"{where}: has no questions")
    return ModuleSpec(
        key=key,
        position=MODULE_KEYS.index(key) + 1,
        title=_text(data.get("title"), where),
        intro=_text(data.get("intro"), where, required=False) or I18nText(da=""),
        sections=tuple(sections),
        questions_by_key=seen,
    )
