"""A unit's work on a module: its answers, every saved revision, the state changes that make
the review timeline, the discussion, and the stored module definitions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from laks.enums import ModuleState
from laks.models.base import Base, UTCDateTime, known_module_check, str_enum, utcnow
from laks.models.organisation import Unit
from laks.models.users import User


class ModuleDefinition(Base):
    """The questions of one module, as data. ``content`` is checked by
    :func:`laks.definitions.parse_module` whenever it is written or read.

    With no programme, it is the network's definition: the one a new programme starts from.
    A programme's own copy is what its units answer, so a question added to one programme
    never appears in another. Every content a definition has had is kept as a
    :class:`ModuleDefinitionVersion`, so a module shows the questions it was answered with.
    """

    __tablename__ = "module_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True)
    module_key: Mapped[str] = mapped_column(String(20))
    content: Mapped[dict] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    __table_args__ = (
        known_module_check(),
        UniqueConstraint("programme_id", "module_key"),
        # NULL is never equal to NULL in a unique constraint: the network's own row needs
        # its own index to stay one per module.
        Index("uq_module_definition_network", "module_key", unique=True,
              sqlite_where=text("programme_id IS NULL"),
              postgresql_where=text("programme_id IS NULL")),
    )


class ModuleDefinitionVersion(Base):
    """One content a module definition has had. Never changed once written."""

    __tablename__ = "module_definition_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("module_definition.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("definition_id", "revision"),)


class UnitModule(Base):
    """One unit's work on one module. ``version`` is the optimistic lock: every update
    increments it, and a save based on an older version is a conflict, never an overwrite."""

    __tablename__ = "unit_module"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    module_key: Mapped[str] = mapped_column(String(20))
    state: Mapped[ModuleState] = mapped_column(
        str_enum(ModuleState, "module_state"), default=ModuleState.NOT_STARTED)
    version: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    updated_by: Mapped[User | None] = relationship()
    revisions: Mapped[list[ModuleRevision]] = relationship(
        back_populates="unit_module", order_by="ModuleRevision.id",
        cascade="all, delete-orphan")
    state_changes: Mapped[list[StateChange]] = relationship(
        back_populates="unit_module", order_by="StateChange.id", cascade="all, delete-orphan")
    comments: Mapped[list[ModuleComment]] = relationship(
        back_populates="unit_module", order_by="ModuleComment.id",
        cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("unit_id", "module_key"),
        known_module_check(),
    )
    __mapper_args__ = {"version_id_col": version}


class ModuleRevision(Base):
    """A copy of the answers as one person saved them. ``kind`` says how: a save, an
    autosave, or a conflict (answers kept aside because someone else saved first)."""

    __tablename__ = "module_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_module_id: Mapped[int] = mapped_column(
        ForeignKey("unit_module.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(12), default="save")
    answers: Mapped[dict] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The questions the answers were given to. None for revisions saved before definitions
    # were versioned: those read with the earliest version kept.
    definition_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("module_definition_version.id", ondelete="SET NULL"))

    unit_module: Mapped[UnitModule] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("unit_module_id", "number"),
        CheckConstraint("kind IN ('save', 'autosave', 'conflict')", name="known_kind"),
    )


class StateChange(Base):
    """One workflow step: both the audit trail of the module and its review timeline."""

    __tablename__ = "state_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_module_id: Mapped[int] = mapped_column(
        ForeignKey("unit_module.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[ModuleState] = mapped_column(str_enum(ModuleState, "from_state"))
    to_state: Mapped[ModuleState] = mapped_column(str_enum(ModuleState, "to_state"))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The revision the answers were at when this step was taken: what was submitted, what
    # the facilitator reviewed. None when the module had no revision yet.
    revision_number: Mapped[int | None]

    unit_module: Mapped[UnitModule] = relationship(back_populates="state_changes")
    actor: Mapped[User | None] = relationship()


class ModuleComment(Base):
    """A message in the discussion under a module (markdown, rendered sanitised)."""

    __tablename__ = "module_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_module_id: Mapped[int] = mapped_column(
        ForeignKey("unit_module.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit_module: Mapped[UnitModule] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()
