"""Several schedulers: one publishes the entries at a time, the last to stop clears history."""

from __future__ import annotations

import asyncio

import redis

from asyncq.redis import keys
from asyncq.redis.schedule_store import PUBLISHER_LEASE_KEY
from asyncq.scheduler import Scheduler, SchedulerConfig
from asyncq.task import Task

CONFIG = SchedulerConfig(heartbeat_interval=0.3, publisher_lease_ttl=0.6)


def publishers(raw_redis: redis.Redis) -> list[bytes]:
    """The entries keys that asynq's CLI would read, with a live list behind them."""
    listed = raw_redis.zrange(keys.ALL_SCHEDULERS, 0, -1)
    return [key for key in listed if raw_redis.exists(key)]


async def test_one_of_several_schedulers_publishes_and_another_takes_over_when_it_stops(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    schedulers = [Scheduler(redis_url, CONFIG) for _ in range(3)]
    for scheduler in schedulers:
        scheduler.register("@every 1s", Task("cron:tick"))
        await scheduler.start()
    await asyncio.sleep(0.5)

    first = publishers(raw_redis)
    holder = raw_redis.get(PUBLISHER_LEASE_KEY).decode()
    publisher = next(s for s in schedulers if s.id == holder)
    await publisher.shutdown()
    await asyncio.sleep(1.0)
    second = publishers(raw_redis)
    new_holder = raw_redis.get(PUBLISHER_LEASE_KEY).decode()
    for scheduler in schedulers:
        await scheduler.shutdown()

    assert first == [keys.scheduler_entries_key(holder).encode()]
    assert new_holder != holder and new_holder in {s.id for s in schedulers}
    assert second == [keys.scheduler_entries_key(new_holder).encode()]
    assert publishers(raw_redis) == []


async def test_history_stays_while_another_scheduler_is_alive(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    schedulers = [Scheduler(redis_url, CONFIG) for _ in range(2)]
    entry_id = {s.register("@every 1s", Task("cron:tick")) for s in schedulers}.pop()
    for scheduler in schedulers:
        await scheduler.start()
    await asyncio.sleep(1.5)

    await schedulers[0].shutdown()
    kept = raw_redis.zcard(keys.scheduler_history_key(entry_id))
    await schedulers[1].shutdown()

    assert kept >= 1
    assert not raw_redis.exists(keys.scheduler_history_key(entry_id))
