"""Totals for the steering group, read-only: per programme and municipality the units, the
units per state of each module, and the units' equity reach summed – shown outside the
units, so with the small-number rule (counts of 1–4 citizens as "<5")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select

from laks.enums import MODULE_KEYS, ModuleState, ProgrammeStatus
from laks.extensions import db
from laks.models import Municipality, Programme, Unit, UnitModule, utcnow
from laks.services.overview import Filters, Scope, danish_key, units_query
from laks.services.testlog import MODULE_KEY as REACH_MODULE_KEY
from laks.services.testlog_charts import ReachRow, reach_summary


@dataclass
class Tally:
    """Units per state of each module, and the units' equity reach summed (the eight
    counts of laks.testlog.REACH_FIELDS; a unit's reach is the sum of its dated sets)."""

    units: int = 0
    states: dict[str, dict[ModuleState, int]] = field(
        default_factory=lambda: {key: dict.fromkeys(ModuleState, 0) for key in MODULE_KEYS})
    reach: dict[str, int] = field(default_factory=dict)

    def add_units(self, n: int) -> None:
        self.units += n
        for key in MODULE_KEYS:
            self.states[key][ModuleState.NOT_STARTED] += n

    def add_state(self, key: str, state: ModuleState, n: int) -> None:
        if state != ModuleState.NOT_STARTED:
            self.states[key][state] += n
            self.states[key][ModuleState.NOT_STARTED] -= n

    def add_reach(self, counts: dict[str, int]) -> None:
        for name, value in counts.items():
            self.reach[name] = self.reach.get(name, 0) + value


@dataclass
class MunicipalityTotals:
    municipality_id: int
    name: str
    tally: Tally


@dataclass
class ProgrammeTotals:
    programme_id: int
    name: str
    running: bool
    tally: Tally
    municipalities: list[MunicipalityTotals]

    def reach_rows(self) -> list[ReachRow]:
        """The reach per municipality that has recorded any, then the programme's (named
        None), with the small-number rule: this is shown outside the units."""
        named = [(place.name, place.tally.reach) for place in self.municipalities
                 if place.tally.reach]
        if not named:
            return []
        return reach_summary([{**reach, "date": name}
                              for name, reach in [*named, (None, self.tally.reach)]],
                             public=True)


def _reach_counts(sets) -> dict[str, int]:
    """The eight reach counts summed over a unit's dated sets; anything that is not a
    whole number is left out (the reach is checked when it is typed)."""
    from laks.testlog import REACH_FIELDS

    counts: dict[str, int] = {}
    for reach_set in sets if isinstance(sets, list) else []:
        if not isinstance(reach_set, dict):
            continue
        for name in REACH_FIELDS:
            value = reach_set.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                counts[name] = counts.get(name, 0) + value
    return counts


def all_programmes() -> list[Programme]:
    """Every programme, running ones first, newest first (one query, no units)."""
    return list(db.session.scalars(select(Programme).order_by(
        case((Programme.status == ProgrammeStatus.RUNNING, 0), else_=1),
        Programme.starts_on.desc(), Programme.name)))


def totals(filters: Filters, *, reach: bool = True, today: date | None = None,
           now: datetime | None = None) -> list[ProgrammeTotals]:
    """Per programme (newest first) and municipality (in Danish order): the units, the
    units per state of each module, and (with ``reach``) the units' equity reach summed.
    Three queries: the units counted, the states counted, the reach of module 4 (that key
    alone)."""
    today, now = today or date.today(), now or utcnow()
    whole = Scope()
    unit_ids = units_query(whole, Filters(filters.programme_id, filters.municipality_id),
                      today, now)
    programmes: dict[int, ProgrammeTotals] = {}
    places: dict[tuple[int, int], MunicipalityTotals] = {}
    for row in db.session.execute(
            select(Programme.id, Programme.name, Programme.status, Programme.starts_on,
                   Municipality.id.label("municipality_id"),
                   Municipality.name.label("municipality"), func.count(Unit.id).label("n"))
            .join(Unit, Unit.programme_id == Programme.id)
            .join(Municipality, Municipality.id == Unit.municipality_id)
            .where(Unit.id.in_(unit_ids))
            .group_by(Programme.id, Programme.name, Programme.status, Programme.starts_on,
                      Municipality.id, Municipality.name)
            .order_by(Programme.starts_on.desc(), Programme.name)):
        programme = programmes.setdefault(row.id, ProgrammeTotals(
            row.id, row.name, row.status == ProgrammeStatus.RUNNING, Tally(), []))
        place = MunicipalityTotals(row.municipality_id, row.municipality, Tally())
        programme.municipalities.append(place)
        places[(row.id, row.municipality_id)] = place
        for tally in (programme.tally, place.tally):
            tally.add_units(row.n)
    for row in db.session.execute(
            select(Unit.programme_id, Unit.municipality_id, UnitModule.module_key,
                   UnitModule.state, func.count(UnitModule.id).label("n"))
            .join(Unit, Unit.id == UnitModule.unit_id).where(Unit.id.in_(unit_ids))
            .group_by(Unit.programme_id, Unit.municipality_id, UnitModule.module_key,
                      UnitModule.state)):
        for tally in (programmes[row.programme_id].tally,
                      places[(row.programme_id, row.municipality_id)].tally):
            tally.add_state(row.module_key, row.state, row.n)
    if reach:
        for row in db.session.execute(
                select(Unit.programme_id, Unit.municipality_id,
                       UnitModule.answers["reach"].label("reach"))
                .join(Unit, Unit.id == UnitModule.unit_id)
                .where(UnitModule.module_key == REACH_MODULE_KEY, Unit.id.in_(unit_ids))):
            counts = _reach_counts(row.reach)
            for tally in (programmes[row.programme_id].tally,
                          places[(row.programme_id, row.municipality_id)].tally):
                tally.add_reach(counts)
    for programme in programmes.values():
        programme.municipalities.sort(key=lambda place: danish_key(place.name))
    return list(programmes.values())
