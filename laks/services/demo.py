"""Demo content: units' modules filled in from ``seed_data/demo_content``, written through the
same services and workflow as real work, so the demo has revisions, a timeline and audit
events like any unit. Idempotent: a module that has been started is left alone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from laks.enums import MODULE_KEYS, ModuleState, Role
from laks.extensions import db
from laks.models import Membership, Municipality, Programme, Unit, User
from laks.services import modules as module_service
from laks.services.definitions import get_spec


class DemoContentError(ValueError):
    """A demo file names a unit, module or question that does not exist."""


def _plain(value):
    """YAML reads dates as dates; answers store them as ISO strings."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _unit(data: dict, where: str) -> Unit:
    unit = db.session.scalar(
        select(Unit).join(Programme).join(Municipality).where(
            Programme.slug == data["programme"], Municipality.code == str(data["municipality"]),
            Unit.name == data["unit"]))
    if unit is None:
        raise DemoContentError(f"{where}: no unit {data['unit']!r} in {data['programme']!r}")
    return unit


def _member(unit: Unit, role: Role, *, tovholder: bool = False) -> User:
    query = (select(User).join(Membership).where(Membership.unit_id == unit.id,
                                                 User.role == role).order_by(User.id))
    if tovholder:
        query = query.where(Membership.is_tovholder)
    user = db.session.scalars(query).first()
    if user is None:
        raise DemoContentError(f"{unit.title} has no {role.value}; load demo accounts first")
    return user


def load_demo_content(folder: Path) -> list[str]:
    """Fill in the modules described in ``folder``/*.yaml; returns what was filled."""
    filled = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        unit = _unit(data, path.name)
        staff = _member(unit, Role.STAFF, tovholder=True)
        facilitator = _member(unit, Role.FACILITATOR)
        for key in MODULE_KEYS:
            content = (data.get("modules") or {}).get(key)
            if content is None:
                continue
            unit_module = module_service.unit_module_for(unit, key)
            if unit_module.state != ModuleState.NOT_STARTED:
                continue
            spec = get_spec(key)
            answers = _plain(content.get("answers") or {})
            unknown = set(answers) - set(spec.questions_by_key)
            if unknown:
                raise DemoContentError(f"{path.name}: {key} has no questions {sorted(unknown)}")
            module_service.save_answers(unit_module, answers, actor=staff, base_version=0)
            target = ModuleState(content.get("state", "draft"))
            if target != ModuleState.DRAFT:
                module_service.submit(unit_module, spec, actor=staff)
            if target in (ModuleState.APPROVED, ModuleState.CHANGES_REQUESTED):
                action = "approve" if target == ModuleState.APPROVED else "request_changes"
                module_service.review(unit_module, action, actor=facilitator,
                                      comment=content["review"])
            for comment in content.get("comments") or ():
                author = facilitator if comment.get("by") == "facilitator" else staff
                module_service.add_comment(unit_module, comment["text"], actor=author)
            filled.append(f"{unit.title}: {key} ({target.value})")
    return filled
