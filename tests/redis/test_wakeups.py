"""Producers wake idle workers only when a pending list was empty; workers still start
every burst of tasks at once, without waiting for their fallback poll."""

from __future__ import annotations

import asyncio
from typing import Any

import redis
import redis.asyncio as aioredis
from broker_state import message

from asyncq.client import Client
from asyncq.context import ActiveTask
from asyncq.redis import keys
from asyncq.redis.broker import RedisBroker
from asyncq.server import Server, ServerConfig
from asyncq.task import Task


def wakeups(listener: Any) -> list[bytes]:
    received = [listener.get_message(timeout=0.2) for _ in range(4)]
    return [m["data"] for m in received if m]


async def test_only_a_task_landing_in_an_empty_pending_list_wakes_workers(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    listener = raw_redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(keys.WAKEUP_CHANNEL)

    await broker.enqueue(message())
    await broker.enqueue(message())
    await broker.enqueue(message(queue="low"))

    assert wakeups(listener) == [b"default", b"low"]
    listener.close()


async def test_a_batch_wakes_workers_once_and_only_onto_an_empty_pending_list(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    listener = raw_redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(keys.WAKEUP_CHANNEL)

    await broker.enqueue_batch([message() for _ in range(3)])
    first = wakeups(listener)
    await broker.enqueue_batch([message() for _ in range(3)])
    second = wakeups(listener)

    assert (first, second) == ([b"default"], [])
    assert raw_redis.llen("asynq:{default}:pending") == 6
    listener.close()


async def test_an_idle_worker_starts_every_burst_without_its_fallback_poll(
    redis_url: str, aio_redis: aioredis.Redis
) -> None:
    started: list[str] = []
    both_ran = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.append(task.id)
        await asyncio.sleep(0.01)
        if len(started) % 5 == 0:
            both_ran.set()

    config = ServerConfig(redis_url=redis_url, concurrency=2, task_check_interval=60)
    server = Server(config)
    await server.start(handler)
    try:
        async with Client.from_url(redis_url) as client:
            await asyncio.sleep(0.2)
            for _ in range(3):
                both_ran.clear()
                await client.enqueue_many([Task("burst") for _ in range(3)])
                await client.enqueue(Task("burst"))
                await client.enqueue(Task("burst"))
                await asyncio.wait_for(both_ran.wait(), 10)
    finally:
        await server.shutdown()

    assert len(started) == 15
    assert await aio_redis.llen("asynq:{default}:pending") == 0


async def test_a_worker_of_one_queue_starts_a_task_stored_without_a_wakeup(
    redis_url: str, aio_redis: aioredis.Redis
) -> None:
    ran = asyncio.Event()
    config = ServerConfig(redis_url=redis_url, concurrency=2, task_check_interval=60)
    server = Server(config)
    await server.start(lambda task: ran.set())
    try:
        await asyncio.sleep(0.3)
        msg = message(task_id="from-go")
        await aio_redis.hset(
            "asynq:{default}:t:from-go",
            mapping={"msg": msg.SerializeToString(), "state": "pending"},
        )
        await aio_redis.lpush("asynq:{default}:pending", "from-go")
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        await server.shutdown()

    assert await aio_redis.exists("asynq:{default}:t:from-go") == 0
