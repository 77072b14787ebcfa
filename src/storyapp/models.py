"""The tables the clean-ups purge; each purge walks the index named in its table's docstring."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

BigId = BigInteger().with_variant(Integer, "sqlite")
"""A 64-bit key; SQLite only auto-increments a column declared exactly INTEGER."""


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: ``timestamptz`` on PostgreSQL, naive UTC text on SQLite.

    SQLite compares the stored text, so every value is normalised to UTC before it is written;
    a naive datetime is refused because it would silently mean local time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"the datetime {value.isoformat()} has no time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class HasId:
    """A 64-bit auto-incremented primary key, which the purges select and delete by."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)


class VerificationToken(HasId, Base):
    """E-mail and password-reset tokens; purged through ``ix_verification_tokens_expires_at``."""

    __tablename__ = "verification_tokens"

    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Story(HasId, Base):
    """Stories, soft-deleted by setting ``deleted_at``; purged through its index."""

    __tablename__ = "stories"

    author_id: Mapped[int] = mapped_column(BigInteger, index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class StoryComment(HasId, Base):
    """A comment on a story; the story cannot be deleted while its comments remain."""

    __tablename__ = "story_comments"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    author_id: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StoryView(HasId, Base):
    """One view of a story by a reader (0 for anonymous readers)."""

    __tablename__ = "story_views"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    viewer_id: Mapped[int] = mapped_column(BigInteger)
    viewed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StripeWebhookEvent(HasId, Base):
    """A Stripe event as received; purged through ``ix_stripe_webhook_events_received_at``."""

    __tablename__ = "stripe_webhook_events"

    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
