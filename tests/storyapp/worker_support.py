"""Building and polling a storyapp worker in tests, with every interval shortened."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urlparse

from sqlalchemy import Engine

from storyapp.config import CleanupSettings, RedisSettings, Settings
from storyapp.schedule import Schedule
from storyapp.stats import table_stats
from storyapp.worker import StoryWorker, scheduler_config, server_config

NEVER = Schedule.parse("0 0 1 1 *")
EVERY_SECOND = Schedule.parse("@every 1s")


def settings_for(redis_url: str, **schedules: Schedule) -> Settings:
    """Settings for the private Redis; ``schedules`` override the yearly default of each."""
    address = urlparse(redis_url)
    cleanup = CleanupSettings(
        tokens_schedule=schedules.get("tokens", NEVER),
        stories_schedule=schedules.get("stories", NEVER),
        webhooks_schedule=schedules.get("webhooks", NEVER),
    )
    redis = RedisSettings(host=address.hostname or "127.0.0.1", port=address.port or 6379)
    return Settings(redis=redis, cleanup=cleanup)


def fast_worker(settings: Settings, engine: Engine) -> StoryWorker:
    """A worker whose polls and retries take fractions of a second."""
    server = server_config(
        settings,
        task_check_interval=0.1,
        delayed_task_check_interval=0.1,
        shutdown_timeout=2.0,
        retry_delay_func=lambda retried, error, task: 0.3,
    )
    return StoryWorker(settings, engine, server, scheduler_config(settings, heartbeat_interval=1))


async def purgeable(engine: Engine) -> dict[str, int]:
    stats = await asyncio.to_thread(table_stats, engine)
    return {name: counts["purgeable"] for name, counts in stats.items()}


async def wait_for(check: Callable[[], object], timeout: float = 15.0) -> None:
    """Poll the async ``check`` until it returns a true value; fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():  # type: ignore[misc]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{check.__name__} did not become true in {timeout} s")
        await asyncio.sleep(0.1)
