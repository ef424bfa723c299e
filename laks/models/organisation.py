"""Municipalities, programmes and the units that work through a programme's modules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from laks.enums import ProgrammeStatus
from laks.models.base import Base, UTCDateTime, known_module_check, str_enum


class Municipality(Base):
    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The official four-digit kommunekode, e.g. "0101" for København. Kept as text: the
    # leading zero is part of the code.
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    units: Mapped[list[Unit]] = relationship(back_populates="municipality")

    __table_args__ = (CheckConstraint("length(code) = 4", name="code_four_digits"),)

    def __repr__(self) -> str:
        return f"<Municipality {self.code} {self.name}>"


class Programme(Base):
    """An action-learning course run by the network, e.g. LAKS 2015-2016."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ProgrammeStatus] = mapped_column(
        str_enum(ProgrammeStatus, "programme_status"), default=ProgrammeStatus.RUNNING,
        server_default=ProgrammeStatus.RUNNING.value)

    units: Mapped[list[Unit]] = relationship(back_populates="programme", order_by="Unit.name")
    module_dues: Mapped[list[ModuleDue]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="ModuleDue.position"
    )
    shared_measures: Mapped[list[SharedMeasure]] = relationship(
        back_populates="programme", cascade="all, delete-orphan",
        order_by="SharedMeasure.position")

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_in_order"),)

    @property
    def is_running(self) -> bool:
        return self.status == ProgrammeStatus.RUNNING

    def due_on(self, module_key: str) -> date | None:
        return next((d.due_on for d in self.module_dues if d.module_key == module_key), None)


class SharedMeasure(Base):
    """A measure the network asks every unit of a programme to report in its test log (a
    fælles måling), so that the programme's overview can set the units side by side and sum
    them. The units' data points are in their own test logs, under the key "f-<key>"."""

    __tablename__ = "shared_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # laks.testlog.MEASURE_KINDS
    better: Mapped[str] = mapped_column(String(10))  # laks.testlog.BETTER
    goal: Mapped[float | None]
    position: Mapped[int]

    programme: Mapped[Programme] = relationship(back_populates="shared_measures")

    __table_args__ = (
        UniqueConstraint("programme_id", "key"),
        CheckConstraint("kind IN ('count', 'proportion')", name="kind_known"),
        CheckConstraint("better IN ('up', 'down')", name="better_known"),
    )

    def as_measure(self) -> dict:
        """The measure as a unit's test log holds its own (laks.services.testlog)."""
        return {"key": f"f-{self.key}", "name": self.name, "kind": self.kind,
                "better": self.better, "goal": self.goal, "baseline": None,
                "shared": self.key}


class ModuleDue(Base):
    """When a programme expects each of the five modules to be done."""

    __tablename__ = "module_due"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    module_key: Mapped[str] = mapped_column(String(20))
    position: Mapped[int]
    due_on: Mapped[date] = mapped_column(Date)

    programme: Mapped[Programme] = relationship(back_populates="module_dues")

    __table_args__ = (
        UniqueConstraint("programme_id", "module_key"),
        known_module_check(),
        CheckConstraint("position BETWEEN 1 AND 5", name="position_range"),
    )


class Unit(Base):
    """One action-learning group with its own action plan; may cover several places."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    places: Mapped[list[str]] = mapped_column(JSON, default=list)
    target_group: Mapped[str] = mapped_column(Text, default="")
    # A closed unit has stopped its work: its modules are read-only and never overdue, and
    # it gets no reminders. Reopening sets this back to None.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    programme: Mapped[Programme] = relationship(back_populates="units")
    municipality: Mapped[Municipality] = relationship(back_populates="units")
    memberships: Mapped[list[Membership]] = relationship(  # noqa: F821
        back_populates="unit", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("programme_id", "municipality_id", "name"),)

    @property
    def title(self) -> str:
        return f"{self.municipality.name} – {self.name}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.name}>"
