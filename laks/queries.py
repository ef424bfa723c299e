"""Read-only questions for the pages, each answered in a fixed number of queries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from laks.extensions import db
from laks.models import AuditEvent, Membership, Municipality, Programme, Unit, User


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


def audit_page(page: int, action: str | None = None) -> tuple[list[AuditEvent], int]:
    """One page of the audit log, newest first, with the total number of matching events."""
    query = select(AuditEvent)
    count = select(func.count(AuditEvent.id))
    if action:
        query = query.where(AuditEvent.action == action)
        count = count.where(AuditEvent.action == action)
    events = db.session.scalars(
        query.options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    )
    return list(events), db.session.scalar(count)


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
