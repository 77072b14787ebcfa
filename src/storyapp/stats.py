"""How many rows each clean-up would purge now, for ``storyapp db stats`` and the demo."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, Engine, func, select

from storyapp.cleanup import event_purgeable, story_purgeable, token_expired
from storyapp.models import Base, Story, StripeWebhookEvent, VerificationToken


def table_stats(
    engine: Engine,
    stories_retention_days: int = 30,
    webhook_events_retention_days: int = 30,
    now: datetime | None = None,
) -> dict[str, dict[str, int]]:
    """``total`` rows and ``purgeable`` rows now for tokens, stories and webhook events."""
    moment = now or datetime.now(UTC)
    tables: dict[str, tuple[type[Base], ColumnElement[bool]]] = {
        "tokens": (VerificationToken, token_expired(moment)),
        "stories": (Story, story_purgeable(moment, stories_retention_days)),
        "webhook_events": (
            StripeWebhookEvent,
            event_purgeable(moment, webhook_events_retention_days),
        ),
    }
    with engine.connect() as connection:
        return {
            name: {
                "total": _count(connection, model),
                "purgeable": _count(connection, model, condition),
            }
            for name, (model, condition) in tables.items()
        }


def _count(
    connection: Connection, model: type[Base], condition: ColumnElement[bool] | None = None
) -> int:
    query = select(func.count()).select_from(model)
    if condition is not None:
        query = query.where(condition)
    return int(connection.scalar(query) or 0)
