"""A unit's test log: its PDSA cycles, measures, data points and equity reach, kept in the
answers of module 4 (Afprøvning).

Keeping them in the module's answers makes every change a module revision like any other
answer (who changed what, when, and the diff), locks them with the module when it is
submitted or approved, and guards them with the module's optimistic locking: every write
here names the version it started from and goes through laks.services.modules.save_answers.
The checks of what people type or import are laks.testlog's; the charts laks.runchart's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, text

from laks.access import require
from laks.audit import record
from laks.extensions import db
from laks.models import Programme, SharedMeasure, Unit, UnitModule, User
from laks.privacy import small_count
from laks.rendering import format_iso_date
from laks.services import modules as module_service

MODULE_KEY = "afproevning"
#: The answers of module 4 that are the test log's and not questions of its definition.
ANSWER_KEYS = ("measures", "points", "reach")


@dataclass
class TestLog:
    """What module 4's answers hold, read once."""

    unit_module: UnitModule
    cycles: list[dict] = field(default_factory=list)
    measures: list[dict] = field(default_factory=list)
    points: dict[str, list[dict]] = field(default_factory=dict)
    reach: list[dict] = field(default_factory=list)

    def measure(self, key: str) -> dict | None:
        return next((m for m in self.measures if m["key"] == key), None)

    @property
    def version(self) -> int:
        return self.unit_module.version or 0


def test_log(unit: Unit) -> TestLog:
    """The unit's test log (an empty one before module 4 is started)."""
    unit_module = module_service.unit_module_for(unit, MODULE_KEY)
    answers = unit_module.answers or {}
    return TestLog(
        unit_module=unit_module,
        cycles=[c for c in answers.get("cycles") or [] if isinstance(c, dict)],
        measures=[m for m in answers.get("measures") or [] if isinstance(m, dict)],
        points={k: list(v) for k, v in (answers.get("points") or {}).items()
                if isinstance(v, list)},
        reach=[r for r in answers.get("reach") or [] if isinstance(r, dict)],
    )


def shared_measures(unit: Unit) -> list[dict]:
    """The measures the unit's programme asks every unit for, as the unit's log holds its
    own (keys "f-<key>")."""
    return [m.as_measure() for m in unit.programme.shared_measures] if unit.programme else []


def _save(log: TestLog, changes: dict, actor: User, base_version: int):
    return module_service.save_answers(log.unit_module, changes, actor=actor,
                                       base_version=base_version)


# --- cycles ------------------------------------------------------------------------------------


def save_cycle(log: TestLog, number: int | None, cycle: dict, *, actor: User,
               base_version: int) -> int:
    """Store cycle ``number`` (1-based), or a new last cycle when ``number`` is None;
    returns its number. Raises LookupError for a cycle that does not exist."""
    cycles = [dict(c) for c in log.cycles]
    if number is None:
        cycles.append(cycle)
        number = len(cycles)
    elif 1 <= number <= len(cycles):
        cycles[number - 1] = cycle
    else:
        raise LookupError(number)
    _save(log, {"cycles": cycles}, actor, base_version)
    return number


# --- measures and points ---------------------------------------------------------------------


def measure_key(name: str, taken: set[str]) -> str:
    """A stable key for a new measure: "m-" and its name as ASCII, made unique."""
    danish = name.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    ascii_name = unicodedata.normalize("NFKD", danish).encode("ascii", "ignore").decode()
    stem = "m-" + (re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:30] or "maaling")
    key, n = stem, 2
    while key in taken:
        key, n = f"{stem}-{n}", n + 1
    return key


def add_measure(log: TestLog, measure: dict, *, actor: User, base_version: int,
                shared: str | None = None) -> dict:
    """Add a measure (as laks.testlog.check_measure returns it); returns it with its key."""
    stored = {**measure, "key": measure_key(measure["name"], {m["key"] for m in log.measures}),
              "shared": shared}
    _save(log, {"measures": [*log.measures, stored]}, actor, base_version)
    return stored


def update_measure(log: TestLog, key: str, measure: dict, *, actor: User,
                   base_version: int) -> None:
    """Change a measure's name, direction, goal or baseline (not its kind: its points are
    of that kind). Raises LookupError for an unknown key."""
    old = log.measure(key)
    if old is None:
        raise LookupError(key)
    new = {**old, **{k: v for k, v in measure.items() if k not in ("key", "kind", "shared")}}
    _save(log, {"measures": [new if m["key"] == key else m for m in log.measures]}, actor,
          base_version)


def delete_measure(log: TestLog, key: str, *, actor: User, base_version: int) -> None:
    """Remove a measure and its points (the module's revisions keep them)."""
    if log.measure(key) is None:
        raise LookupError(key)
    points = {k: v for k, v in log.points.items() if k != key}
    _save(log, {"measures": [m for m in log.measures if m["key"] != key], "points": points},
          actor, base_version)


def add_points(log: TestLog, measure: dict, new: list[dict], *, actor: User,
               base_version: int) -> tuple[int, int]:
    """Add data points to ``measure`` (the unit's own or a shared one of its programme);
    a point on a date that already has one replaces it. Returns (added, replaced)."""
    key = measure["key"]
    by_date = {p["date"]: p for p in log.points.get(key, [])}
    replaced = sum(1 for p in new if p["date"] in by_date)
    by_date.update({p["date"]: p for p in new})
    points = {**log.points, key: [by_date[d] for d in sorted(by_date)]}
    _save(log, {"points": points}, actor, base_version)
    return len(new) - replaced, replaced


def delete_point(log: TestLog, key: str, on: str, *, actor: User, base_version: int) -> None:
    """Remove measure ``key``'s point of the date ``on`` (ISO). LookupError if none."""
    points = log.points.get(key, [])
    kept = [p for p in points if p["date"] != on]
    if len(kept) == len(points):
        raise LookupError(on)
    _save(log, {"points": {**log.points, key: kept}}, actor, base_version)


def add_reach(log: TestLog, rows: list[dict], *, actor: User,
              base_version: int) -> tuple[int, int]:
    """Add equity-reach rows (one per date; a date that has one is replaced)."""
    by_date = {r["date"]: r for r in log.reach}
    replaced = sum(1 for r in rows if r["date"] in by_date)
    by_date.update({r["date"]: r for r in rows})
    _save(log, {"reach": [by_date[d] for d in sorted(by_date)]}, actor, base_version)
    return len(rows) - replaced, replaced


def delete_reach(log: TestLog, on: str, *, actor: User, base_version: int) -> None:
    kept = [r for r in log.reach if r["date"] != on]
    if len(kept) == len(log.reach):
        raise LookupError(on)
    _save(log, {"reach": kept}, actor, base_version)


# --- values as charts and tables show them ---------------------------------------------------


def point_value(measure: dict, point: dict) -> float | None:
    """The number a point puts on the chart: the count, or the proportion in percent."""
    if measure["kind"] == "proportion":
        denominator = point.get("denominator") or 0
        return 100 * point.get("numerator", 0) / denominator if denominator else None
    value = point.get("value")
    return float(value) if value is not None else None


def point_label(measure: dict, point: dict, *, public: bool) -> str:
    """A point as text: "12", "3 / 10 (30 %)"; outside the unit (``public``) counts of 1–4
    are "<5", and a proportion with such a numerator or denominator is not shown as a
    percentage either (it would give the count away)."""
    if measure["kind"] == "proportion":
        numerator, denominator = point.get("numerator", 0), point.get("denominator", 0)
        if public and (1 <= numerator <= 4 or 1 <= denominator <= 4):
            return f"{small_count(numerator)} / {small_count(denominator)}"
        value = point_value(measure, point)
        percent = f"{value:.0f} %" if value is not None else "–"
        return f"{numerator} / {denominator} ({percent})"
    value = point.get("value")
    if value is None:
        return ""
    if public and float(value).is_integer():
        return small_count(int(value))
    return format_number(value)


def format_number(value) -> str:
    """12 → "12", 12.5 → "12,5" (a Danish decimal comma)."""
    value = float(value)
    return f"{value:.0f}" if value.is_integer() else f"{value:.1f}".replace(".", ",")


def suppressed(measure: dict, point: dict) -> bool:
    """Whether a point may not be drawn at its value outside the unit (the small-number
    rule: a count of 1–4 citizens, or a proportion of 1–4 of them or out of 1–4)."""
    if measure["kind"] == "proportion":
        numerator, denominator = point.get("numerator", 0), point.get("denominator", 0)
        return 1 <= numerator <= 4 or 1 <= denominator <= 4
    value = point.get("value")
    return value is not None and float(value).is_integer() and 1 <= float(value) <= 4


def parse_iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def programme_period(programme: Programme | None) -> tuple[date | None, date | None]:
    """The dates a unit's data points must fall within."""
    if programme is None:
        return None, None
    return programme.starts_on, programme.ends_on


# --- shared measures (fælles målinger) --------------------------------------------------------


def add_shared_measure(programme: Programme, measure: dict, *, actor: User) -> SharedMeasure:
    """Ask every unit of ``programme`` to report a measure (as check_measure returns it)."""
    require(actor, "programme.measures", programme)
    taken = {m.key for m in programme.shared_measures}
    key = measure_key(measure["name"], taken)[2:]  # "f-" is added where units store it
    shared = SharedMeasure(programme=programme, key=key, name=measure["name"],
                           kind=measure["kind"], better=measure["better"],
                           goal=measure.get("goal"),
                           position=len(programme.shared_measures) + 1)
    db.session.add(shared)
    db.session.flush()
    record(actor, "programme.shared_measure_add", programme, measure=shared.name)
    return shared


def delete_shared_measure(shared: SharedMeasure, *, actor: User) -> None:
    """Stop asking for a shared measure. What units reported stays in their test logs."""
    require(actor, "programme.measures", shared.programme)
    record(actor, "programme.shared_measure_delete", shared.programme, measure=shared.name)
    db.session.delete(shared)
    db.session.flush()


@dataclass
class SharedRow:
    """One unit's report of a shared measure, as the programme's overview shows it."""

    unit: Unit
    points: int
    latest: str  # the latest measurement, with its date ("" if none)
    total: str  # counts summed, or numerators over denominators, with the small-number rule


@dataclass
class SharedOverview:
    measure: SharedMeasure
    rows: list[SharedRow]
    total: str  # across the units, with the small-number rule


def shared_overview(programme: Programme, units: list[Unit]) -> list[SharedOverview]:
    """Each shared measure of ``programme`` with ``units`` (one page of its units) side by
    side, and the sum across all its units – counted in the database, so that a programme
    of a thousand units reads the answers of one page, not of a thousand. Shown to the
    network and the observers – outside the units – so counts of 1–4 are "<5" (a total
    too)."""
    answers = dict(db.session.execute(
        select(UnitModule.unit_id, UnitModule.answers).where(
            UnitModule.unit_id.in_([u.id for u in units]),
            UnitModule.module_key == MODULE_KEY)).all())
    measures = [shared.as_measure() for shared in programme.shared_measures]
    totals = shared_totals(programme.id, [m["key"] for m in measures])
    out = []
    for shared, measure in zip(programme.shared_measures, measures, strict=True):
        rows = []
        for unit in units:
            points = [p for p in ((answers.get(unit.id) or {}).get("points") or {}).get(
                measure["key"], []) if isinstance(p, dict)]
            latest = ""
            if points:
                last = max(points, key=lambda p: p.get("date", ""))
                latest = (f"{point_label(measure, last, public=True)} "
                          f"({format_iso_date(last.get('date', ''))})")
            rows.append(SharedRow(unit, len(points), latest,
                                  _sum_label(measure, _sum(measure, points)) if points else ""))
        total = totals.get(measure["key"], (0, 0, 0))
        sums = (total[0], total[1]) if measure["kind"] == "proportion" else (total[2], 0)
        out.append(SharedOverview(shared, rows, _sum_label(measure, sums)))
    return out


#: The sums of the shared measures' data points across a programme's units, one statement
#: per database: each unit's points are a list under answers → points → the measure's key.
_TOTALS_SQL = {
    "sqlite": """
        SELECT m.key, SUM(json_extract(p.value, '$.numerator')),
               SUM(json_extract(p.value, '$.denominator')), SUM(json_extract(p.value, '$.value'))
        FROM unit_module AS um JOIN unit AS u ON u.id = um.unit_id,
             json_each(um.answers, '$.points') AS m, json_each(m.value) AS p
        WHERE u.programme_id = :programme AND um.module_key = :module
          AND m.type = 'array' AND p.type = 'object'
        GROUP BY m.key""",
    "postgresql": """
        SELECT m.key, SUM((p.value->>'numerator')::numeric),
               SUM((p.value->>'denominator')::numeric), SUM((p.value->>'value')::numeric)
        FROM unit_module AS um JOIN unit AS u ON u.id = um.unit_id
             CROSS JOIN LATERAL json_each(CASE WHEN json_typeof(um.answers->'points') = 'object'
                                          THEN um.answers->'points' END) AS m
             CROSS JOIN LATERAL json_array_elements(CASE WHEN json_typeof(m.value) = 'array'
                                                    THEN m.value END) AS p(value)
        WHERE u.programme_id = :programme AND um.module_key = :module
          AND json_typeof(p.value) = 'object'
        GROUP BY m.key""",
}


def shared_totals(programme_id: int, keys: list[str]) -> dict[str, tuple[float, int, float]]:
    """Per shared measure key: the sums of its numerators, denominators and values across
    the programme's units (a measure nobody has reported is missing)."""
    if not keys:
        return {}
    rows = db.session.execute(text(_TOTALS_SQL[db.engine.dialect.name]),
                              {"programme": programme_id, "module": MODULE_KEY})
    wanted = set(keys)
    return {key: (float(numerators or 0), int(denominators or 0), float(values or 0))
            for key, numerators, denominators, values in rows if key in wanted}


def _sum(measure: dict, points: list[dict]) -> tuple[float, int]:
    if measure["kind"] == "proportion":
        return (sum(p.get("numerator", 0) for p in points),
                sum(p.get("denominator", 0) for p in points))
    return sum(float(p.get("value") or 0) for p in points), 0


def _sum_label(measure: dict, sums: tuple[float, int]) -> str:
    if measure["kind"] == "proportion":
        return point_label(measure, {"numerator": int(sums[0]), "denominator": sums[1]},
                           public=True) if sums[1] else ""
    return point_label(measure, {"value": sums[0]}, public=True)
