"""The Server's configuration and lifecycle."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from asyncq.context import ActiveTask
from asyncq.errors import AsyncqError, ConfigError, ServerClosedError
from asyncq.proto import TaskMessage
from asyncq.redis.broker import RedisBroker
from asyncq.server import Server, ServerConfig


@pytest.fixture
async def broker(aio_redis: aioredis.Redis, redis_url: str) -> AsyncIterator[RedisBroker]:
    made = RedisBroker.from_url(redis_url)
    yield made
    await made.close()


async def nothing(task: ActiveTask) -> None:
    pass


def test_defaults_are_asynqs_with_a_faster_forwarder() -> None:
    config = ServerConfig()

    assert config.concurrency == (os.cpu_count() or 1)
    assert config.weights == {"default": 1}
    assert config.shutdown_timeout == 8.0
    assert config.task_check_interval == 1.0
    assert config.delayed_task_check_interval == 1.0
    assert config.heartbeat_interval == 5.0
    assert config.recoverer_interval == 60.0
    assert (config.janitor_interval, config.janitor_batch_size) == (8.0, 100)


def test_from_url_keeps_the_url_and_the_other_fields() -> None:
    config = ServerConfig.from_url("redis://127.0.0.1:7000/2", concurrency=3, queues={"a": 2})

    assert config.redis_url == "redis://127.0.0.1:7000/2"
    assert config.concurrency == 3
    assert config.weights == {"a": 2}


@pytest.mark.parametrize(
    "fields",
    [{"concurrency": 0}, {"shutdown_timeout": 0}, {"heartbeat_interval": -1}],
)
def test_invalid_settings_are_refused_with_a_config_error(fields: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        ServerConfig(**fields)  # type: ignore[arg-type]


def test_invalid_queue_weights_are_refused() -> None:
    with pytest.raises(ConfigError, match="weight"):
        ServerConfig(queues={"a": 0})
    with pytest.raises(ConfigError, match="positive integers"):
        ServerConfig(queues={"a": 1.5})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="blank"):
        ServerConfig(queues={" ": 1})


async def test_starting_twice_or_after_shutdown_is_refused(broker: RedisBroker) -> None:
    server = Server(ServerConfig(concurrency=1), broker=broker)
    await server.start(nothing)

    with pytest.raises(AsyncqError, match="already running"):
        await server.start(nothing)
    await server.shutdown()
    with pytest.raises(ServerClosedError, match="shut down"):
        await server.start(nothing)


async def test_stop_ends_leasing_but_lets_running_tasks_finish(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    first = TaskMessage(type="t", id="first", queue="default", retry=1, timeout=60)
    await broker.enqueue(first)
    started = asyncio.Event()
    release = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await release.wait()

    server = Server(ServerConfig(concurrency=2, task_check_interval=0.05), broker=broker)
    await server.start(handler)
    await asyncio.wait_for(started.wait(), 5)
    server.stop()
    await asyncio.sleep(0.2)  # a lease already sent to Redis may still come back
    await broker.enqueue(TaskMessage(type="t", id="second", queue="default", retry=1, timeout=60))
    await asyncio.sleep(0.3)
    release.set()
    await server.shutdown()

    assert server.status == "closed"
    assert await aio_redis.exists("asynq:{default}:t:first") == 0
    assert await aio_redis.lrange("asynq:{default}:pending", 0, -1) == [b"second"]


async def test_starting_without_a_reachable_redis_gives_up_after_the_allowed_attempts() -> None:
    from asyncq.devserver import free_port
    from asyncq.errors import BrokerUnavailableError

    url = f"redis://127.0.0.1:{free_port()}/0"
    server = Server.from_url(url, concurrency=1, startup_attempts=2)

    with pytest.raises(BrokerUnavailableError, match="Cannot reach Redis"):
        await server.start(nothing)
    await server.shutdown()
    assert server.status == "closed"


async def test_a_server_started_before_redis_waits_for_it_and_then_serves(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from asyncq.client import Client
    from asyncq.devserver import RedisProcess, free_port
    from asyncq.task import Task

    port = free_port()
    ran = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        ran.set()

    server = Server.from_url(f"redis://127.0.0.1:{port}/0", concurrency=1)
    starting = asyncio.create_task(server.start(handler))
    await asyncio.sleep(1.2)
    redis_process = RedisProcess(port=port).start()
    try:
        await asyncio.wait_for(starting, timeout=15)
        async with Client.from_url(redis_process.url) as client:
            await client.enqueue(Task("late:redis"))
        await asyncio.wait_for(ran.wait(), timeout=10)
        await server.shutdown()
    finally:
        redis_process.stop()

    warnings = [r.getMessage() for r in caplog.records if "Cannot reach Redis" in r.getMessage()]
    assert len(warnings) >= 2
    assert all(f"127.0.0.1:{port}" in line and "retrying in" in line for line in warnings)
