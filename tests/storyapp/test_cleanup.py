"""The three purges on SQLite and on PostgreSQL: what they delete, keep, count and log."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from storyapp_rows import add_event, add_story, add_tokens

from storyapp.cleanup import (
    PurgeResult,
    purge_deleted_stories,
    purge_expired_tokens,
    purge_old_webhook_events,
)
from storyapp.models import (
    HasId,
    Story,
    StoryComment,
    StoryView,
    StripeWebhookEvent,
    VerificationToken,
)

NOW = datetime(2026, 6, 7, 20, 45, tzinfo=UTC)
DAY = timedelta(days=1)


def ids(engine: Engine, model: type[HasId]) -> set[int]:
    with engine.connect() as connection:
        return set(connection.scalars(select(model.id)))


def count(engine: Engine, model: type[HasId]) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_expired_tokens_are_deleted_in_batches_and_valid_ones_kept(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    expired = add_tokens(engine, [NOW - timedelta(minutes=m) for m in range(1, 24)], NOW - DAY)
    valid = add_tokens(engine, [NOW + timedelta(minutes=m) for m in range(0, 7)], NOW - DAY)

    with caplog.at_level(logging.INFO, logger="storyapp.cleanup"):
        result = purge_expired_tokens(engine, batch_size=5, now=NOW)

    assert ids(engine, VerificationToken) == set(valid)
    assert result.deleted == {"tokens": len(expired)}
    assert result.batches == 5
    assert caplog.messages == ["Purged expired verification tokens: tokens=23 batches=5."]


def test_a_second_purge_finds_nothing_left(engine: Engine) -> None:
    add_tokens(engine, [NOW - DAY] * 3 + [NOW + DAY] * 2, NOW - 2 * DAY)

    first = purge_expired_tokens(engine, now=NOW)
    second = purge_expired_tokens(engine, now=NOW)

    assert (first.total, second.total) == (3, 0)
    assert count(engine, VerificationToken) == 2


def test_old_deleted_stories_go_with_their_comments_and_views(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    old = [add_story(engine, NOW - 90 * DAY, NOW - 31 * DAY, comments=3, views=4) for _ in "ab"]
    recent = add_story(engine, NOW - 90 * DAY, NOW - 29 * DAY, comments=1, views=1)
    live = add_story(engine, NOW - 90 * DAY, None, comments=2, views=5)

    with caplog.at_level(logging.INFO, logger="storyapp.cleanup"):
        result = purge_deleted_stories(engine, retention_days=30, batch_size=1, now=NOW)

    assert old and ids(engine, Story) == {recent, live}
    assert result.deleted == {"stories": 2, "comments": 6, "views": 8}
    assert (count(engine, StoryComment), count(engine, StoryView)) == (3, 6)
    assert caplog.messages == [
        "Purged soft-deleted stories: stories=2 comments=6 views=8 batches=3 retention_days=30."
    ]


def test_processed_old_events_go_and_unprocessed_old_events_are_kept_and_counted(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    add_event(engine, NOW - 40 * DAY, NOW - 40 * DAY)
    stuck = add_event(engine, NOW - 40 * DAY, None)
    recent = add_event(engine, NOW - 2 * DAY, NOW - 2 * DAY)
    pending = add_event(engine, NOW - 2 * DAY, None)

    with caplog.at_level(logging.INFO, logger="storyapp.cleanup"):
        result = purge_old_webhook_events(engine, retention_days=30, now=NOW)

    assert ids(engine, StripeWebhookEvent) == {stuck, recent, pending}
    assert result.deleted == {"webhook_events": 1}
    assert result.kept == {"unprocessed_webhook_events": 1}
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "Purged processed Stripe webhook events: webhook_events=1 batches=1 "
        "kept_unprocessed=1 retention_days=30."
    )


def test_two_purges_at_once_delete_each_row_once(engine: Engine) -> None:
    add_tokens(engine, [NOW - timedelta(seconds=s) for s in range(1, 3001)], NOW - DAY)
    kept = add_tokens(engine, [NOW + DAY] * 50, NOW - DAY)
    for _ in range(40):
        add_story(engine, NOW - 90 * DAY, NOW - 60 * DAY, comments=2, views=2)
    results: list[PurgeResult] = []

    def purge() -> None:
        results.append(purge_expired_tokens(engine, batch_size=100, now=NOW))
        results.append(purge_deleted_stories(engine, batch_size=3, now=NOW))

    both = [threading.Thread(target=purge) for _ in range(2)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()

    assert ids(engine, VerificationToken) == set(kept)
    assert count(engine, Story) + count(engine, StoryComment) + count(engine, StoryView) == 0
    assert sum(r.deleted.get("tokens", 0) for r in results) == 3000
    assert sum(r.deleted.get("stories", 0) for r in results) == 40
    assert sum(r.deleted.get("comments", 0) for r in results) == 80


class StopAfter:
    """A ``keep_going`` that says yes ``batches`` times, then no (or raises ``error``)."""

    def __init__(self, batches: int, error: Exception | None = None) -> None:
        self.left = batches
        self.error = error

    def __call__(self) -> bool:
        if self.left == 0 and self.error is not None:
            raise self.error
        self.left -= 1
        return self.left >= 0


def test_a_purge_stopped_part_way_logs_the_rows_it_already_deleted(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    add_tokens(engine, [NOW - timedelta(minutes=m) for m in range(1, 26)], NOW - DAY)

    with caplog.at_level(logging.INFO, logger="storyapp.cleanup"):
        result = purge_expired_tokens(engine, batch_size=10, now=NOW, keep_going=StopAfter(2))

    assert (result.interrupted, result.deleted, result.batches) == (True, {"tokens": 20}, 2)
    assert count(engine, VerificationToken) == 5
    assert caplog.messages == [
        "Purge interrupted after deleting 20 rows of expired verification tokens (tokens=20 "
        "batches=2) because its task was stopped; the next run deletes the rest."
    ]


def test_a_purge_that_fails_part_way_logs_the_rows_it_already_deleted(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        add_story(engine, NOW - 90 * DAY, NOW - 40 * DAY, comments=1, views=0)

    with caplog.at_level(logging.INFO, logger="storyapp.cleanup"), pytest.raises(KeyError):
        purge_deleted_stories(
            engine, batch_size=1, now=NOW, keep_going=StopAfter(1, KeyError("stop"))
        )

    assert count(engine, Story) == 2
    assert caplog.messages == [
        "Purge interrupted after deleting 2 rows of soft-deleted stories (stories=1 comments=1 "
        "views=0 batches=1) because batch 2 raised KeyError; the next run deletes the rest."
    ]
