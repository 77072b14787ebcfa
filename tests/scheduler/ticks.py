"""Helpers for scheduler tests: wait for a tick boundary, count tasks per tick."""

from __future__ import annotations

import asyncio
import time

import redis

from asyncq.redis import keys
from asyncq.redis.schedule_store import scheduler_fired_key


async def at_tick_start(interval: int, offset: float = 0.1) -> None:
    """Sleep until ``offset`` seconds after the next multiple of ``interval``."""
    await asyncio.sleep(interval - time.time() % interval + offset)


def pending_since_seconds(client: redis.Redis, queue: str = "default") -> list[int]:
    """When each pending task became pending, in whole seconds, oldest first."""
    ids = client.lrange(keys.pending_key(queue), 0, -1)
    values = [client.hget(keys.task_key(queue, i.decode()), "pending_since") for i in ids]
    return sorted(int(v) // 1_000_000_000 for v in values)


def assert_one_task_per_tick(
    client: redis.Redis, entry_id: str, interval: int, first_tick: int
) -> int:
    """Every tick from ``first_tick`` to the newest recorded one has exactly one task."""
    newest = int(client.hget(scheduler_fired_key("default"), entry_id))
    ticks = (newest - first_tick) // interval + 1
    enqueued = pending_since_seconds(client)

    assert len(enqueued) == ticks, f"{len(enqueued)} tasks for {ticks} ticks: {enqueued}"
    return ticks
