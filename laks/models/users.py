"""People and their place in the network: a role, and for staff and facilitators, units."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from laks.enums import ObserverGroup, Role
from laks.models.base import Base, UTCDateTime, str_enum, utcnow
from laks.models.organisation import Unit


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # None until the person has chosen a password through an invitation link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    observer_group: Mapped[ObserverGroup | None] = mapped_column(
        str_enum(ObserverGroup, "observer_group")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session's identity (see get_id): rotating it ends every session of
    # this person on the server, whatever cookies are still around.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # The language of the person's mails and of the interface after signing in.
    language: Mapped[str] = mapped_column(String(5), default="da", server_default="da")
    # Two-factor sign-in (TOTP): the secret, once confirmed with a first code; the hashes
    # of the unused recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recovery_codes: Mapped[list | None] = mapped_column(JSON)
    # The kinds of notification the person has turned off (laks.enums.NotificationKind).
    notifications_off: Mapped[list | None] = mapped_column(JSON)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the id and the current session token, so
        that a session whose token has since been rotated no longer finds its user."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Rotate the session token: every session of this person ends on its next request."""
        self.session_token = new_session_token()

    def set_password(self, password: str) -> None:
        # werkzeug's default is scrypt with a random salt.
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    @property
    def unit_ids(self) -> frozenset[int]:
        return frozenset(m.unit_id for m in self.memberships)

    @property
    def units(self) -> list[Unit]:
        return sorted((m.unit for m in self.memberships), key=lambda u: u.title)

    def is_tovholder_of(self, unit_id: int) -> bool:
        return any(m.unit_id == unit_id and m.is_tovholder for m in self.memberships)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Membership(Base):
    """A staff member's or facilitator's tie to a unit. At most one tovholder per unit."""

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    is_tovholder: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship(back_populates="memberships")

    __table_args__ = (
        UniqueConstraint("user_id", "unit_id"),
        Index(
            "uq_membership_one_tovholder",
            "unit_id",
            unique=True,
            sqlite_where=text("is_tovholder"),
            postgresql_where=text("is_tovholder"),
        ),
    )
