"""Module definitions in the database: loading them from seed_data, reading them as checked
specs, and the admin's changes (a label, help text, whether required, a new question).

Answers are stored by question key, so none of these changes touches a unit's answers; a
question key, once made, is never renamed or reused.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from flask import g, has_app_context
from sqlalchemy import select

from laks.audit import record
from laks.definitions import DefinitionError, ModuleSpec, parse_module
from laks.enums import MODULE_KEYS
from laks.extensions import db
from laks.models import ModuleDefinition, User, utcnow
from laks.privacy import any_cpr


def load_definition_files(folder: Path) -> list[str]:
    """Store each ``*.yaml`` module definition that the database does not have yet.

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
    existing = set(db.session.scalars(select(ModuleDefinition.module_key)))
    created = []
    for data in parsed:
        if data["key"] in existing:
            continue
        definition = ModuleDefinition(module_key=data["key"], content=data)
        db.session.add(definition)
        db.session.flush()
        record(None, "definition.create", definition, module=data["key"])
        created.append(data["key"])
    return created


def _cache() -> dict:
    if not has_app_context():
        return {}
    if "laks_specs" not in g:
        g.laks_specs = {}
    return g.laks_specs


def get_spec(module_key: str) -> ModuleSpec:
    """The checked definition of one module. Raises LookupError if it is not loaded."""
    cache = _cache()
    if module_key not in cache:
        definition = db.session.scalar(
            select(ModuleDefinition).where(ModuleDefinition.module_key == module_key))
        if definition is None:
            raise LookupError(f"module {module_key!r} has no definition; run `flask seed`")
        cache[module_key] = parse_module(definition.content)
    return cache[module_key]


def all_specs() -> list[ModuleSpec]:
    """Every loaded module definition, in module order."""
    keys = set(db.session.scalars(select(ModuleDefinition.module_key)))
    return [get_spec(key) for key in MODULE_KEYS if key in keys]


def _definition(module_key: str) -> ModuleDefinition:
    definition = db.session.scalar(
        select(ModuleDefinition).where(ModuleDefinition.module_key == module_key))
    if definition is None:
        raise LookupError(module_key)
    return definition


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
    _cache().pop(definition.module_key, None)
    db.session.flush()
    record(actor, action, definition, module=definition.module_key, **details)
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
                    number_range: tuple | None = None) -> ModuleSpec:
    """Change a question's wording and whether it is required; for a number question,
    ``number_range`` = (min, max) sets the smallest and largest answer allowed (None for
    no limit; leave the argument out to keep them). Raises LookupError for an unknown
    question, DefinitionError for an empty Danish label, a min above the max, or a text
    that looks like a CPR number."""
    definition = _definition(module_key)
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


def add_question(*, actor: User, module_key: str, section_key: str, question: dict
                 ) -> ModuleSpec:
    """Append a question to a section. Raises DefinitionError (duplicate key, bad kind,
    missing options …) with a message naming the problem; LookupError for a bad section."""
    definition = _definition(module_key)
    content = copy.deepcopy(definition.content)
    section = next((s for s in content["sections"] if s["key"] == section_key), None)
    if section is None:
        raise LookupError(section_key)
    section["questions"].append(question)
    return _store(definition, content, actor=actor, action="definition.add_question",
                  question=question.get("key"))
