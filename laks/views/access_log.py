"""The access log: every view of a unit's data by someone outside the unit, and every
refused request, as an audit event – written by one hook after each request, not by the
views (a new page of a unit is logged without anyone remembering to).

*Outside the unit* is everyone who is not its staff: the network admin, observers, and
facilitators – also the unit's own, who work with it from the network's side. A view is a
``GET`` that :func:`laks.views.guard` let through to an object of a unit (the unit, its
modules, its test log, its catalogue consent, a file exported from it) and that answered
``200`` with a page or a file; JSON, static files and public pages are not views of a unit's
data. Each view is one event: the log is the evidence of who saw what, so views are not
merged (a page read twice is two events).

A refused request is a ``403`` (anyone, also a visitor who is not logged in), a request an
access rule sends to the login because no one is logged in, and a form refused for a missing
or wrong CSRF token (``400``).

Each event is one INSERT, committed by the hook. A view has nothing of its own to commit by
then (only a POST changes anything, and commits itself); anything a view or a refused request
left uncommitted is rolled back first, as it would have been at the end of the request, so
the log never commits half of someone's work.
"""

from __future__ import annotations

import contextlib

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from laks.audit import record
from laks.enums import Role
from laks.extensions import db
from laks.models import Unit
from laks.privacy import looks_like_cpr

#: ``g`` keys: the action and object the guard checked; why a request was refused when its
#: status does not say (see :func:`refused`); whether the session holds uncommitted writes.
GUARDED, REFUSAL, UNCOMMITTED = "laks_guarded", "laks_refusal", "laks_uncommitted"
#: The longest page address kept in an event.
PATH_LENGTH = 300


def refused(kind: str) -> None:
    """Note that this request is refused for ``kind`` ("login", "csrf"): the error handlers
    call it where the status alone does not tell."""
    setattr(g, REFUSAL, kind)


@event.listens_for(Session, "after_flush")
def _written(_session, _context) -> None:
    if has_request_context():
        setattr(g, UNCOMMITTED, True)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _ended(_session) -> None:
    if has_request_context():
        setattr(g, UNCOMMITTED, False)


def _unit_of(obj) -> Unit | None:
    if isinstance(obj, Unit):
        return obj
    unit = getattr(obj, "unit", None)
    return unit if isinstance(unit, Unit) else None


def _refusal(response: Response) -> str | None:
    kind = g.get(REFUSAL)
    if kind is not None:
        return kind
    return "forbidden" if response.status_code == 403 else None


def _is_outside_view(response: Response, action: str | None, unit: Unit | None) -> bool:
    """A successful page or file of ``unit`` seen by a signed-in person who is not its
    staff."""
    if (request.method != "GET" or response.status_code != 200 or unit is None
            or action in (None, "public.view") or response.mimetype == "application/json"
            or not current_user.is_authenticated):
        return False
    return not (current_user.role == Role.STAFF and unit.id in current_user.unit_ids)


def _path() -> str:
    """The page's address as the log keeps it. laks stores no CPR number, not even one
    typed into an address: a part of it that looks like one is kept as "…"."""
    path = request.path[:PATH_LENGTH]
    if not looks_like_cpr(path):
        return path
    path = "/".join("…" if looks_like_cpr(part) else part for part in path.split("/"))
    return "…" if looks_like_cpr(path) else path


def _log_access(response: Response) -> Response:
    action, obj = g.get(GUARDED) or (None, None)
    unit = _unit_of(obj)
    refusal = _refusal(response)
    if refusal is None and not _is_outside_view(response, action, unit):
        return response
    session = db.session
    # What the event names is read before a rollback would expire it.
    unit_id = unit.id if unit is not None else None
    actor = current_user._get_current_object() if current_user.is_authenticated else None
    details = {"path": _path()}
    if isinstance(getattr(obj, "module_key", None), str):
        details["module"] = obj.module_key
    try:
        if g.get(UNCOMMITTED) or session.new or session.dirty or session.deleted:
            session.rollback()
        if refusal is None:
            entry = record(actor, "unit.view", None, **details)
        else:
            entry = record(actor, "access.refused", None, method=request.method, rule=action,
                           refusal=refusal, **details)
        entry.unit_id = unit_id
        session.commit()
    except DBAPIError as exc:
        with contextlib.suppress(Exception):
            session.rollback()
        current_app.logger.warning("access log not written for %s %s: %s", request.method,
                                   request.path, exc)
        if refusal is not None:
            return response  # refused anyway: the refusal still stands
        # A view that cannot be logged is not shown.
        from laks.views.errors import unavailable

        return current_app.make_response(unavailable())
    return response


def register(app: Flask) -> None:
    app.after_request(_log_access)
