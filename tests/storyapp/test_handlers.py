"""The clean-up handlers, called as the worker calls them, and the legacy scheduler's jobs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from storyapp_rows import add_tokens

from asyncq import SkipRetry
from storyapp.config import CleanupSettings
from storyapp.handlers import CleanupHandlers
from storyapp.legacy import start_legacy_scheduler
from storyapp.models import VerificationToken
from storyapp.schedule import Schedule
from storyapp.tasks import CleanupType, cleanup_task


@dataclass
class FakeRunningTask:
    """A task as a handler receives it; only the fields the handlers read."""

    type: str
    payload: bytes
    id: str = "4f1c7f2e"
    running: bool = True


def tokens_left(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(VerificationToken)) or 0)


@pytest.mark.parametrize("payload", [b"", b"{}", b" { } \n"])
def test_an_empty_payload_runs_the_cleanup(sqlite_engine: Engine, payload: bytes) -> None:
    now = datetime.now(UTC)
    add_tokens(sqlite_engine, [now - timedelta(hours=1)] * 4 + [now + timedelta(hours=1)], now)
    handlers = CleanupHandlers(sqlite_engine, CleanupSettings())

    handlers.expired_tokens(FakeRunningTask(CleanupType.EXPIRED_TOKENS, payload))

    assert tokens_left(sqlite_engine) == 1


@pytest.mark.parametrize("payload", [b"[]", b'{"days": 3}', b"null", b"\xff\xfe", b"{"])
def test_any_other_payload_is_archived_without_touching_rows(
    sqlite_engine: Engine, payload: bytes
) -> None:
    now = datetime.now(UTC)
    add_tokens(sqlite_engine, [now - timedelta(hours=1)] * 2, now)
    handlers = CleanupHandlers(sqlite_engine, CleanupSettings())

    with pytest.raises(SkipRetry) as raised:
        handlers.expired_tokens(FakeRunningTask(CleanupType.EXPIRED_TOKENS, payload))

    assert str(raised.value).startswith(
        "Task type=cleanup:expired_tokens takes an empty payload or {}, got"
    )
    assert tokens_left(sqlite_engine) == 2


def test_every_cleanup_type_has_a_handler_and_a_cleanup_queue_task(sqlite_engine: Engine) -> None:
    routes = CleanupHandlers(sqlite_engine, CleanupSettings()).routes()

    assert sorted(routes) == sorted(kind.value for kind in CleanupType)
    for kind in CleanupType:
        task = cleanup_task(kind)
        assert (task.type, task.payload, task.options.queue) == (kind.value, b"{}", "cleanup")


def test_the_legacy_scheduler_purges_on_its_schedule(sqlite_engine: Engine) -> None:
    now = datetime.now(UTC)
    add_tokens(sqlite_engine, [now - timedelta(hours=1)] * 3 + [now + timedelta(hours=1)], now)
    every_second = Schedule.parse("@every 1s")
    settings = CleanupSettings(
        tokens_schedule=every_second,
        stories_schedule=every_second,
        webhooks_schedule=every_second,
    )

    scheduler = start_legacy_scheduler(sqlite_engine, settings)
    try:
        deadline = time.monotonic() + 10
        while tokens_left(sqlite_engine) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        jobs = sorted(job.id for job in scheduler.get_jobs())
    finally:
        scheduler.shutdown()

    assert tokens_left(sqlite_engine) == 1
    assert jobs == sorted(kind.value for kind in CleanupType)
