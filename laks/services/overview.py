"""Progress at a glance, read-only: whose units an overview covers, its filters, and the
matrix of units × modules; the rules the other overviews share (laks.services.
overview_needs: what needs someone; overview_totals: the totals for the steering group).

Everything is counted and filtered in the database, selecting only the columns a page
shows – never a module's answers – in a fixed number of queries, whatever the number of
units: a page's work grows with the page (:data:`PAGE_SIZE` units), not with the network.
Whose units: a facilitator sees the units they facilitate; the network admin and observers
see every unit (:class:`Scope`). The views check access with ``laks.access`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, select, union_all

from laks.due import due_dates_apply, is_overdue, overdue_clause
from laks.enums import MODULE_KEYS, MODULE_STATE_LABELS, ModuleState, ProgrammeStatus, Role
from laks.extensions import db
from laks.models import (
    Membership,
    ModuleDue,
    Municipality,
    Programme,
    StateChange,
    Unit,
    UnitModule,
    User,
    utcnow,
)
from laks.models.base import UTCDateTime
from laks.paging import page_of
from laks.services.progress import latest_scores

#: Units on one page of the matrix.
PAGE_SIZE = 50
#: A unit without activity for this long needs someone to ask how it is going.
INACTIVE_DAYS = 30

#: The state filter: a module state, or what needs someone.
OVERDUE, INACTIVE = "overdue", "inactive"
STATE_FILTER_LABELS = {
    **{state.value: label for state, label in MODULE_STATE_LABELS.items()},
    OVERDUE: _l("Overdue"),
    INACTIVE: _l("No activity for a month"),
}
#: How the matrix can be sorted, by the query string's word.
SORTS = {
    "enhed": _l("Municipality and unit"),
    "forloeb": _l("Programme"),
    "venter": _l("Waiting longest for review"),
    "aktivitet": _l("Longest without activity"),
}
DEFAULT_SORT = "enhed"
#: The query string's names of the filters, and what the page calls them.
FILTER_LABELS = {
    "forloeb": _l("Programme"),
    "kommune": _l("Municipality"),
    "tilstand": _l("State"),
    "modul": _l("Module"),
    "sortering": _l("Sort by"),
}


# --- whose units, and the filters --------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose units an overview shows: a facilitator's own (``facilitator_id``), or every
    unit of the network (None)."""

    facilitator_id: int | None = None


def scope_for(user: User) -> Scope:
    """A facilitator sees the units they facilitate; the admin and observers every unit."""
    return Scope(user.id if user.role == Role.FACILITATOR else None)


@dataclass
class Choices:
    """What the filters offer: only programmes and municipalities the scope has units in."""

    programmes: list[tuple[int, str]]
    municipalities: list[tuple[int, str]]


@dataclass
class Filters:
    """The filters chosen, each checked against :class:`Choices`. ``ignored``: (filter,
    value) pairs that were not among the choices, for a note on the page."""

    programme_id: int | None = None
    municipality_id: int | None = None
    state: str | None = None
    module: str | None = None
    sort: str = DEFAULT_SORT
    ignored: list[tuple[str, str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any((self.programme_id, self.municipality_id, self.state, self.module))

    def args(self, **changes) -> dict[str, str]:
        """The filters as a query string's arguments (for links that keep them)."""
        values = {"forloeb": self.programme_id, "kommune": self.municipality_id,
                  "tilstand": self.state, "modul": self.module,
                  "sortering": self.sort if self.sort != DEFAULT_SORT else None}
        values.update(changes)
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def _scoped(query, scope: Scope):
    if scope.facilitator_id is not None:
        query = query.where(Unit.id.in_(
            select(Membership.unit_id).where(Membership.user_id == scope.facilitator_id)))
    return query


def filter_choices(scope: Scope) -> Choices:
    """The programmes (newest first) and municipalities (in Danish order) of the scope's
    units: two queries."""
    programmes = db.session.execute(_scoped(
        # PostgreSQL orders DISTINCT rows only by what they hold: the start date goes along.
        select(Programme.id, Programme.name, Programme.starts_on)
        .join(Unit, Unit.programme_id == Programme.id)
        .distinct(), scope).order_by(Programme.starts_on.desc(), Programme.name))
    municipalities = db.session.execute(_scoped(
        select(Municipality.id, Municipality.name)
        .join(Unit, Unit.municipality_id == Municipality.id).distinct(), scope))
    return Choices([(row.id, row.name) for row in programmes],
                   sorted((tuple(row) for row in municipalities),
                          key=lambda row: danish_key(row[1])))


def read_filters(args: Mapping[str, str], choices: Choices, *,
                 states: bool = True) -> Filters:
    """The filters in a query string. A value that is not one of the choices – a
    programme the person has no unit in, a state that does not exist – is ignored and
    listed, never an error. Without ``states``, only programme and municipality count."""
    chosen = Filters()

    def pick(key: str, allowed: dict):
        raw = (args.get(key) or "").strip()
        if not raw:
            return None
        if raw in allowed:
            return allowed[raw]
        chosen.ignored.append((key, raw[:60]))
        return None

    chosen.programme_id = pick("forloeb", {str(pid): pid for pid, _n in choices.programmes})
    chosen.municipality_id = pick("kommune",
                                  {str(mid): mid for mid, _n in choices.municipalities})
    if states:
        chosen.state = pick("tilstand", {key: key for key in STATE_FILTER_LABELS})
        chosen.module = pick("modul", {key: key for key in MODULE_KEYS})
        chosen.sort = pick("sortering", {key: key for key in SORTS}) or DEFAULT_SORT
    return chosen


def danish_key(text: str) -> str:
    """A name as Danish readers sort it: Æ, Ø, Å last, "Aa" as Å (the same order as
    :func:`_danish` gives in SQL)."""
    text = text.lower()
    for letters, stand_in in _DANISH:
        text = text.replace(letters, stand_in)
    return text


#: Danish letters and the characters after "z" that stand in for them when sorting.
_DANISH = (("æ", "{"), ("ø", "|"), ("aa", "}"), ("å", "}"))


def danish_order(column):
    """``column`` in Danish order, in SQL on both databases (SQLite's lower() knows only
    ASCII, so the capitals are replaced too)."""
    expr = func.lower(column)
    for letters, stand_in in (*_DANISH, ("Æ", "{"), ("Ø", "|"), ("Å", "}")):
        expr = func.replace(expr, letters, stand_in)
    return expr


# --- the units an overview covers --------------------------------------------------------


def overdue_rows(today: date):
    """(unit, module, due date) of every overdue module, as a select to filter or count."""
    return (
        select(Unit.id.label("unit_id"), ModuleDue.module_key.label("module_key"),
               ModuleDue.due_on.label("due_on"), UnitModule.state.label("state"))
        .join(Programme, Programme.id == Unit.programme_id)
        .join(ModuleDue, ModuleDue.programme_id == Unit.programme_id)
        .outerjoin(UnitModule, and_(UnitModule.unit_id == Unit.id,
                                    UnitModule.module_key == ModuleDue.module_key))
        .where(overdue_clause(programme_status=Programme.status,
                              unit_closed_at=Unit.closed_at, due_on=ModuleDue.due_on,
                              state=UnitModule.state, today=today))
    )


def _active_since(cutoff: datetime):
    """Units with a save or a workflow step since ``cutoff``."""
    saved = select(UnitModule.unit_id).where(UnitModule.updated_at >= cutoff)
    stepped = (select(UnitModule.unit_id)
               .join(StateChange, StateChange.unit_module_id == UnitModule.id)
               .where(StateChange.at >= cutoff))
    return union_all(saved, stepped)


def _approved_count():
    return (select(func.count(UnitModule.id))
            .where(UnitModule.unit_id == Unit.id, UnitModule.state == ModuleState.APPROVED)
            .scalar_subquery())


def _inactive_condition(today: date, now: datetime):
    """A unit needs someone when it has done nothing for :data:`INACTIVE_DAYS`: in a
    running programme that started that long ago, open, not done with every module."""
    cutoff = now - timedelta(days=INACTIVE_DAYS)
    return and_(
        Unit.programme_id.in_(select(Programme.id).where(
            Programme.status == ProgrammeStatus.RUNNING,
            Programme.starts_on <= today - timedelta(days=INACTIVE_DAYS))),
        Unit.closed_at.is_(None),
        _approved_count() < len(MODULE_KEYS),
        Unit.id.not_in(_active_since(cutoff)),
    )


def _state_condition(state: str, module: str | None, today: date, now: datetime):
    if state == OVERDUE:
        rows = overdue_rows(today).subquery()
        query = select(rows.c.unit_id)
        if module:
            query = query.where(rows.c.module_key == module)
        return Unit.id.in_(query)
    if state == INACTIVE:
        return _inactive_condition(today, now)
    in_module = [UnitModule.module_key == module] if module else []
    if state == ModuleState.NOT_STARTED.value:
        started = (select(func.count(UnitModule.id))
                   .where(UnitModule.unit_id == Unit.id,
                          UnitModule.state != ModuleState.NOT_STARTED, *in_module)
                   .scalar_subquery())
        return started < (1 if module else len(MODULE_KEYS))
    return exists().where(UnitModule.unit_id == Unit.id,
                          UnitModule.state == ModuleState(state), *in_module)


def units_query(scope: Scope, filters: Filters, today: date, now: datetime, query=None):
    """``query`` (by default the units' ids) narrowed to the scope and the filters."""
    query = _scoped(query if query is not None else select(Unit.id), scope)
    if filters.programme_id is not None:
        query = query.where(Unit.programme_id == filters.programme_id)
    if filters.municipality_id is not None:
        query = query.where(Unit.municipality_id == filters.municipality_id)
    if filters.state:
        query = query.where(_state_condition(filters.state, filters.module, today, now))
    return query


# --- the matrix ---------------------------------------------------------------------------


@dataclass
class Cell:
    """One module of one unit, as the matrix shows it."""

    key: str
    state: ModuleState
    due_on: date | None
    overdue: bool
    updated_at: datetime | None
    waiting_since: datetime | None  # a submitted module: when it was submitted
    waiting_days: int | None = None  # … and for how many whole days it has waited


@dataclass
class Row:
    """One unit of the matrix: its five modules and when anything last happened in it."""

    unit_id: int
    name: str
    municipality: str
    programme_id: int
    programme: str
    programme_running: bool
    closed_at: datetime | None
    cells: list[Cell]
    last_activity: datetime | None
    #: The facilitator's latest progress score on the IHI scale, in half steps (1–10).
    score_half_steps: int | None = None

    @property
    def score(self) -> float | None:
        return self.score_half_steps / 2 if self.score_half_steps else None


@dataclass
class MatrixPage:
    rows: list[Row]
    total: int
    page: int
    pages: int


def submitted_at(module=UnitModule):
    """When a module was last submitted: its latest 'submit' step (the time it has waited
    for review since, while it is submitted)."""
    return (select(func.max(StateChange.at)).where(StateChange.unit_module_id == module.id,
                                                   StateChange.action == "submit")
            .scalar_subquery())


def _last_step_at(module=UnitModule):
    return (select(func.max(StateChange.at)).where(StateChange.unit_module_id == module.id)
            .scalar_subquery())


def last_activity():
    """Each unit's last activity – its latest save or workflow step – as a subquery."""
    moments = union_all(
        select(UnitModule.unit_id.label("unit_id"), UnitModule.updated_at.label("at")),
        select(UnitModule.unit_id, StateChange.at)
        .join(StateChange, StateChange.unit_module_id == UnitModule.id),
    ).subquery()
    return (select(moments.c.unit_id, func.max(moments.c.at, type_=UTCDateTime).label("at"))
            .group_by(moments.c.unit_id).subquery())


def _waiting():
    """Each unit's oldest submission still waiting for review, as a subquery."""
    submitted = (select(UnitModule.unit_id.label("unit_id"),
                        func.coalesce(submitted_at(), UnitModule.submitted_at).label("at"))
                 .where(UnitModule.state == ModuleState.SUBMITTED).subquery())
    return (select(submitted.c.unit_id, func.min(submitted.c.at, type_=UTCDateTime)
                   .label("at")).group_by(submitted.c.unit_id).subquery())


def days_since(now: datetime, since: datetime | None) -> int | None:
    """Whole days from ``since`` to ``now`` (None for no moment)."""
    return max((now - since).days, 0) if since is not None else None


def nulls_first(column):
    return case((column.is_(None), 0), else_=1)


def _ordered(query, sort: str):
    by_name = (danish_order(Municipality.name), danish_order(Unit.name), Unit.id)
    if sort == "forloeb":
        return query.order_by(Programme.starts_on.desc(), Programme.name, *by_name)
    if sort == "aktivitet":
        activity = last_activity()
        return (query.outerjoin(activity, activity.c.unit_id == Unit.id)
                .order_by(nulls_first(activity.c.at), activity.c.at, *by_name))
    if sort == "venter":
        waiting = _waiting()
        return (query.outerjoin(waiting, waiting.c.unit_id == Unit.id)
                .order_by(nulls_first(waiting.c.at).desc(), waiting.c.at, *by_name))
    return query.order_by(*by_name)


def _unit_rows(scope: Scope, filters: Filters, today: date, now: datetime, *,
               limit: int | None = None, offset: int = 0):
    query = units_query(scope, filters, today, now, select(
        Unit.id, Unit.name, Unit.closed_at, Municipality.name.label("municipality"),
        Programme.id.label("programme_id"), Programme.name.label("programme"),
        Programme.status).join(Municipality, Municipality.id == Unit.municipality_id)
        .join(Programme, Programme.id == Unit.programme_id))
    query = _ordered(query, filters.sort)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(db.session.execute(query))


def _rows(units, today: date, now: datetime) -> list[Row]:
    """The matrix's rows for the given units: three queries (their modules, their
    programmes' due dates, their latest progress scores), whatever their number."""
    ids = [unit.id for unit in units]
    scores = latest_scores(ids)
    modules = db.session.execute(
        select(UnitModule.unit_id, UnitModule.module_key, UnitModule.state,
               UnitModule.updated_at, submitted_at().label("submitted_at"),
               UnitModule.submitted_at.label("submitted_at_column"),
               _last_step_at().label("last_step_at"))
        .where(UnitModule.unit_id.in_(ids)))
    saved = {(m.unit_id, m.module_key): m for m in modules}
    dues = {(d.programme_id, d.module_key): d.due_on for d in db.session.execute(
        select(ModuleDue.programme_id, ModuleDue.module_key, ModuleDue.due_on)
        .where(ModuleDue.programme_id.in_({unit.programme_id for unit in units})))}
    rows = []
    for unit in units:
        running = unit.status == ProgrammeStatus.RUNNING
        applies = due_dates_apply(running=running, closed=unit.closed_at is not None)
        cells, moments = [], []
        for key in MODULE_KEYS:
            module = saved.get((unit.id, key))
            state = module.state if module is not None else ModuleState.NOT_STARTED
            due_on = dues.get((unit.programme_id, key))
            waiting = None
            if module is not None:
                moments += [m for m in (module.updated_at, module.last_step_at) if m]
                if state == ModuleState.SUBMITTED:
                    waiting = module.submitted_at or module.submitted_at_column
            cells.append(Cell(key, state, due_on, is_overdue(
                applies=applies, due_on=due_on, state=state, today=today),
                module.updated_at if module is not None else None, waiting,
                days_since(now, waiting)))
        score = scores.get(unit.id)
        rows.append(Row(unit.id, unit.name, unit.municipality, unit.programme_id,
                        unit.programme, running, unit.closed_at, cells,
                        max(moments, default=None),
                        score.half_steps if score is not None else None))
    return rows


def count_units(scope: Scope, filters: Filters | None = None, *,
                today: date | None = None, now: datetime | None = None) -> int:
    """How many units the scope and the filters cover: one query."""
    today, now = today or date.today(), now or utcnow()
    query = units_query(scope, filters or Filters(), today, now)
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def matrix_page(scope: Scope, filters: Filters, page: int = 1, *,
                today: date | None = None, now: datetime | None = None,
                page_size: int = PAGE_SIZE) -> MatrixPage:
    """One page of the matrix, sorted as the filters say; a page past the end is the last
    page. Four queries, whatever the number of units."""
    today, now = today or date.today(), now or utcnow()
    total = count_units(scope, filters, today=today, now=now)
    page, pages = page_of(total, page, page_size)
    units = _unit_rows(scope, filters, today, now, limit=page_size,
                       offset=(page - 1) * page_size)
    return MatrixPage(_rows(units, today, now), total, page, pages)


def matrix_rows(scope: Scope, filters: Filters, *, today: date | None = None,
                now: datetime | None = None) -> list[Row]:
    """Every row of the matrix the filters select (for the export): three queries."""
    today, now = today or date.today(), now or utcnow()
    return _rows(_unit_rows(scope, filters, today, now), today, now)
