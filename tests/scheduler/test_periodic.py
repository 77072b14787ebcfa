"""PeriodicTaskManager: entries follow the provider, still once per tick across managers."""

from __future__ import annotations

import asyncio

import pytest
import redis

from asyncq.errors import ConfigError
from asyncq.periodic import PeriodicTaskConfig, PeriodicTaskManager
from asyncq.redis import keys
from asyncq.scheduler import SchedulerConfig
from asyncq.task import Task

from .ticks import assert_one_task_per_tick, at_tick_start, pending_since_seconds

CONFIG = SchedulerConfig(heartbeat_interval=0.5)


async def test_entries_are_added_and_removed_as_the_provider_changes(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    configs = [PeriodicTaskConfig("@every 1s", Task("first"), {"queue": "a"})]
    manager = PeriodicTaskManager(redis_url, lambda: list(configs), CONFIG, sync_interval=0.3)
    await at_tick_start(1, offset=0.1)

    await manager.start()
    await asyncio.sleep(1.5)
    configs[:] = [PeriodicTaskConfig("@every 1s", Task("second"), {"queue": "b"})]
    await asyncio.sleep(0.6)
    first_count = raw_redis.llen(keys.pending_key("a"))
    await asyncio.sleep(1.5)
    await manager.shutdown()

    assert first_count >= 1
    assert raw_redis.llen(keys.pending_key("a")) == first_count
    assert raw_redis.llen(keys.pending_key("b")) >= 1
    assert len(manager.scheduler.entry_ids) == 1


async def test_an_async_provider_is_awaited_and_an_unchanged_config_keeps_its_entry(
    redis_url: str,
) -> None:
    config = PeriodicTaskConfig("*/5 * * * *", Task("report", b"x"), {"max_retry": 2})

    async def provider() -> list[PeriodicTaskConfig]:
        return [config]

    manager = PeriodicTaskManager(redis_url, provider, CONFIG)
    await manager.start()
    before = manager.scheduler.entry_ids
    await manager.sync()
    after = manager.scheduler.entry_ids
    await manager.shutdown()

    assert before == after and len(after) == 1


async def test_a_failing_or_invalid_provider_fails_the_start(redis_url: str) -> None:
    def broken() -> list[PeriodicTaskConfig]:
        raise RuntimeError("database is down")

    with pytest.raises(ConfigError, match="database is down"):
        await PeriodicTaskManager(redis_url, broken, CONFIG).start()
    with pytest.raises(ConfigError, match="empty cron spec"):
        await PeriodicTaskManager(
            redis_url, lambda: [PeriodicTaskConfig(" ", Task("t"))], CONFIG
        ).start()


async def test_two_managers_with_the_same_provider_enqueue_each_tick_once(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    configs = [PeriodicTaskConfig("@every 1s", Task("cron:tick"))]
    managers = [
        PeriodicTaskManager(redis_url, lambda: configs, CONFIG, sync_interval=0.3) for _ in range(2)
    ]
    await at_tick_start(1, offset=0.2)

    for manager in managers:
        await manager.start()
    await asyncio.sleep(4)
    for manager in managers:
        await manager.shutdown()

    entry_id = managers[0].scheduler.entry_ids[0]
    first_tick = pending_since_seconds(raw_redis)[0]
    assert assert_one_task_per_tick(raw_redis, entry_id, 1, first_tick) >= 3
