"""The inspiration catalogue: a unit's consent to publish its case, and the editions the
network curates from consented cases.

An edition is a draft while the network admin curates it; publishing freezes it: every
case's content is copied into ``EditionCase.snapshot`` and never changes again, whatever
the unit edits later. A published edition can be withdrawn from the public, not altered; a
new edition is made instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from laks.enums import BuildStatus, CatalogueGrouping, EditionStatus
from laks.models.base import Base, UTCDateTime, str_enum, utcnow
from laks.models.organisation import Programme, Unit
from laks.models.users import User

#: The SQLite FTS5 table behind the public search (made by the migration; FTS5 adds shadow
#: tables named after it). It is not a mapped table, so schema comparisons leave it out.
SEARCH_TABLE = "catalogue_fts"


def is_search_table(name: str | None) -> bool:
    return bool(name) and name.startswith(SEARCH_TABLE)


class CaseConsent(Base):
    """A unit's explicit consent to publish its case: who gave it and when. A consent is
    withdrawn by setting ``withdrawn_at``; a new consent is a new row, so the history stays."""

    __tablename__ = "case_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    consented_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    consented_by: Mapped[User | None] = relationship(foreign_keys=[consented_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class Edition(Base):
    """One edition of the catalogue. ``number`` is given when the edition is created and
    never reused; ``published_at`` is its publication date."""

    __tablename__ = "catalogue_edition"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    # The programme the edition tells about (its public page links it); None for a
    # catalogue across programmes.
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme.id", ondelete="SET NULL"), index=True)
    foreword: Mapped[str] = mapped_column(Text, default="")
    introduction: Mapped[str] = mapped_column(Text, default="")
    grouping: Mapped[CatalogueGrouping] = mapped_column(
        str_enum(CatalogueGrouping, "grouping"), default=CatalogueGrouping.THEME)
    status: Mapped[EditionStatus] = mapped_column(
        str_enum(EditionStatus, "edition_status"), default=EditionStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")

    # The PDF, built outside the request after publishing. ``pdf_file`` is a name inside the
    # instance folder's catalogue directory; a failed build keeps the previous file.
    pdf_status: Mapped[BuildStatus] = mapped_column(
        str_enum(BuildStatus, "pdf_status"), default=BuildStatus.NONE)
    pdf_progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    pdf_error: Mapped[str] = mapped_column(Text, default="")
    pdf_file: Mapped[str | None] = mapped_column(String(200))
    pdf_pages: Mapped[int | None]
    pdf_bytes: Mapped[int | None]
    pdf_built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    programme: Mapped[Programme | None] = relationship()
    cases: Mapped[list[EditionCase]] = relationship(
        back_populates="edition", order_by="EditionCase.position",
        cascade="all, delete-orphan")

    @property
    def is_public(self) -> bool:
        return self.status == EditionStatus.PUBLISHED


class EditionCase(Base):
    """A unit's case in an edition, at a position. ``snapshot`` is None while the edition
    is a draft (the case is read live from the unit's answers) and holds the case's whole
    content, frozen, once the edition is published; ``search_text`` is its plain text for
    the public search."""

    __tablename__ = "catalogue_edition_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue_edition.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    search_text: Mapped[str] = mapped_column(Text, default="")

    edition: Mapped[Edition] = relationship(back_populates="cases")
    unit: Mapped[Unit | None] = relationship()

    __table_args__ = (UniqueConstraint("edition_id", "unit_id"),)
