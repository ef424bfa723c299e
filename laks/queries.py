"""Read-only questions for the pages, each answered in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from laks.due import due_dates_apply, is_overdue
from laks.enums import (
    MODULE_KEYS,
    MODULE_TITLES,
    ModuleState,
    ProgrammeStatus,
    Role,
    audit_action_label,
)
from laks.extensions import db
from laks.models import AuditEvent, Membership, Municipality, Programme, Unit, UnitModule, User


def programmes_with_units() -> list[Programme]:
    """Every programme, its due dates and its units with their municipality, newest first."""
    return list(
        db.session.scalars(
            select(Programme)
            .options(
                selectinload(Programme.module_dues),
                selectinload(Programme.units).selectinload(Unit.municipality),
            )
            .order_by(Programme.starts_on.desc(), Programme.name)
        )
    )


def units_of(user: User) -> list[Unit]:
    """The units a staff member or facilitator belongs to, with programme and municipality."""
    return list(
        db.session.scalars(
            select(Unit)
            .join(Membership, Membership.unit_id == Unit.id)
            .where(Membership.user_id == user.id)
            .options(
                selectinload(Unit.municipality),
                selectinload(Unit.programme).selectinload(Programme.module_dues),
            )
            .order_by(Unit.name)
        )
    )


def unit_people(unit: Unit) -> list[tuple[User, bool]]:
    """The people of a unit with whether each is its tovholder: tovholder first, then name."""
    rows = db.session.execute(
        select(User, Membership.is_tovholder)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == unit.id)
        .order_by(Membership.is_tovholder.desc(), User.name)
    )
    return [(user, bool(tovholder)) for user, tovholder in rows]


def network_counts() -> dict[str, int]:
    return {
        "programmes": db.session.scalar(select(func.count(Programme.id))),
        "units": db.session.scalar(select(func.count(Unit.id))),
        "municipalities": db.session.scalar(select(func.count(Municipality.id))),
        "users": db.session.scalar(select(func.count(User.id))),
    }


def users_with_units() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .options(
                selectinload(User.memberships)
                .selectinload(Membership.unit)
                .selectinload(Unit.municipality)
            )
            .order_by(User.role, User.name)
        )
    )


AUDIT_PAGE_SIZE = 50


@dataclass
class AuditRow:
    """One audit event as the admin reads it: the action and the object in words."""

    event: AuditEvent
    action: str
    object: str
    details: str


def audit_page(page: int, action: str | None = None) -> tuple[list[AuditRow], int]:
    """One page of the audit log, newest first, with the total number of matching events.

    Each event comes with its action in words and its object's name ("Holbæk –
    Sundhedscenteret: Handleplan", a person's name, a module's title), loaded for the whole
    page at once: a fixed number of queries, whatever the page holds.
    """
    query = select(AuditEvent)
    count = select(func.count(AuditEvent.id))
    if action:
        query = query.where(AuditEvent.action == action)
        count = count.where(AuditEvent.action == action)
    events = list(db.session.scalars(
        query.options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ))
    names = _audit_object_names(events)
    rows = [
        AuditRow(event, audit_action_label(event.action),
                 names.get((event.object_type, event.object_id), "") if event.object_type
                 else "", _audit_details(event))
        for event in events
    ]
    return rows, db.session.scalar(count)


def audit_actions() -> list[tuple[str, str]]:
    """The actions in the log as (action, words), in the order of the words."""
    actions = db.session.scalars(select(AuditEvent.action).distinct())
    return sorted(((a, audit_action_label(a)) for a in actions), key=lambda p: p[1].lower())


def _ids(events: list[AuditEvent], object_type: str) -> set[int]:
    return {e.object_id for e in events if e.object_type == object_type and e.object_id}


def _audit_object_names(events: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """The name of every object the events name, keyed by (table, id): one query per kind
    of object on the page. An object that no longer exists keeps its number."""
    names: dict[tuple[str, int], str] = {}
    module_events = [e for e in events if e.object_type == "unit_module"]
    unit_ids = _ids(events, "unit") | {
        int(e.details["unit_id"]) for e in module_events if (e.details or {}).get("unit_id")}
    units = {u.id: u for u in db.session.scalars(
        select(Unit).where(Unit.id.in_(unit_ids)).options(selectinload(Unit.municipality))
    )} if unit_ids else {}
    for event in module_events:
        details = event.details or {}
        unit, key = units.get(details.get("unit_id")), details.get("module")
        if unit is not None and key in MODULE_TITLES:
            names[("unit_module", event.object_id)] = f"{unit.title}: {MODULE_TITLES[key]}"
    for unit_id in _ids(events, "unit"):
        if unit_id in units:
            names[("unit", unit_id)] = units[unit_id].title
    for object_type, model, attribute in (("user_account", User, User.name),
                                          ("programme", Programme, Programme.name),
                                          ("municipality", Municipality, Municipality.name)):
        ids = _ids(events, object_type)
        if ids:
            for object_id, name in db.session.execute(
                    select(model.id, attribute).where(model.id.in_(ids))):
                names[(object_type, object_id)] = name
    programme_ids = {e.details["programme"] for e in events
                     if e.object_type == "module_definition"
                     and isinstance((e.details or {}).get("programme"), int)}
    programmes = {row.id: row.name for row in db.session.execute(
        select(Programme.id, Programme.name).where(Programme.id.in_(programme_ids)))}
    for event in events:
        details = event.details or {}
        key = details.get("module")
        if event.object_type == "module_definition" and key in MODULE_TITLES:
            owner = programmes.get(details.get("programme"))
            names[("module_definition", event.object_id)] = (
                f"{owner}: {MODULE_TITLES[key]}" if owner else str(MODULE_TITLES[key]))
        if event.object_type == "catalogue_edition" and isinstance(details.get("number"), int):
            names[("catalogue_edition", event.object_id)] = str(
                _l("Edition %(num)d", num=details["number"]))
        if event.object_type and (event.object_type, event.object_id) not in names:
            names[(event.object_type, event.object_id)] = f"#{event.object_id}"
    return names


#: Details of an event in words; the keys not named here are left out (ids of what the
#: object's name already says).
_DETAIL_LABELS = {
    "from": _l("from"),
    "to": _l("to"),
    "revision": _l("revision"),
    "version": _l("version"),
    "base": _l("based on version"),
    "current": _l("current version"),
    "question": _l("question"),
    "title": _l("title"),
    "email": _l("e-mail"),
    "role": _l("role"),
    "reason": _l("reason"),
    "status": _l("status"),
}

_REASONS = {
    "credentials": _l("wrong e-mail or password"),
    "inactive": _l("the account is deactivated"),
}


def _detail_value(key: str, value) -> str:
    if key in ("from", "to") and value in {s.value for s in ModuleState}:
        return ModuleState(value).label
    if key == "role" and value in {r.value for r in Role}:
        return Role(value).label
    if key == "status" and value in {s.value for s in ProgrammeStatus}:
        return ProgrammeStatus(value).label
    if key == "reason" and value in _REASONS:
        return str(_REASONS[value])
    return str(value)


def _audit_details(event: AuditEvent) -> str:
    details = event.details or {}
    parts = [f"{_DETAIL_LABELS[key]}: {_detail_value(key, details[key])}"
             for key in _DETAIL_LABELS if details.get(key) not in (None, "")]
    if details.get("tovholder"):
        parts.append(str(_l("tovholder")))
    return "; ".join(parts)


# --- modules ------------------------------------------------------------------------------


@dataclass
class Step:
    """One module as a unit's step indicator shows it."""

    key: str
    position: int
    title: object  # a lazy translated string: rendered in the reader's language
    state: ModuleState
    due_on: date | None
    overdue: bool
    unit_module: UnitModule | None


def unit_modules(unit_ids: list[int]) -> dict[tuple[int, str], UnitModule]:
    """Every saved UnitModule of the given units, by (unit id, module key); one query."""
    if not unit_ids:
        return {}
    rows = db.session.scalars(select(UnitModule).where(UnitModule.unit_id.in_(unit_ids)))
    return {(um.unit_id, um.module_key): um for um in rows}


def steps_for(unit: Unit, saved: dict[tuple[int, str], UnitModule],
              today: date | None = None) -> list[Step]:
    """The five steps of ``unit`` from its saved modules. A module is overdue when its due
    date has passed while it can still be edited – and only while the programme runs and
    the unit is open: nothing in a closed programme or a closed unit is overdue."""
    today = today or date.today()
    applies = due_dates_apply(running=unit.programme.is_running, closed=unit.is_closed)
    steps = []
    for position, key in enumerate(MODULE_KEYS, start=1):
        um = saved.get((unit.id, key))
        state = um.state if um is not None else ModuleState.NOT_STARTED
        due = unit.programme.due_on(key)
        overdue = is_overdue(applies=applies, due_on=due, state=state, today=today)
        steps.append(Step(key, position, MODULE_TITLES[key], state, due, overdue, um))
    return steps


def module_steps(unit: Unit, today: date | None = None) -> list[Step]:
    """The five steps of one unit, with state, due date and whether each is overdue."""
    return steps_for(unit, unit_modules([unit.id]), today)


def next_step(steps: list[Step]) -> Step | None:
    """The module to work on next: the first one that is not approved or waiting for review
    (changes requested first of all)."""
    for step in steps:
        if step.state == ModuleState.CHANGES_REQUESTED:
            return step
    return next((s for s in steps if s.state.editable), None)


def progress(units: list[Unit]) -> dict[int, list[Step]]:
    """Steps for many units at once (two queries in all, whatever the number of units)."""
    saved = unit_modules([u.id for u in units])
    return {unit.id: steps_for(unit, saved) for unit in units}


def awaiting_review(units: list[Unit]) -> list[UnitModule]:
    """Submitted modules of the given units, oldest submission first."""
    if not units:
        return []
    return list(db.session.scalars(
        select(UnitModule)
        .where(UnitModule.unit_id.in_([u.id for u in units]),
               UnitModule.state == ModuleState.SUBMITTED)
        .options(selectinload(UnitModule.unit).selectinload(Unit.municipality))
        .order_by(UnitModule.submitted_at)
    ))

