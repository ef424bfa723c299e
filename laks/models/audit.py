"""The audit trail: who did what to which object, and when. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from laks.models.base import Base, UTCDateTime, utcnow
from laks.models.users import User


class AuditEvent(Base):
    """One event: a change, a view of a unit's data by someone outside it, a refusal, a
    sign-in. Where it came from (address, browser) is kept for the regular log checks."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # None for the system (seed, CLI without a person) and for failed anonymous logins.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # The unit whose data the event concerns, for filtering the log by unit. No foreign key:
    # the log outlives a deleted unit.
    unit_id: Mapped[int | None] = mapped_column(index=True)
    # The request it came from; None outside a request (CLI, jobs, seed).
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    actor: Mapped[User | None] = relationship()
