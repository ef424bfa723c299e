"""When a module is overdue: the one rule, in two forms kept side by side.

A module is overdue when its due date has passed while it can still be edited (not started,
a draft, or changes requested) – and only while its programme runs and its unit is open:
nothing in a closed programme or a closed unit is overdue.

:func:`is_overdue` decides it for one module in memory (a unit's steps,
``laks.queries.steps_for``); :func:`overdue_clause` says the same in SQL, so that the
overviews count and filter a thousand units in the database without loading them
(``laks.services.overview``). A test holds the two to the same answers.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, func

from laks.enums import EDITABLE_STATES, ModuleState, ProgrammeStatus


def due_dates_apply(*, running: bool, closed: bool) -> bool:
    """Whether a unit's due dates count: its programme is ``running`` and the unit is not
    ``closed``."""
    return running and not closed


def is_overdue(*, applies: bool, due_on: date | None, state: ModuleState,
               today: date) -> bool:
    """Whether a module in ``state``, due on ``due_on``, is overdue on ``today``; ``applies``
    is :func:`due_dates_apply` of its programme and unit."""
    return applies and due_on is not None and due_on < today and state.editable


def overdue_clause(*, programme_status, unit_closed_at, due_on, state,
                   today: date) -> ColumnElement[bool]:
    """:func:`is_overdue` as SQL over the given columns. ``state`` may be NULL: a module
    that has no saved row is not started."""
    editable = [s.value for s in EDITABLE_STATES]
    return and_(
        programme_status == ProgrammeStatus.RUNNING,
        unit_closed_at.is_(None),
        due_on.is_not(None),
        due_on < today,
        func.coalesce(state, ModuleState.NOT_STARTED.value).in_(editable),
    )
