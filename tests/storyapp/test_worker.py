"""The worker against real Redis and a real database: scheduled clean-ups and an outage."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from storyapp_rows import add_event, add_story, add_tokens
from worker_support import EVERY_SECOND, fast_worker, purgeable, settings_for, wait_for

from asyncq import Task, TaskOptions
from asyncq.client import Client
from asyncq.inspector import Inspector
from storyapp.db import make_engine
from storyapp.legacy import start_legacy_scheduler
from storyapp.models import HasId, Story, StripeWebhookEvent, VerificationToken
from storyapp.stats import table_stats
from storyapp.tasks import enqueue_delete_stories, enqueue_token_cleanup, enqueue_webhook_cleanup

DAY = timedelta(days=1)


def ordered_ids(engine: Engine, model: type[HasId]) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(select(model.id).order_by(model.id)))


def token_ids(engine: Engine) -> list[int]:
    return ordered_ids(engine, VerificationToken)


def story_ids(engine: Engine) -> list[int]:
    return ordered_ids(engine, Story)


def event_ids(engine: Engine) -> list[int]:
    return ordered_ids(engine, StripeWebhookEvent)


async def test_the_worker_runs_every_cleanup_on_its_schedule(
    sqlite_engine: Engine,
    redis_url: str,
    raw_redis: redis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = datetime.now(UTC)
    add_tokens(sqlite_engine, [now - DAY] * 5 + [now + DAY], now - 2 * DAY)
    add_story(sqlite_engine, now - 90 * DAY, now - 40 * DAY, comments=2, views=3)
    add_event(sqlite_engine, now - 40 * DAY, now - 40 * DAY)
    every = {"tokens": EVERY_SECOND, "stories": EVERY_SECOND, "webhooks": EVERY_SECOND}
    worker = fast_worker(settings_for(redis_url, **every), sqlite_engine)

    async def all_purged() -> bool:
        return set((await purgeable(sqlite_engine)).values()) == {0}

    with caplog.at_level(logging.INFO):
        await worker.start()
        try:
            await wait_for(all_purged)
        finally:
            await worker.shutdown()

    messages = "\n".join(caplog.messages)
    assert "Connected to the database: sqlite:///" in messages
    for task_type in ("expired_tokens", "deleted_stories", "stripe_webhook_events"):
        assert f"Registered periodic task type=cleanup:{task_type} spec='@every 1s'" in messages
        assert f"Processed task type=cleanup:{task_type} id=" in messages
    assert "Purged expired verification tokens: tokens=5 batches=1." in messages
    assert "Purged soft-deleted stories: stories=1 comments=2 views=3" in messages


@pytest.fixture
def app_role(pg_schema: str, postgres_url: str) -> Iterator[str]:
    """A login role that owns nothing but may purge the schema's tables; dropped afterwards."""
    role = f"storyapp_worker_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        connection.execute(text(f'GRANT USAGE ON SCHEMA "{pg_schema}" TO "{role}"'))
        connection.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA "{pg_schema}" TO "{role}"'))
    yield role
    with admin.connect() as connection:
        set_login(connection, role, allowed=True)
        connection.execute(text(f'DROP OWNED BY "{role}"'))
        connection.execute(text(f'DROP ROLE "{role}"'))
    admin.dispose()


def set_login(connection: object, role: str, allowed: bool) -> None:
    """Refuse (or allow again) the role's logins and end the sessions it has open."""
    run = connection.execute  # type: ignore[attr-defined]
    run(text(f'ALTER ROLE "{role}" {"LOGIN" if allowed else "NOLOGIN"}'))
    if not allowed:
        run(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
            {"r": role},
        )


@pytest.mark.usefixtures("raw_redis")
async def test_the_worker_survives_a_database_outage(
    pg_engine: Engine, pg_schema: str, app_role: str, postgres_url: str, redis_url: str
) -> None:
    role_url = make_url(postgres_url).set(username=app_role, password=None)
    worker_engine = make_engine(role_url, schema=pg_schema)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    worker = fast_worker(settings_for(redis_url, tokens=EVERY_SECOND), worker_engine)
    inspector = Inspector.from_url(redis_url)
    now = datetime.now(UTC)
    await worker.start()

    async def failed_once() -> bool:
        if "cleanup" not in await inspector.queues():
            return False
        return (await inspector.queue_info("cleanup")).failed_total >= 1

    async def tokens_purged() -> bool:
        return (await purgeable(pg_engine))["tokens"] == 0

    try:
        with admin.connect() as connection:
            set_login(connection, app_role, allowed=False)
        add_tokens(pg_engine, [now - DAY] * 3, now - 2 * DAY)
        await wait_for(failed_once)
        still_there = (await purgeable(pg_engine))["tokens"]

        with admin.connect() as connection:
            set_login(connection, app_role, allowed=True)
        await wait_for(tokens_purged)
        add_tokens(pg_engine, [now - DAY] * 2, now - 2 * DAY)
        await wait_for(tokens_purged)
    finally:
        await worker.shutdown()
        await inspector.close()
        worker_engine.dispose()
        admin.dispose()

    assert still_there == 3


@pytest.mark.usefixtures("raw_redis")
async def test_enqueued_cleanups_run_on_the_worker_against_the_database(
    engine: Engine, redis_url: str
) -> None:
    now = datetime.now(UTC)
    add_tokens(engine, [now - DAY] * 4 + [now + DAY] * 2, now - 2 * DAY)
    live = add_story(engine, now - 90 * DAY, None, comments=1, views=1)
    add_story(engine, now - 90 * DAY, now - 45 * DAY, comments=3, views=2)
    stuck = add_event(engine, now - 40 * DAY, None)
    add_event(engine, now - 40 * DAY, now - 40 * DAY)
    worker = fast_worker(settings_for(redis_url), engine)
    client = Client.from_url(redis_url)

    async def all_purged() -> bool:
        return set((await purgeable(engine)).values()) == {0}

    await worker.start()
    try:
        infos = [
            await enqueue_token_cleanup(client),
            await enqueue_delete_stories(client),
            await enqueue_webhook_cleanup(client),
        ]
        await wait_for(all_purged)
    finally:
        await worker.shutdown()
        await client.close()

    assert {info.queue for info in infos} == {"cleanup"}
    assert table_stats(engine)["tokens"]["total"] == 2
    assert story_ids(engine) == [live]
    assert event_ids(engine) == [stuck]


@pytest.mark.usefixtures("raw_redis")
async def test_a_task_with_a_payload_is_archived_without_retries(
    sqlite_engine: Engine, redis_url: str
) -> None:
    now = datetime.now(UTC)
    add_tokens(sqlite_engine, [now - DAY], now - 2 * DAY)
    worker = fast_worker(settings_for(redis_url), sqlite_engine)
    client = Client.from_url(redis_url)
    inspector = Inspector.from_url(redis_url)
    task = Task("cleanup:expired_tokens", b'{"user_id": 7}', options=TaskOptions(queue="cleanup"))

    async def archived() -> bool:
        return (await inspector.queue_info("cleanup")).archived == 1

    await worker.start()
    try:
        info = await client.enqueue(task)
        await wait_for(archived)
        [dead] = await inspector.list_tasks("cleanup", "archived")
    finally:
        await worker.shutdown()
        await client.close()
        await inspector.close()

    assert dead.id == info.id
    assert dead.retried == 0
    assert dead.last_err.startswith("SkipRetry: Task type=cleanup:expired_tokens takes an empty")
    assert table_stats(sqlite_engine)["tokens"]["purgeable"] == 1


@pytest.mark.usefixtures("raw_redis")
async def test_worker_and_legacy_scheduler_firing_together_leave_the_right_rows(
    engine: Engine, redis_url: str
) -> None:
    now = datetime.now(UTC)
    add_tokens(engine, [now - timedelta(seconds=s) for s in range(1, 2001)], now - DAY)
    kept = add_tokens(engine, [now + DAY] * 10, now - DAY)
    for _ in range(20):
        add_story(engine, now - 90 * DAY, now - 60 * DAY, comments=2, views=2)
    every = {"tokens": EVERY_SECOND, "stories": EVERY_SECOND, "webhooks": EVERY_SECOND}
    settings = settings_for(redis_url, **every)
    small_batches = replace(settings.cleanup, batch_size=50)
    worker = fast_worker(replace(settings, cleanup=small_batches), engine)

    async def all_purged() -> bool:
        return set((await purgeable(engine)).values()) == {0}

    legacy = start_legacy_scheduler(engine, small_batches)
    await worker.start()
    try:
        await wait_for(all_purged)
    finally:
        await worker.shutdown()
        legacy.shutdown()

    assert token_ids(engine) == kept
    assert table_stats(engine)["stories"]["total"] == 0


@pytest.mark.usefixtures("raw_redis")
async def test_two_worker_replicas_enqueue_each_tick_once(
    sqlite_engine: Engine, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(redis_url, tokens=EVERY_SECOND)
    replicas = [fast_worker(settings, sqlite_engine) for _ in range(2)]

    def enqueued_ticks() -> list[str]:
        return re.findall(
            r"type=cleanup:expired_tokens .* tick=(\d+)\.", "\n".join(caplog.messages)
        )

    async def three_ticks() -> bool:
        return len(set(enqueued_ticks())) >= 3

    caplog.set_level(logging.INFO)
    with caplog.at_level(logging.DEBUG, logger="asyncq.scheduler"):
        for replica in replicas:
            await replica.start()
        try:
            await wait_for(three_ticks)
        finally:
            for replica in replicas:
                await replica.shutdown()

    ticks = enqueued_ticks()
    assert len(ticks) == len(set(ticks))
    logged = [m for m in caplog.messages if m.startswith("Enqueued periodic task type=cleanup:")]
    assert len(logged) == len(ticks)


@pytest.mark.usefixtures("raw_redis")
async def test_a_purge_cut_short_at_shutdown_logs_the_rows_it_deleted(
    sqlite_engine: Engine, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    add_tokens(sqlite_engine, [now - DAY] * 25, now - 2 * DAY)
    settings = settings_for(redis_url)
    worker = fast_worker(
        replace(settings, cleanup=replace(settings.cleanup, batch_size=10)), sqlite_engine
    )
    client = Client.from_url(redis_url)
    blocker = sqlite3.connect(str(sqlite_engine.url.database), isolation_level=None)

    def said(text: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return any(text in message for message in caplog.messages)

        check.__name__ = f"logged {text!r}"
        return check

    caplog.set_level(logging.INFO)
    blocker.execute("BEGIN IMMEDIATE")
    await worker.start()
    stopping: asyncio.Task[None] | None = None
    try:
        await enqueue_token_cleanup(client)
        await wait_for(said("Processing task type=cleanup:expired_tokens"))
        stopping = asyncio.create_task(worker.shutdown())
        await wait_for(said("is still running after the task ended"))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await (stopping or worker.shutdown())
        await client.close()
    await wait_for(said("Purge interrupted after deleting"))

    assert len(token_ids(sqlite_engine)) == 15
    assert (
        "Purge interrupted after deleting 10 rows of expired verification tokens (tokens=10 "
        "batches=1) because its task was stopped; the next run deletes the rest."
    ) in caplog.messages
    assert not any(m.startswith("Purged expired verification tokens") for m in caplog.messages)
