"""One rule for when a module is overdue (laks.due): a unit's steps (laks.queries) and the
overview's SQL (filter, lists, counts) give the same answer for every combination of
programme status, closed unit, state and due date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from laks import queries
from laks.enums import MODULE_KEYS, ModuleState, ProgrammeStatus
from laks.extensions import db
from laks.models import UnitModule, utcnow
from laks.services import overview, overview_needs


@pytest.fixture
def grid(make_unit, make_programme):
    """Every state (and no saved module at all) in units of a running and a closed
    programme, open and closed; modules 1–3 are past their due date, 4–5 not yet."""
    today = date.today()
    units = []
    for status in ProgrammeStatus:
        programme = make_programme(status=status, starts_on=today - timedelta(days=400),
                                   ends_on=today + timedelta(days=400))
        for position, due in enumerate(programme.module_dues, start=1):
            due.due_on = today + timedelta(days=-30 + 10 * position if position > 3
                                           else -100 + 10 * position)
        for closed in (False, True):
            for state in (None, *ModuleState):
                unit = make_unit(programme=programme,
                                 closed_at=utcnow() if closed else None)
                if state is not None:
                    for key in MODULE_KEYS:
                        db.session.add(UnitModule(unit=unit, module_key=key, state=state,
                                                  answers={}))
                units.append(unit)
    db.session.commit()
    return units


def test_overview_due_rule_is_the_same_in_python_and_sql(grid):
    today = date.today()
    in_python = {(unit.id, step.key) for unit in grid
                 for step in queries.module_steps(unit, today) if step.overdue}
    in_sql = {(row.unit_id, key) for key in MODULE_KEYS
              for row in overview.matrix_rows(
                  overview.Scope(), overview.Filters(state=overview.OVERDUE, module=key))}
    in_cells = {(row.unit_id, cell.key) for row in overview.matrix_rows(
        overview.Scope(), overview.Filters()) for cell in row.cells if cell.overdue}
    # Running programme, open unit, modules 1–3, editable states (none saved, draft,
    # changes requested; "not started" saved too): 4 units × 3 modules.
    assert len(in_python) == 4 * 3
    assert in_sql == in_python == in_cells
    needs = overview_needs.needs(overview.Scope(), overview.Filters())
    assert needs.overdue_total == len(in_python) and needs.overdue_units == 4
