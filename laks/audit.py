"""Writing the audit trail: one function for every change, used by the workflow and the
services alike (so it sits below both)."""

from __future__ import annotations

from laks.extensions import db
from laks.models import AuditEvent, User


def record(actor: User | None, action: str, obj=None, **details) -> AuditEvent:
    """Append an audit event: ``actor`` did ``action`` to ``obj`` (any mapped object or None).

    ``details`` must be JSON-serialisable and must never hold a password or a token.
    """
    event = AuditEvent(
        actor=actor,
        action=action,
        object_type=obj.__tablename__ if obj is not None else None,
        object_id=obj.id if obj is not None else None,
        details=details,
    )
    db.session.add(event)
    return event


def record_module(actor: User | None, action: str, unit_module, **details) -> AuditEvent:
    """:func:`record` for a unit's module, naming the unit and the module in the details."""
    return record(actor, action, unit_module, unit_id=unit_module.unit_id,
                  module=unit_module.module_key, **details)
