"""A facilitator's judgement of how far a unit has come, on the IHI progress scale."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from laks.models.base import Base, UTCDateTime, utcnow
from laks.models.organisation import Unit
from laks.models.users import User


class ProgressScore(Base):
    """One score given to a unit. The scale runs 0.5 … 5.0 in half steps (laks.enums.
    IHI_SCALE); it is stored as whole half-steps (1 … 10), so no decimal ever needs
    rounding. Scores are never changed: a new one is added, and together they are the
    unit's trajectory."""

    __tablename__ = "progress_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    half_steps: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")
    set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    set_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("half_steps BETWEEN 1 AND 10", name="on_the_scale"),
        Index("ix_progress_score_unit_set_at", "unit_id", "set_at"),
    )

    @property
    def score(self) -> float:
        return self.half_steps / 2
