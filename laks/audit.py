"""Writing the audit trail: one function for every change, used by the workflow and the
services alike (so it sits below both)."""

from __future__ import annotations

from flask import has_request_context, request

from laks.extensions import db
from laks.models import AuditEvent, Unit, User
from laks.privacy import looks_like_cpr

#: The longest browser description kept (a longer one is cut: it is a hint, not evidence).
USER_AGENT_LENGTH = 300


def _unit_id(obj, details: dict) -> int | None:
    """The unit an event concerns: the object itself, the object's unit, or the unit the
    details name."""
    if isinstance(obj, Unit):
        return obj.id
    unit_id = getattr(obj, "unit_id", None)
    if unit_id is None:
        unit_id = details.get("unit_id")
    return unit_id if isinstance(unit_id, int) and not isinstance(unit_id, bool) else None


def record(actor: User | None, action: str, obj=None, **details) -> AuditEvent:
    """Append an audit event: ``actor`` did ``action`` to ``obj`` (any mapped object or None).

    ``details`` must be JSON-serialisable and must never hold a password or a token. Inside a
    request the event also keeps the address it came from and the browser's description.
    """
    event = AuditEvent(
        actor=actor,
        action=action,
        object_type=obj.__tablename__ if obj is not None else None,
        object_id=obj.id if obj is not None else None,
        details=details,
        unit_id=_unit_id(obj, details),
    )
    if has_request_context():
        event.ip_address = (request.remote_addr or "")[:45] or None
        agent = request.headers.get("User-Agent", "").replace("\x00", "")
        # laks stores no CPR number, not even one sent in a header: such a description is
        # kept as "…", word by word.
        if looks_like_cpr(agent):
            agent = " ".join("…" if looks_like_cpr(word) else word for word in agent.split())
            agent = "…" if looks_like_cpr(agent) else agent
        event.user_agent = agent[:USER_AGENT_LENGTH] or None
    db.session.add(event)
    return event


def record_module(actor: User | None, action: str, unit_module, **details) -> AuditEvent:
    """:func:`record` for a unit's module, naming the unit and the module in the details."""
    return record(actor, action, unit_module, unit_id=unit_module.unit_id,
                  module=unit_module.module_key, **details)
