"""Row builders for storyapp's tests: each inserts rows and returns their primary keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, insert

from storyapp.models import (
    HasId,
    Story,
    StoryComment,
    StoryView,
    StripeWebhookEvent,
    VerificationToken,
)


def add_tokens(engine: Engine, expires: Sequence[datetime], created: datetime) -> list[int]:
    rows = [
        {
            "user_id": n,
            "token_hash": uuid.uuid4().hex,
            "purpose": "email_verification",
            "created_at": created,
            "expires_at": when,
        }
        for n, when in enumerate(expires)
    ]
    return _insert(engine, VerificationToken, rows)


def add_story(
    engine: Engine, created: datetime, deleted: datetime | None, comments: int, views: int
) -> int:
    """One story with ``comments`` comments and ``views`` views."""
    row = {"author_id": 1, "title": "A story", "body": "Once upon a time.", "created_at": created}
    [story_id] = _insert(engine, Story, [{**row, "deleted_at": deleted}])
    comment = {"story_id": story_id, "author_id": 2, "body": "Nice.", "created_at": created}
    view = {"story_id": story_id, "viewer_id": 3, "viewed_at": created}
    _insert(engine, StoryComment, [comment] * comments)
    _insert(engine, StoryView, [view] * views)
    return story_id


def add_event(engine: Engine, received: datetime, processed: datetime | None) -> int:
    row = {
        "stripe_event_id": f"evt_{uuid.uuid4().hex}",
        "type": "invoice.paid",
        "payload": {"object": "event", "data": {"amount": 1200}},
        "received_at": received,
        "processed_at": processed,
    }
    [event_id] = _insert(engine, StripeWebhookEvent, [row])
    return event_id


def _insert(engine: Engine, model: type[HasId], rows: list[dict[str, object]]) -> list[int]:
    if not rows:
        return []
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    with engine.begin() as connection:
        return list(connection.scalars(statement, rows))
