"""Realistic demo data with known shares of purgeable rows, for ``storyapp db seed``.

At scale 1: 20,000 verification tokens (40 % expired), 4,000 stories (25 % soft-deleted long
ago, 5 % soft-deleted recently, each story with comments and views), and 10,000 Stripe webhook
events (half older than the retention window; of those, 5 % were never processed). The data
is drawn from a seeded random generator, so the same scale gives the same shares and times.

Seeding again adds another set of rows beside the first: the unique columns (token hashes,
Stripe event IDs) carry a tag drawn fresh for each run, so runs never collide.
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert

from storyapp.models import Story, StoryComment, StoryView, StripeWebhookEvent, VerificationToken

log = logging.getLogger("storyapp.seed")

CHUNK = 5000
DAY = timedelta(days=1)
PURPOSES = ("email_verification", "password_reset", "email_change")
EVENT_TYPES = ("invoice.paid", "customer.subscription.updated", "charge.refunded")


@dataclass(frozen=True, slots=True)
class SeedShape:
    """How many rows of each kind; the shares are fixed, the counts scale."""

    tokens: int = 20_000
    stories: int = 4_000
    events: int = 10_000
    expired_share: float = 0.40
    deleted_long_ago_share: float = 0.25
    deleted_recently_share: float = 0.05
    old_event_share: float = 0.50
    unprocessed_old_share: float = 0.05

    def scaled(self, scale: float) -> SeedShape:
        return SeedShape(
            tokens=int(self.tokens * scale),
            stories=int(self.stories * scale),
            events=int(self.events * scale),
        )


def seed(
    engine: Engine, scale: float = 1.0, now: datetime | None = None, seed_value: int = 7
) -> dict[str, int]:
    """Insert the demo rows; returns how many of each table were inserted."""
    shape = SeedShape().scaled(scale)
    moment = now or datetime.now(UTC)
    rng = random.Random(seed_value)
    run = secrets.token_hex(4)
    with engine.begin() as connection:
        counts = {
            "tokens": _insert(connection, VerificationToken, _tokens(shape, moment, rng, run)),
            "webhook_events": _insert(
                connection, StripeWebhookEvent, _events(shape, moment, rng, run)
            ),
        }
        counts |= _stories(connection, shape, moment, rng)
    log.info(
        "Seeded the database: tokens=%d stories=%d comments=%d views=%d webhook_events=%d.",
        counts["tokens"], counts["stories"], counts["comments"], counts["views"],
        counts["webhook_events"],
    )  # fmt: skip
    return counts


def _tokens(
    shape: SeedShape, now: datetime, rng: random.Random, run: str
) -> Iterator[dict[str, Any]]:
    expired = int(shape.tokens * shape.expired_share)
    for n in range(shape.tokens):
        created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
        if n < expired:
            expires = now - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        else:
            expires = now + timedelta(minutes=rng.randint(60, 60 * 24 * 7))
        yield {
            "user_id": rng.randint(1, 50_000),
            "token_hash": hashlib.sha256(f"token-{run}-{n}-{rng.random()}".encode()).hexdigest(),
            "purpose": rng.choice(PURPOSES),
            "created_at": min(created, expires),
            "expires_at": expires,
        }


def _story_rows(shape: SeedShape, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    long_ago = int(shape.stories * shape.deleted_long_ago_share)
    recently = long_ago + int(shape.stories * shape.deleted_recently_share)
    rows = []
    for n in range(shape.stories):
        deleted: datetime | None = None
        if n < long_ago:
            deleted = now - timedelta(days=rng.randint(31, 365))
        elif n < recently:
            deleted = now - timedelta(days=rng.randint(0, 20))
        rows.append(
            {
                "author_id": rng.randint(1, 50_000),
                "title": f"Story number {n}",
                "body": "It was a dark and stormy night. " * rng.randint(1, 20),
                "created_at": (deleted or now) - timedelta(days=rng.randint(1, 400)),
                "deleted_at": deleted,
            }
        )
    return rows


def _stories(
    connection: Connection, shape: SeedShape, now: datetime, rng: random.Random
) -> dict[str, int]:
    """Stories first (for their keys), then 0-6 comments and 0-10 views on each."""
    rows = _story_rows(shape, now, rng)
    returning = insert(Story).returning(Story.id, sort_by_parameter_order=True)
    ids = [i for chunk in _chunks(iter(rows)) for i in connection.scalars(returning, chunk)]
    comments = (
        {"story_id": i, "author_id": rng.randint(1, 50_000), "body": "Great read!",
         "created_at": row["created_at"] + DAY}
        for i, row in zip(ids, rows, strict=True) for _ in range(rng.randint(0, 6))
    )  # fmt: skip
    views = (
        {"story_id": i, "viewer_id": rng.randint(0, 50_000), "viewed_at": row["created_at"] + DAY}
        for i, row in zip(ids, rows, strict=True) for _ in range(rng.randint(0, 10))
    )  # fmt: skip
    return {
        "stories": len(ids),
        "comments": _insert(connection, StoryComment, comments),
        "views": _insert(connection, StoryView, views),
    }


def _events(
    shape: SeedShape, now: datetime, rng: random.Random, run: str
) -> Iterator[dict[str, Any]]:
    old = int(shape.events * shape.old_event_share)
    unprocessed_old = int(old * shape.unprocessed_old_share)
    for n in range(shape.events):
        if n < old:
            received = now - timedelta(days=rng.randint(31, 180), minutes=rng.randint(0, 1440))
        else:
            received = now - timedelta(minutes=rng.randint(1, 60 * 24 * 29))
        processed = None if n < unprocessed_old else received + timedelta(seconds=2)
        kind = rng.choice(EVENT_TYPES)
        yield {
            "stripe_event_id": f"evt_{run}_{n:08d}_{rng.getrandbits(48):012x}",
            "type": kind,
            "payload": {"type": kind, "data": {"amount": rng.randint(100, 50_000)}},
            "received_at": received,
            "processed_at": processed,
        }


def _insert(connection: Connection, model: type[Any], rows: Iterator[dict[str, Any]]) -> int:
    inserted = 0
    for chunk in _chunks(rows):
        connection.execute(insert(model), chunk)
        inserted += len(chunk)
    return inserted


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
