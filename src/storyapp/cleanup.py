"""The three clean-ups, plain functions that the legacy scheduler and the asyncq handlers share.

Every purge deletes in batches of ``batch_size`` rows, each batch in its own short transaction:

1. pick the next batch of primary keys through the time index (oldest first), locking them with
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so a second purge running at the same time takes
   the next rows instead of waiting (SQLite serialises writers with ``BEGIN IMMEDIATE``);
2. delete those keys: for tokens and webhook events in the same statement (a DELETE whose
   sub-select picks the keys); for stories the keys are read first, then their comments, their
   views and the stories themselves are deleted by key;
3. commit, and stop after the first batch that is not full.

No statement touches more than one batch, so none holds locks for long on tables of millions
of rows, and a purge that is interrupted or run twice leaves the same end state.

A purge asks ``keep_going`` before each batch. A handler whose task was cancelled, timed out
or stopped at shutdown says no, and the purge stops after the batch it is in; that and an
error part-way both log how many rows were already deleted, since their batches committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, delete, func, select

from storyapp.db import write_transaction
from storyapp.models import (
    HasId,
    Story,
    StoryComment,
    StoryView,
    StripeWebhookEvent,
    VerificationToken,
)

log = logging.getLogger("storyapp.cleanup")

DEFAULT_BATCH_SIZE = 5000
DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What one purge removed: rows per table, the batches it took, and rows it kept on purpose."""

    deleted: dict[str, int]
    batches: int
    kept: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def token_expired(now: datetime) -> ColumnElement[bool]:
    """Which verification tokens the purge deletes at ``now``."""
    return VerificationToken.expires_at < now


def story_purgeable(now: datetime, retention_days: int) -> ColumnElement[bool]:
    """Which stories the purge deletes at ``now``: soft-deleted before the retention window."""
    return Story.deleted_at < now - timedelta(days=retention_days)


def event_old(now: datetime, retention_days: int) -> ColumnElement[bool]:
    """Which webhook events are past retention, processed or not."""
    return StripeWebhookEvent.received_at < now - timedelta(days=retention_days)


def event_purgeable(now: datetime, retention_days: int) -> ColumnElement[bool]:
    """Which webhook events the purge deletes at ``now``: old and processed."""
    return and_(event_old(now, retention_days), StripeWebhookEvent.processed_at.is_not(None))


def purge_expired_tokens(
    engine: Engine,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    keep_going: KeepGoing | None = None,
) -> PurgeResult:
    """Delete every verification token whose ``expires_at`` has passed."""
    token = VerificationToken
    expired = select(token.id).where(token_expired(now or datetime.now(UTC)))
    expired = expired.order_by(token.expires_at)

    def step(connection: Connection) -> dict[str, int]:
        return {"tokens": _delete_batch(connection, token, expired, batch_size)}

    what = "expired verification tokens"
    run = _run_batches(engine, step, batch_size, "tokens", what=what, keep_going=keep_going)
    if run.interrupted:
        return PurgeResult(run.deleted, run.count, interrupted=True)
    log.info(
        "Purged expired verification tokens: tokens=%d batches=%d.",
        run.deleted["tokens"],
        run.count,
    )
    return PurgeResult(run.deleted, run.count)


def purge_deleted_stories(
    engine: Engine,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    keep_going: KeepGoing | None = None,
) -> PurgeResult:
    """Delete stories soft-deleted more than ``retention_days`` ago, their children first."""
    purgeable = story_purgeable(now or datetime.now(UTC), retention_days)
    old = select(Story.id).where(purgeable).order_by(Story.deleted_at)

    def step(connection: Connection) -> dict[str, int]:
        ids = _lock_batch(connection, old, batch_size)
        if not ids:
            return {"stories": 0, "comments": 0, "views": 0}
        comments = connection.execute(delete(StoryComment).where(StoryComment.story_id.in_(ids)))
        views = connection.execute(delete(StoryView).where(StoryView.story_id.in_(ids)))
        stories = _delete_ids(connection, Story, ids)
        return {"stories": stories, "comments": comments.rowcount, "views": views.rowcount}

    what = "soft-deleted stories"
    run = _run_batches(engine, step, batch_size, "stories", what=what, keep_going=keep_going)
    if run.interrupted:
        return PurgeResult(run.deleted, run.count, interrupted=True)
    deleted = run.deleted
    log.info(
        "Purged soft-deleted stories: stories=%d comments=%d views=%d batches=%d "
        "retention_days=%d.",
        deleted["stories"], deleted["comments"], deleted["views"], run.count, retention_days,
    )  # fmt: skip
    return PurgeResult(deleted, run.count)


def purge_old_webhook_events(
    engine: Engine,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    keep_going: KeepGoing | None = None,
) -> PurgeResult:
    """Delete processed Stripe events received more than ``retention_days`` ago.

    Old events that were never processed are kept and counted: someone must look at them.
    """
    moment = now or datetime.now(UTC)
    event = StripeWebhookEvent
    done = select(event.id).where(event_purgeable(moment, retention_days))
    old = event_old(moment, retention_days)

    def step(connection: Connection) -> dict[str, int]:
        oldest = done.order_by(event.received_at)
        return {"webhook_events": _delete_batch(connection, event, oldest, batch_size)}

    what = "processed Stripe webhook events"
    run = _run_batches(engine, step, batch_size, "webhook_events", what=what, keep_going=keep_going)
    if run.interrupted:
        return PurgeResult(run.deleted, run.count, interrupted=True)
    unprocessed = select(func.count()).select_from(event).where(old, event.processed_at.is_(None))
    kept = _count(engine, unprocessed)
    level = logging.WARNING if kept else logging.INFO
    log.log(
        level,
        "Purged processed Stripe webhook events: webhook_events=%d batches=%d "
        "kept_unprocessed=%d retention_days=%d.",
        run.deleted["webhook_events"], run.count, kept, retention_days,
    )  # fmt: skip
    return PurgeResult(run.deleted, run.count, kept={"unprocessed_webhook_events": kept})


Step = Callable[[Connection], dict[str, int]]
KeepGoing = Callable[[], bool]
"""Asked before each batch; False stops the purge there."""


@dataclass(frozen=True, slots=True)
class _Batches:
    """What :func:`_run_batches` did: batches run, rows deleted per table, whether it stopped."""

    count: int
    deleted: dict[str, int]
    interrupted: bool = False


def _run_batches(
    engine: Engine,
    step: Step,
    batch_size: int,
    driver: str,
    *,
    what: str,
    keep_going: KeepGoing | None,
) -> _Batches:
    """Run ``step`` in one transaction per batch until ``driver``'s count falls below a batch.

    Stops early when ``keep_going`` says so; an error after the first batch is logged with what
    was deleted before it, then raised.
    """
    count = 0
    totals: dict[str, int] = {}
    try:
        while True:
            if keep_going is not None and not keep_going():
                _log_interrupted(what, totals, count, "its task was stopped")
                return _Batches(count, totals, interrupted=True)
            with write_transaction(engine) as connection:
                counts = step(connection)
            count += 1
            for table, deleted in counts.items():
                totals[table] = totals.get(table, 0) + deleted
            if counts[driver] < batch_size:
                return _Batches(count, totals)
    except BaseException as exc:
        if totals:
            _log_interrupted(what, totals, count, f"batch {count + 1} raised {type(exc).__name__}")
        raise


def _log_interrupted(what: str, totals: dict[str, int], batches: int, cause: str) -> None:
    """One warning with the rows already deleted: their batches committed before the stop."""
    deleted = sum(totals.values())
    tables = " ".join(f"{table}={n}" for table, n in totals.items())
    log.warning(
        "Purge interrupted after deleting %d %s of %s (%sbatches=%d) because %s; the next run "
        "deletes the rest.",
        deleted, "row" if deleted == 1 else "rows", what, tables + " " if tables else "", batches,
        cause,
    )  # fmt: skip


def _lock_batch(connection: Connection, query: Select[int], batch_size: int) -> list[int]:
    """The next ``batch_size`` keys, skipping rows that a concurrent purge holds."""
    locked = query.limit(batch_size).with_for_update(skip_locked=True)
    return list(connection.scalars(locked))


def _delete_batch(
    connection: Connection, model: type[HasId], query: Select[int], batch_size: int
) -> int:
    """Delete the next batch in one statement, its keys chosen by a locking sub-select."""
    batch = query.limit(batch_size).with_for_update(skip_locked=True).scalar_subquery()
    return connection.execute(delete(model).where(model.id.in_(batch))).rowcount


def _delete_ids(connection: Connection, model: type[HasId], ids: list[int]) -> int:
    if not ids:
        return 0
    return connection.execute(delete(model).where(model.id.in_(ids))).rowcount


def _count(engine: Engine, query: Select[int]) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)
