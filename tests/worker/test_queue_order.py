"""Weighted and strict queue priority, observed through the order in which tasks start."""

from __future__ import annotations

import collections

import redis.asyncio as aioredis

from asyncq.context import ActiveTask
from asyncq.redis.broker import RedisBroker
from worker.helpers import message, running_server, wait_for


async def fill(broker: RedisBroker, queue: str, count: int) -> None:
    await broker.publish_queue(queue)
    for start in range(0, count, 500):
        batch = [message("short", queue=queue) for _ in range(min(500, count - start))]
        await broker.enqueue_batch(batch)


async def test_weighted_queues_start_tasks_in_proportion_to_their_weights(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    for queue in ("critical", "default", "low"):
        await fill(broker, queue, 3000)
    starts: list[str] = []

    async def handler(task: ActiveTask) -> None:
        starts.append(task.queue)

    weights = {"critical": 6, "default": 3, "low": 1}
    async with running_server(broker, handler, concurrency=4, queues=weights):
        await wait_for(lambda: len(starts) >= 1000, timeout=60)

    split = collections.Counter(starts[:1000])
    assert abs(split["critical"] / 1000 - 0.6) <= 0.05, split
    assert abs(split["default"] / 1000 - 0.3) <= 0.05, split
    assert abs(split["low"] / 1000 - 0.1) <= 0.05, split


async def test_strict_priority_never_starts_a_lower_queue_while_a_higher_one_has_work(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    await fill(broker, "low", 40)
    await fill(broker, "high", 40)
    starts: list[tuple[str, int]] = []

    async def handler(task: ActiveTask) -> None:
        high_pending = await aio_redis.llen("asynq:{high}:pending")
        starts.append((task.queue, high_pending))

    queues = {"high": 2, "low": 1}
    async with running_server(broker, handler, concurrency=3, queues=queues, strict_priority=True):
        await wait_for(lambda: len(starts) >= 80, timeout=20)

    assert [queue for queue, _ in starts] == ["high"] * 40 + ["low"] * 40
    assert all(pending == 0 for queue, pending in starts if queue == "low")
