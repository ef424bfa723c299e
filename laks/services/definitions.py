"""Module definitions in the database: loading them from seed_data, reading them as checked
specs, and the admin's changes (wording, required, a new question, order, retiring a
question, choice options).

The network has one definition per module, the one a new programme starts from; each
programme has its own copy, so a change to one programme's questions never reaches another.
Every content a definition has had is kept as a version, and each saved revision of a unit's
answers names the version it answered: a submitted or approved module shows the questions as
they were. Answers are stored by question key, so none of these changes touches a unit's
answers; a question key, once made, is never renamed or reused, and a question or option is
retired rather than deleted.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import yaml
from flask import g, has_app_context
from sqlalchemy import Text, cast, func, select

from laks.audit import record
from laks.definitions import DefinitionError, ModuleSpec, parse_module
from laks.enums import MODULE_KEYS, ModuleState, QuestionKind
from laks.extensions import db
from laks.memo import BoundedCache
from laks.models import (
    ModuleDefinition,
    ModuleDefinitionVersion,
    ModuleRevision,
    Programme,
    UnitModule,
    User,
    utcnow,
)
from laks.privacy import any_cpr


def load_definition_files(folder: Path) -> list[str]:
    """Store each ``*.yaml`` module definition that the database does not have yet, as the
    network's, and give every programme without its own copy one.

    Existing definitions are left alone (the admin may have edited them), which makes the
    seed idempotent. Every file is parsed first, so a broken file fails before anything is
    written. Returns the keys created.
    """
    parsed = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            parse_module(data)
        except DefinitionError as exc:
            raise DefinitionError(f"{path.name}: {exc}") from None
        parsed.append(data)
    keys = [d["key"] for d in parsed]
    if sorted(keys) != sorted(MODULE_KEYS):
        raise DefinitionError(f"{folder}: expected one file for each of {', '.join(MODULE_KEYS)}")
    existing = set(db.session.scalars(select(ModuleDefinition.module_key).where(
        ModuleDefinition.programme_id.is_(None))))
    created = []
    for data in parsed:
        if data["key"] in existing:
            continue
        definition = ModuleDefinition(module_key=data["key"], content=data, revision=1)
        db.session.add(definition)
        db.session.flush()
        _keep_version(definition)
        record(None, "definition.create", definition, module=data["key"])
        created.append(data["key"])
    for programme in db.session.scalars(select(Programme)):
        start_programme(programme)
    return created


def _keep_version(definition: ModuleDefinition) -> ModuleDefinitionVersion:
    version = ModuleDefinitionVersion(definition_id=definition.id,
                                      revision=definition.revision,
                                      content=copy.deepcopy(definition.content))
    db.session.add(version)
    db.session.flush()
    return version


def start_programme(programme: Programme) -> list[str]:
    """Give ``programme`` its own copy of each network definition it does not have yet: a
    new programme starts from the network's current questions. Returns the keys copied."""
    own = set(db.session.scalars(select(ModuleDefinition.module_key).where(
        ModuleDefinition.programme_id == programme.id)))
    copied = []
    for network in db.session.scalars(select(ModuleDefinition).where(
            ModuleDefinition.programme_id.is_(None))):
        if network.module_key in own:
            continue
        definition = ModuleDefinition(programme_id=programme.id,
                                      module_key=network.module_key,
                                      content=copy.deepcopy(network.content), revision=1)
        db.session.add(definition)
        db.session.flush()
        _keep_version(definition)
        copied.append(network.module_key)
    _cache().clear()
    return copied


def _cache() -> dict:
    if not has_app_context():
        return {}
    if "laks_specs" not in g:
        g.laks_specs = {}
    return g.laks_specs


def definition_row(module_key: str, programme_id: int | None = None) -> ModuleDefinition:
    """The definition in force: the programme's own, or – for the network, or a programme
    made before any definitions were loaded – the network's. LookupError if none."""
    found = None
    if programme_id is not None:
        found = db.session.scalar(select(ModuleDefinition).where(
            ModuleDefinition.programme_id == programme_id,
            ModuleDefinition.module_key == module_key))
    if found is None:
        found = db.session.scalar(select(ModuleDefinition).where(
            ModuleDefinition.programme_id.is_(None), ModuleDefinition.module_key == module_key))
    if found is None:
        raise LookupError(f"module {module_key!r} has no definition; run `flask seed`")
    return found


#: Checked specs by the JSON text of their content: a page reads its module's definition
#: (one row) but parses it only the first time the process sees that content.
_parsed: BoundedCache[ModuleSpec] = BoundedCache(256)


def _spec_of(text: str | None) -> ModuleSpec | None:
    if text is None:
        return None
    return _parsed.get_or_make(text, lambda: parse_module(json.loads(text)))


def text_in_force(programme_id, module_key):
    """The content, as JSON text, of the definition in force (as :func:`definition_row`
    finds it) for ``programme_id`` and ``module_key`` – columns, bound parameters or values
    – as an expression: :func:`get_spec` reads it alone, a module page with its unit (see
    :func:`keep_in_force`)."""
    as_text = cast(ModuleDefinition.content, Text)
    return func.coalesce(
        select(as_text).where(ModuleDefinition.programme_id == programme_id,
                              ModuleDefinition.module_key == module_key).scalar_subquery(),
        select(as_text).where(ModuleDefinition.programme_id.is_(None),
                              ModuleDefinition.module_key == module_key).scalar_subquery())


def keep_in_force(programme_id: int | None, module_key: str, text: str | None) -> None:
    """Take ``text`` (read with :func:`text_in_force`) as the definition in force for this
    request, so that :func:`get_spec` need not read it again."""
    spec = _spec_of(text)
    if spec is not None:
        _cache()[(programme_id, module_key)] = spec


def get_spec(module_key: str, programme_id: int | None = None) -> ModuleSpec:
    """The checked definition of one module in a programme (None: the network's), with
    every question – also retired ones. Raises LookupError if it is not loaded."""
    cache = _cache()
    key = (programme_id, module_key)
    if key not in cache:
        spec = _spec_of(db.session.scalar(select(text_in_force(programme_id, module_key))))
        if spec is None:
            raise LookupError(f"module {module_key!r} has no definition; run `flask seed`")
        cache[key] = spec
    return cache[key]


def all_specs(programme_id: int | None = None) -> list[ModuleSpec]:
    """Every loaded module definition of a programme (None: the network's), in module
    order."""
    keys = set(db.session.scalars(select(ModuleDefinition.module_key)))
    return [get_spec(key, programme_id) for key in MODULE_KEYS if key in keys]


def current_version_id(module_key: str, programme_id: int | None) -> int:
    """The id of the version in force, kept now if it was never kept (called when answers
    are saved, so that the revision can name the questions it answered)."""
    definition = definition_row(module_key, programme_id)
    found = db.session.scalar(select(ModuleDefinitionVersion.id).where(
        ModuleDefinitionVersion.definition_id == definition.id,
        ModuleDefinitionVersion.revision == definition.revision))
    return found if found is not None else _keep_version(definition).id


def _version_spec(version_id: int) -> ModuleSpec | None:
    cache = _cache()
    key = ("version", version_id)
    if key not in cache:
        cache[key] = _spec_of(db.session.scalar(
            select(cast(ModuleDefinitionVersion.content, Text))
            .where(ModuleDefinitionVersion.id == version_id)))
    return cache[key]


def _earliest_spec(module_key: str, programme_id: int) -> ModuleSpec | None:
    definition = definition_row(module_key, programme_id)
    version_id = db.session.scalar(
        select(ModuleDefinitionVersion.id)
        .where(ModuleDefinitionVersion.definition_id == definition.id)
        .order_by(ModuleDefinitionVersion.revision).limit(1))
    return _version_spec(version_id) if version_id is not None else None


LOCKED = (ModuleState.SUBMITTED, ModuleState.APPROVED)


def module_spec(unit_module: UnitModule) -> ModuleSpec:
    """The questions a unit's module is shown with. While it can be edited: the programme's
    current ones. Once submitted or approved: the ones its answers were given to – a question
    added or reworded since does not appear in a module already answered."""
    programme_id = unit_module.unit.programme_id
    # The newest revision that is not a conflict: one row from the database, not the whole
    # history.
    answered = db.session.execute(
        select(ModuleRevision.id, ModuleRevision.definition_version_id)
        .where(ModuleRevision.unit_module_id == unit_module.id,
               ModuleRevision.kind != "conflict")
        .order_by(ModuleRevision.number.desc()).limit(1)
    ).first() if unit_module.state in LOCKED and unit_module.id is not None else None
    if answered is not None:
        version_id = answered.definition_version_id
        spec = (_version_spec(version_id) if version_id is not None
                else _earliest_spec(unit_module.module_key, programme_id))
        if spec is not None:
            return spec
    return get_spec(unit_module.module_key, programme_id)


def _editable(module_key: str, programme: Programme | None) -> ModuleDefinition:
    """The row an edit changes. Before the network's questions change, every programme
    still reading them gets its own copy, so that no programme changes but the one edited."""
    if programme is None:
        for other in db.session.scalars(select(Programme)):
            start_programme(other)
    else:
        start_programme(programme)
    return definition_row(module_key, programme.id if programme else None)


def _texts(content: dict):
    """Every text a reader sees in a definition: titles, intros, labels and help texts."""
    for key, value in content.items():
        if key in ("title", "intro", "label", "help"):
            yield from (value.values() if isinstance(value, dict) else [value])
        elif isinstance(value, dict):
            yield from _texts(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _texts(item)


def _store(definition: ModuleDefinition, content: dict, *, actor: User, action: str,
           **details) -> ModuleSpec:
    """Check and write a new content, keep it as a version, and audit the change."""
    spec = parse_module(content)  # raises DefinitionError before anything is written
    texts = list(_texts(content))
    if any(isinstance(t, str) and "\x00" in t for t in texts):
        raise DefinitionError("a text contains a NUL character")
    if any_cpr(texts):
        raise DefinitionError("a text looks like a CPR number")
    definition.content = content
    definition.revision += 1
    definition.updated_at = utcnow()
    definition.updated_by_id = actor.id
    _cache().clear()
    db.session.flush()
    _keep_version(definition)
    record(actor, action, definition, module=definition.module_key,
           programme=definition.programme_id, **details)
    return spec


def _set_range(question: dict, number_range: tuple | None) -> None:
    if number_range is None:
        return
    for name, value in zip(("min", "max"), number_range, strict=True):
        if value is None:
            question.pop(name, None)
        else:
            question[name] = value


def update_question(*, actor: User, module_key: str, question_key: str, label_da: str,
                    label_en: str, help_da: str, help_en: str, required: bool,
                    number_range: tuple | None = None,
                    programme: Programme | None = None) -> ModuleSpec:
    """Change a question's wording and whether it is required; for a number question,
    ``number_range`` = (min, max) sets the smallest and largest answer allowed (None for
    no limit; leave the argument out to keep them). Raises LookupError for an unknown
    question, DefinitionError for an empty Danish label, a min above the max, or a text
    that looks like a CPR number."""
    definition = _editable(module_key, programme)
    content = copy.deepcopy(definition.content)
    for section in content["sections"]:
        for question in section["questions"]:
            if question["key"] == question_key:
                question["label"] = {"da": label_da.strip(), "en": label_en.strip()}
                if help_da.strip() or help_en.strip():
                    question["help"] = {"da": help_da.strip(), "en": help_en.strip()}
                else:
                    question.pop("help", None)
                question["required"] = bool(required)
                if question.get("kind") == "number":
                    _set_range(question, number_range)
                return _store(definition, content, actor=actor, action="definition.update",
                              question=question_key)
    raise LookupError(question_key)


def add_question(*, actor: User, module_key: str, section_key: str, question: dict,
                 programme: Programme | None = None) -> ModuleSpec:
    """Append a question to a section. Raises DefinitionError (duplicate key, bad kind,
    missing options …) with a message naming the problem; LookupError for a bad section.
    A key retired questions use is taken too: a key is never reused."""
    definition = _editable(module_key, programme)
    content = copy.deepcopy(definition.content)
    section = next((s for s in content["sections"] if s["key"] == section_key), None)
    if section is None:
        raise LookupError(section_key)
    section["questions"].append(question)
    return _store(definition, content, actor=actor, action="definition.add_question",
                  question=question.get("key"))


def _find(content: dict, question_key: str) -> tuple[dict, dict]:
    for section in content["sections"]:
        for question in section["questions"]:
            if question["key"] == question_key:
                return section, question
    raise LookupError(question_key)


def move_question(*, actor: User, module_key: str, question_key: str, step: int,
                  programme: Programme | None = None) -> ModuleSpec:
    """Move a question one place up (``step`` -1) or down (+1) in its section. At the top or
    the bottom it stays where it is, and nothing is written."""
    if step not in (-1, 1):
        raise ValueError(step)
    definition = _editable(module_key, programme)
    content = copy.deepcopy(definition.content)
    section, question = _find(content, question_key)
    questions = section["questions"]
    here = questions.index(question)
    there = here + step
    if not 0 <= there < len(questions):
        return get_spec(module_key, definition.programme_id)
    questions[here], questions[there] = questions[there], questions[here]
    return _store(definition, content, actor=actor, action="definition.move",
                  question=question_key, step=step)


def retire_question(*, actor: User, module_key: str, question_key: str, retired: bool,
                    programme: Programme | None = None) -> ModuleSpec:
    """Retire a question (no longer asked, never required; answers given to it are kept and
    read back), or take it back into use."""
    definition = _editable(module_key, programme)
    content = copy.deepcopy(definition.content)
    _section, question = _find(content, question_key)
    if bool(question.get("retired")) == retired:
        return get_spec(module_key, definition.programme_id)
    if retired:
        question["retired"] = True
    else:
        question.pop("retired", None)
    return _store(definition, content, actor=actor,
                  action="definition.retire" if retired else "definition.restore",
                  question=question_key)


def option_value(label: str, taken) -> str:
    """A stored value for a new option, made from its Danish label (æ→ae …) and never one
    the question has used: the value is what answers hold, so it is never reused."""
    text = label.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    base = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:30].strip("_") or "valg"
    if not base[0].isalpha():
        base = f"v_{base}"[:30]
    value, number = base, 2
    while value in taken:
        value, number = f"{base}_{number}", number + 1
    return value


def update_options(*, actor: User, module_key: str, question_key: str, options: list[dict],
                   new: list[dict] = (), programme: Programme | None = None) -> ModuleSpec:
    """Change a choice question's options: ``options`` gives, for each existing option by
    its value, the Danish and English label and whether it is retired; ``new`` adds options
    (Danish and English label). An option is never deleted – answers hold its value – and at
    least one option stays in use. Raises DefinitionError naming the problem."""
    definition = _editable(module_key, programme)
    content = copy.deepcopy(definition.content)
    _section, question = _find(content, question_key)
    if question.get("kind") not in (QuestionKind.CHOICE.value, QuestionKind.MULTI.value):
        raise DefinitionError("only choice questions have options")
    by_value = {o["value"]: o for o in question["options"]}
    for change in options:
        option = by_value.get(change["value"])
        if option is None:
            raise LookupError(change["value"])
        if not change["label_da"].strip():
            raise DefinitionError("an option needs a Danish text")
        option["label"] = {"da": change["label_da"].strip(), "en": change["label_en"].strip()}
        if change.get("retired"):
            option["retired"] = True
        else:
            option.pop("retired", None)
    for added in new:
        if not added["label_da"].strip():
            continue
        value = option_value(added["label_da"], by_value)
        by_value[value] = {"value": value, "label": {"da": added["label_da"].strip(),
                                                     "en": added["label_en"].strip()}}
        question["options"].append(by_value[value])
    if all(o.get("retired") for o in question["options"]):
        raise DefinitionError("at least one option must stay in use")
    if content == definition.content:
        return get_spec(module_key, definition.programme_id)
    return _store(definition, content, actor=actor, action="definition.options",
                  question=question_key)
