"""The audit log as the network admin reads it (*Revisionslog*), and how long it is kept.

Reading: the events that match a filter (person, unit, action, period), a page at a time or
all of them for a CSV file, each with its action, its object and its details in words and the
browser it came from in short – the names for a whole page loaded at once, so that a page
costs the same number of queries whatever it holds.

Keeping: events older than the retention period (``LAKS_AUDIT_RETENTION_DAYS``) are deleted
by :func:`prune`, which logs what it deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import selectinload

from laks.audit import record
from laks.enums import (
    AUDIT_ACTION_LABELS,
    MODULE_TITLES,
    ModuleState,
    ProgrammeStatus,
    Role,
    audit_action_label,
)
from laks.extensions import db
from laks.i18n import format_moment
from laks.models import AuditEvent, Municipality, Programme, Unit, User
from laks.paging import page_of

PAGE_SIZE = 50
#: Events read per query when the whole selection is exported.
EXPORT_BATCH = 500


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show. ``since`` and ``until`` are dates in the network's time zone,
    both included; ``no_person`` selects the events of no one (the system, or a visitor who
    was not logged in) and wins over ``actor_id``."""

    actor_id: int | None = None
    no_person: bool = False
    unit_id: int | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None

    def where(self) -> list:
        """The filter as SQL conditions on :class:`AuditEvent`."""
        conditions = []
        if self.no_person:
            conditions.append(AuditEvent.actor_id.is_(None))
        elif self.actor_id is not None:
            conditions.append(AuditEvent.actor_id == self.actor_id)
        if self.unit_id is not None:
            conditions.append(AuditEvent.unit_id == self.unit_id)
        if self.action:
            conditions.append(AuditEvent.action == self.action)
        if self.since is not None:
            conditions.append(AuditEvent.at >= start_of(self.since))
        if self.until is not None:
            conditions.append(AuditEvent.at < start_of(self.until + timedelta(days=1)))
        return conditions


def local_zone() -> ZoneInfo:
    """The network's time zone, in which dates are read and moments written."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def start_of(day: date) -> datetime:
    """The moment (UTC) a local day begins."""
    return datetime.combine(day, time.min, tzinfo=local_zone()).astimezone(UTC)


@dataclass
class AuditRow:
    """One audit event as the admin reads it: the action, the object, the unit and the
    details in words, and the browser in short."""

    event: AuditEvent
    action: str
    object: str
    details: str
    unit: str = ""
    browser: str = ""


@dataclass
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    pages: int


def _ordered(conditions: list):
    return (select(AuditEvent).where(*conditions).options(selectinload(AuditEvent.actor))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))


def log_page(filters: AuditFilter, page: int) -> AuditPage:
    """One page of the events that match ``filters``, newest first; a page past the end is
    the last page. A fixed number of queries, whatever the page holds."""
    conditions = filters.where()
    total = db.session.scalar(select(func.count(AuditEvent.id)).where(*conditions))
    page, pages = page_of(total, page, PAGE_SIZE)
    events = list(db.session.scalars(
        _ordered(conditions).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return AuditPage(rows(events), total, page, pages)


def audit_page(page: int, action: str | None = None) -> tuple[list[AuditRow], int]:
    """One page of the log (of one action, if given) and the number of matching events."""
    found = log_page(AuditFilter(action=action), page)
    return found.rows, found.total


def export_rows(filters: AuditFilter, batch: int = EXPORT_BATCH) -> Iterator[list[AuditRow]]:
    """Every event that matches ``filters``, newest first, in lists of at most ``batch``:
    each list is read (and named) with a fixed number of queries, continuing after the last
    event of the one before, so that a large export neither grows slower nor holds
    everything in memory."""
    conditions = filters.where()
    last: AuditEvent | None = None
    while True:
        after = [] if last is None else [or_(
            AuditEvent.at < last.at, and_(AuditEvent.at == last.at, AuditEvent.id < last.id))]
        events = list(db.session.scalars(_ordered([*conditions, *after]).limit(batch)))
        if not events:
            return
        yield rows(events)
        if len(events) < batch:
            return
        last = events[-1]


def rows(events: list[AuditEvent]) -> list[AuditRow]:
    """The events in words, their names loaded for all of them at once."""
    units = _units(events)
    names = _object_names(events, units)
    return [
        AuditRow(
            event,
            audit_action_label(event.action),
            _object_name(event, names, units),
            _details(event),
            units[event.unit_id].title if event.unit_id in units else "",
            short_browser(event.user_agent),
        )
        for event in events
    ]


def action_choices() -> list[tuple[str, str]]:
    """Every action laks writes to the log, as (action, words), in the order of the words."""
    return sorted(((action, str(label)) for action, label in AUDIT_ACTION_LABELS.items()),
                  key=lambda pair: pair[1].lower())


# --- names of what the events concern ------------------------------------------------------


def _ids(events: list[AuditEvent], object_type: str) -> set[int]:
    return {e.object_id for e in events if e.object_type == object_type and e.object_id}


def _event_unit_id(event: AuditEvent) -> int | None:
    if event.unit_id is not None:
        return event.unit_id
    unit_id = (event.details or {}).get("unit_id")
    return unit_id if isinstance(unit_id, int) else None


def _units(events: list[AuditEvent]) -> dict[int, Unit]:
    """Every unit the events concern, with its municipality: one query (and one for the
    municipalities)."""
    unit_ids = _ids(events, "unit") | {
        unit_id for unit_id in map(_event_unit_id, events) if unit_id is not None}
    if not unit_ids:
        return {}
    return {u.id: u for u in db.session.scalars(
        select(Unit).where(Unit.id.in_(unit_ids)).options(selectinload(Unit.municipality)))}


def _object_name(event: AuditEvent, names: dict, units: dict[int, Unit]) -> str:
    if event.object_type:
        return names.get((event.object_type, event.object_id), "")
    # An event about a unit's data without an object of its own (a view of a page of the
    # unit, a refused request): the unit, and the module when it was a module's page.
    unit = units.get(_event_unit_id(event))
    if unit is None:
        return ""
    key = (event.details or {}).get("module")
    return f"{unit.title}: {MODULE_TITLES[key]}" if key in MODULE_TITLES else unit.title


def _object_names(events: list[AuditEvent], units: dict[int, Unit]) -> dict[tuple[str, int],
                                                                            str]:
    """The name of every object the events name, keyed by (table, id): one query per kind
    of object on the page. An object that no longer exists keeps its number."""
    names: dict[tuple[str, int], str] = {}
    for event in events:
        if event.object_type != "unit_module":
            continue
        unit, key = units.get(_event_unit_id(event)), (event.details or {}).get("module")
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
        select(Programme.id, Programme.name).where(Programme.id.in_(programme_ids)))
    } if programme_ids else {}
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


# --- details in words ----------------------------------------------------------------------

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
    "refusal": _l("refused because"),
    "path": _l("page"),
    "rule": _l("access rule"),
    "deleted": _l("deleted"),
    "cutoff": _l("older than"),
    "retention_days": _l("kept for (days)"),
}

_REASONS = {
    "credentials": _l("wrong e-mail or password"),
    "inactive": _l("the account is deactivated"),
}

#: Why a request was refused (the access log's "access.refused").
REFUSALS = {
    "forbidden": _l("no access"),
    "login": _l("not logged in"),
    "csrf": _l("the form had expired or was not laks' own"),
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
    if key == "refusal" and value in REFUSALS:
        return str(REFUSALS[value])
    if key == "cutoff" and isinstance(value, str):
        try:
            return format_moment(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _details(event: AuditEvent) -> str:
    details = event.details or {}
    parts = [f"{_DETAIL_LABELS[key]}: {_detail_value(key, details[key])}"
             for key in _DETAIL_LABELS if details.get(key) not in (None, "")]
    if details.get("tovholder"):
        parts.append(str(_l("tovholder")))
    return "; ".join(parts)


# --- the browser, in short ---------------------------------------------------------------------

_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"\bOPR/(\d+)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"\b(?:HeadlessChrome|Chrome|CriOS|Chromium)/(\d+)")),
    ("Safari", re.compile(r"\bVersion/(\d+)[\d.]*\s.*\bSafari/")),
)
_SYSTEMS = (
    ("iPadOS", "iPad"), ("iOS", "iPhone"), ("Android", "Android"), ("Windows", "Windows"),
    ("ChromeOS", "CrOS"), ("macOS", "Mac OS X"), ("Linux", "Linux"),
)
#: The longest description of an unknown browser shown on the page (the CSV has it all).
SHORT_BROWSER = 40


def short_browser(user_agent: str | None) -> str:
    """A browser's description in short – "Firefox 128, Windows" – for the log page; one
    laks does not recognise is cut to :data:`SHORT_BROWSER` characters."""
    agent = (user_agent or "").strip()
    if not agent:
        return ""
    browser = next((f"{name} {match.group(1)}" for name, pattern in _BROWSERS
                    if (match := pattern.search(agent))), None)
    system = next((name for name, mark in _SYSTEMS if mark in agent), None)
    if browser is None:
        return agent if len(agent) <= SHORT_BROWSER else agent[:SHORT_BROWSER - 1] + "…"
    return f"{browser}, {system}" if system else browser


# --- retention -------------------------------------------------------------------------------


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    """The moment before which events are older than ``days`` days."""
    if days < 1:
        raise ValueError("the audit log is kept for at least one day")
    return (now or datetime.now(UTC)) - timedelta(days=days)


def prune(days: int, *, dry_run: bool = False, now: datetime | None = None) -> tuple[int,
                                                                                     datetime]:
    """Delete the events older than ``days`` days; returns how many and the cutoff.

    The deletion is itself logged ("audit.prune", with the number and the cutoff) by an event
    newer than the cutoff, so that no run deletes the record of another. With ``dry_run``
    nothing is deleted nor logged: the number is what a run would delete. For the command
    line (no person); flushes, never commits.
    """
    cutoff = retention_cutoff(days, now)
    old = AuditEvent.at < cutoff
    if dry_run:
        return db.session.scalar(select(func.count(AuditEvent.id)).where(old)), cutoff
    deleted = db.session.execute(delete(AuditEvent).where(old)).rowcount
    record(None, "audit.prune", None, deleted=deleted, cutoff=cutoff.isoformat(),
           retention_days=days)
    db.session.flush()
    return deleted, cutoff
