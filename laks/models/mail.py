"""Mails waiting to be sent or sent, and the notifications people read in laks.

A mail is queued in the same transaction as what it tells about (an invitation, a
submission …) and sent outside the request by the job mechanism or the command line; a
failed attempt leaves it queued with its error and the time of the next try, so nothing is
lost and the admin sees what is stuck. Without SMTP configured, "sending" writes the mail
to the outbox folder, and the admin's outbox page lists it all the same.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from laks.enums import MailStatus
from laks.models.base import Base, UTCDateTime, str_enum, utcnow
from laks.models.users import User


class MailMessage(Base):
    __tablename__ = "mail_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="da")
    subject: Mapped[str] = mapped_column(String(200))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MailStatus] = mapped_column(
        str_enum(MailStatus, "mail_status"), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set for mails that must go out once only (a reminder for a due date): unique.
    once_key: Mapped[str | None] = mapped_column(String(200), unique=True)

    user: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_mail_message_status_next", "status", "next_attempt_at"),)


class Notification(Base):
    """A line in a person's list of recent notifications (the header shows the unread)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_notification_user_created", "user_id", "created_at"),)
