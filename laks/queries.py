"""Read-only questions for the pages, each answered in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload, selectinload

from laks.due import due_dates_apply, is_overdue
from laks.enums import (
    MODULE_KEYS,
    MODULE_TITLES,
    ModuleState,
)
from laks.extensions import db
from laks.models import Membership, Municipality, Programme, Unit, UnitModule, User
from laks.paging import page_of


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


# --- a programme's units, a page at a time ---------------------------------------------------

#: Units on one page of a programme's overview.
UNITS_PAGE_SIZE = 50


@dataclass
class UnitPage:
    units: list[Unit]
    total: int
    page: int
    pages: int
    page_size: int


def programme_units(programme_id: int, page: int = 1, page_size: int | None = None) -> UnitPage:
    """One page of a programme's units – the open ones first, then by name – with their
    municipalities; a page past the end is the last page. Two queries, whatever the
    number of units."""
    page_size = page_size or UNITS_PAGE_SIZE
    total = db.session.scalar(select(func.count(Unit.id))
                              .where(Unit.programme_id == programme_id))
    page, pages = page_of(total, page, page_size)
    units = db.session.scalars(
        select(Unit).where(Unit.programme_id == programme_id)
        .options(joinedload(Unit.municipality))
        .order_by(Unit.closed_at.is_not(None), Unit.name, Unit.id)
        .limit(page_size).offset((page - 1) * page_size)).all()
    return UnitPage(list(units), total, page, pages, page_size)


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

    @property
    def signature(self) -> tuple:
        """All a step indicator shows of the step (its title is the module's)."""
        return self.key, self.state, self.due_on, self.overdue


def unit_modules(unit_ids: list[int]) -> dict[tuple[int, str], UnitModule]:
    """Every saved UnitModule of the given units, by (unit id, module key); one query.
    The answers are not read (steps need states and dates; answers are the bulk of a row):
    a caller that wants them gets them loaded on first use."""
    if not unit_ids:
        return {}
    rows = db.session.scalars(select(UnitModule).where(UnitModule.unit_id.in_(unit_ids))
                              .options(defer(UnitModule.answers)))
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

