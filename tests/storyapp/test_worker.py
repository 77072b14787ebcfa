"""The worker against real Redis and a real database: scheduled clean-ups and an outage."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from storyapp_rows import add_event, add_story, add_tokens
from worker_support import EVERY_SECOND, fast_worker, purgeable, settings_for, wait_for

from asyncq.inspector import Inspector
from storyapp.db import make_engine

DAY = timedelta(days=1)


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
