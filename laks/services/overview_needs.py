"""What needs someone, read-only: the review queue, the modules waiting on the units'
changes, the units past their due dates and the units without activity for a month – each
list short, with its full count, all counted in the database (laks.services.overview has
the scope, the filters and the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import distinct, func, select

from laks.enums import MODULE_KEYS, ModuleState
from laks.extensions import db
from laks.models import Municipality, Programme, StateChange, Unit, UnitModule, utcnow
from laks.services.overview import (
    INACTIVE,
    Filters,
    Scope,
    danish_order,
    days_since,
    last_activity,
    nulls_first,
    overdue_rows,
    submitted_at,
    units_query,
)

#: Entries shown in each list; the rest are counted and found through the matrix's filter.
NEEDS_LIMIT = 20


@dataclass
class Waiting:
    """A module someone should act on: submitted (waiting for review, ``since`` it was
    submitted), with changes requested (``since`` they were asked for), or overdue
    (``since`` its due date)."""

    unit_id: int
    unit: str
    municipality: str
    module_key: str
    since: datetime | date | None
    days: int | None = None  # whole days since then


@dataclass
class Late:
    """A unit with modules past their due date: which (in the modules' order), the oldest
    due date among them and how many days ago it was."""

    unit_id: int
    unit: str
    municipality: str
    modules: list[str]
    due_on: date
    days: int


@dataclass
class Quiet:
    """A unit without activity for a month; ``last_activity`` None: never any."""

    unit_id: int
    unit: str
    municipality: str
    programme: str
    last_activity: datetime | None


@dataclass
class Needs:
    """What needs someone, across the scope and the filters: the counts of modules per
    state, and each list (at most :data:`NEEDS_LIMIT` long) with its full count."""

    units: int
    states: dict[ModuleState, int]
    review: list[Waiting]
    review_total: int
    changes: list[Waiting]
    changes_total: int
    overdue: list[Late]
    overdue_total: int
    overdue_units: int
    inactive: list[Quiet]
    inactive_total: int


def _module_list(scope, filters, today, now, state: ModuleState, since):
    unit_ids = units_query(scope, filters, today, now)
    return [Waiting(row.unit_id, row.name, row.municipality, row.module_key, row.since,
                    days_since(now, row.since))
            for row in db.session.execute(
                select(UnitModule.unit_id, UnitModule.module_key, Unit.name,
                       Municipality.name.label("municipality"), since.label("since"))
                .join(Unit, Unit.id == UnitModule.unit_id)
                .join(Municipality, Municipality.id == Unit.municipality_id)
                .where(UnitModule.state == state, UnitModule.unit_id.in_(unit_ids))
                .order_by(nulls_first(since), since, UnitModule.id).limit(NEEDS_LIMIT))]


def _changes_requested_at():
    return (select(func.max(StateChange.at))
            .where(StateChange.unit_module_id == UnitModule.id,
                   StateChange.to_state == ModuleState.CHANGES_REQUESTED)
            .scalar_subquery())


def needs(scope: Scope, filters: Filters, *, lists: bool = True, today: date | None = None,
          now: datetime | None = None) -> Needs:
    """What needs someone in the scope's units that the filters select (programme and
    municipality): the review queue, oldest submission first; the modules waiting on
    changes, oldest request first; the units with overdue modules, the oldest due date
    first; the units without activity for a month, the quietest first. Ten queries;
    without ``lists`` (a home page), the counts and the review queue alone: six."""
    today, now = today or date.today(), now or utcnow()
    unit_ids = units_query(scope, filters, today, now)
    units = db.session.scalar(select(func.count()).select_from(unit_ids.subquery()))
    counted = dict(db.session.execute(
        select(UnitModule.state, func.count(UnitModule.id))
        .where(UnitModule.unit_id.in_(unit_ids)).group_by(UnitModule.state)).all())
    states = {state: counted.get(state, 0) for state in ModuleState}
    states[ModuleState.NOT_STARTED] = units * len(MODULE_KEYS) - sum(
        n for state, n in counted.items() if state != ModuleState.NOT_STARTED)
    review = _module_list(scope, filters, today, now, ModuleState.SUBMITTED,
                          func.coalesce(submitted_at(), UnitModule.submitted_at))
    overdue = overdue_rows(today).where(Unit.id.in_(unit_ids)).subquery()
    overdue_total, overdue_units = db.session.execute(
        select(func.count(), func.count(distinct(overdue.c.unit_id)))
        .select_from(overdue)).one()
    quiet_ids = units_query(
        scope, Filters(filters.programme_id, filters.municipality_id, INACTIVE), today, now)
    inactive_total = db.session.scalar(
        select(func.count()).select_from(quiet_ids.subquery()))
    found = Needs(units, states, review, states[ModuleState.SUBMITTED], [],
                  states[ModuleState.CHANGES_REQUESTED], [], overdue_total, overdue_units,
                  [], inactive_total)
    if lists:
        found.changes = _module_list(scope, filters, today, now,
                                     ModuleState.CHANGES_REQUESTED, _changes_requested_at())
        found.overdue = _late(overdue, today)
        found.inactive = _quiet(quiet_ids)
    return found


def _late(overdue, today: date) -> list[Late]:
    """The units among ``overdue`` (modules past their due date), the oldest due date
    first, each with its overdue modules in the modules' order: two queries."""
    oldest = func.min(overdue.c.due_on).label("due_on")
    late = [Late(row.unit_id, row.name, row.municipality, [], row.due_on,
                 (today - row.due_on).days)
            for row in db.session.execute(
                select(overdue.c.unit_id, oldest, Unit.name,
                       Municipality.name.label("municipality"))
                .join(Unit, Unit.id == overdue.c.unit_id)
                .join(Municipality, Municipality.id == Unit.municipality_id)
                .group_by(overdue.c.unit_id, Unit.name, Municipality.name)
                .order_by(oldest, danish_order(Municipality.name), danish_order(Unit.name))
                .limit(NEEDS_LIMIT))]
    by_unit = {item.unit_id: item for item in late}
    for row in db.session.execute(select(overdue.c.unit_id, overdue.c.module_key)
                                  .where(overdue.c.unit_id.in_(list(by_unit)))):
        by_unit[row.unit_id].modules.append(row.module_key)
    for item in late:
        item.modules.sort(key=MODULE_KEYS.index)
    return late


def _quiet(quiet_ids) -> list[Quiet]:
    """The units among ``quiet_ids``, the longest without activity first (never first)."""
    activity = last_activity()
    return [Quiet(row.id, row.name, row.municipality, row.programme, row.at)
            for row in db.session.execute(
                select(Unit.id, Unit.name, Municipality.name.label("municipality"),
                       Programme.name.label("programme"), activity.c.at)
                .join(Municipality, Municipality.id == Unit.municipality_id)
                .join(Programme, Programme.id == Unit.programme_id)
                .outerjoin(activity, activity.c.unit_id == Unit.id)
                .where(Unit.id.in_(quiet_ids))
                .order_by(nulls_first(activity.c.at), activity.c.at,
                          danish_order(Municipality.name), danish_order(Unit.name))
                .limit(NEEDS_LIMIT))]
