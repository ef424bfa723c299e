"""Helpers for the catalogue tests: a unit's five modules filled from the Holbæk demo case
and approved through the real services, so that its case is complete."""

from __future__ import annotations

from pathlib import Path

import yaml

from laks.enums import MODULE_KEYS
from laks.extensions import db
from laks.services import modules as module_service
from laks.services.definitions import get_spec
from laks.services.demo import plain

DEMO = Path(__file__).resolve().parents[1] / "seed_data" / "demo_content"
HOLBAEK = DEMO / "laks--holbaek-sundhedscenteret.yaml"


def demo_answers(path: Path = HOLBAEK) -> dict[str, dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {key: plain(data["modules"][key]["answers"]) for key in MODULE_KEYS}


def fill_module(unit, key, answers, *, staff, facilitator, approve=True):
    """Save ``answers`` for module ``key`` of ``unit``, submit it, and approve it."""
    um = module_service.unit_module_for(unit, key)
    module_service.save_answers(um, answers, actor=staff, base_version=um.version or 0)
    if approve:
        module_service.submit(um, get_spec(key), actor=staff)
        module_service.review(um, "approve", actor=facilitator, comment="Godkendt.")
    db.session.commit()
    return um


def fill_case(unit, *, staff, facilitator, changes: dict | None = None,
              approve: tuple[str, ...] = MODULE_KEYS, skip: tuple[str, ...] = ()):
    """Fill all five modules from the demo case (with ``changes`` as ``{module: {question:
    answer}}``), approving those in ``approve``."""
    answers = demo_answers()
    for key, values in (changes or {}).items():
        answers[key] = {**answers[key], **values}
    for key in MODULE_KEYS:
        if key in skip:
            continue
        fill_module(unit, key, answers[key], staff=staff, facilitator=facilitator,
                    approve=key in approve)
    return answers
