"""Scenario 17 replayed: a cancel sent the way Go's inspector sends it stops a Python handler.

Go's CLI publishes the task ID on ``asynq:cancel``; here the test publishes the same
message with a plain PUBLISH while a Python server runs the task. The handler's
cancellation is a failure, as in Go: the task waits in retry with ``context canceled``,
counted once as processed and failed, and the state matches Go's key by key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from asyncq.client import Client
from asyncq.context import ActiveTask
from asyncq.redis import keys
from asyncq.redis.broker import RedisBroker
from asyncq.server import Server, ServerConfig
from compat.scenario import WORKER_TOLERANCE_S, Run, Scenario, assert_same_state
from compat.test_scenarios_worker import client_steps, enqueue_steps, fixed, until


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Client]:
    async with Client.from_url(redis_url) as made:
        yield made


async def test_17_a_cancel_published_like_gos_inspector_leaves_gos_state(
    client: Client, redis_url: str, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load("17_cancel_active_task")
    run = Run.start(raw_redis)
    await enqueue_steps(client, run, client_steps(scenario, 0, 1))
    task_id = run.ids["<ID1>"]
    started = asyncio.Event()

    async def slow(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(60)

    broker = RedisBroker.from_url(redis_url)
    config = ServerConfig(concurrency=1, retry_delay_func=fixed(3600), task_check_interval=0.2)
    server = Server(config, broker=broker)
    await server.start(slow)
    try:
        await asyncio.wait_for(started.wait(), timeout=10)
        await until(lambda: raw_redis.pubsub_numsub(keys.CANCEL_CHANNEL)[0][1] > 0)
        raw_redis.publish(keys.CANCEL_CHANNEL, task_id)
        await until(lambda: raw_redis.zscore("asynq:{default}:retry", task_id))
    finally:
        await server.shutdown()

    assert_same_state(scenario.redis_after, run, WORKER_TOLERANCE_S)
