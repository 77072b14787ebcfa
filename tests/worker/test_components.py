"""The server's background components: heartbeat, leases, recovery, forwarding, clean-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest
import redis.asyncio as aioredis

from asyncq.context import ActiveTask
from asyncq.errors import BrokerError, BrokerUnavailableError
from asyncq.proto import ServerInfo, WorkerInfo
from asyncq.redis.broker import RedisBroker
from worker.helpers import (
    counter,
    enqueue,
    make_broker,
    message,
    running_server,
    stored_message,
    task_hash,
    wait_for,
)


async def test_shutdown_requeues_unfinished_tasks_without_counting_a_retry(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "long")
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(60)

    async with running_server(broker, handler, shutdown_timeout=0.3):
        await asyncio.wait_for(started.wait(), 5)

    fields = await task_hash(aio_redis, "default", task_id)
    msg = await stored_message(aio_redis, "default", task_id)
    assert await aio_redis.lrange("asynq:{default}:pending", 0, -1) == [task_id.encode()]
    assert await aio_redis.llen("asynq:{default}:active") == 0
    assert await aio_redis.zcard("asynq:{default}:lease") == 0
    assert fields[b"state"] == b"pending"
    assert msg.retried == 0
    assert msg.error_msg == ""
    assert await counter(aio_redis, "asynq:{default}:processed") == 0


async def test_tasks_that_finish_within_the_shutdown_timeout_complete(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "short")
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(0.3)

    async with running_server(broker, handler, shutdown_timeout=5):
        await asyncio.wait_for(started.wait(), 5)

    assert await task_hash(aio_redis, "default", task_id) == {}
    assert await counter(aio_redis, "asynq:{default}:processed") == 1


async def test_heartbeat_publishes_the_server_and_its_running_tasks(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "long", payload=b"p")
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(60)

    weights = {"default": 3, "low": 1}
    async with running_server(
        broker, handler, heartbeat_interval=0.5, shutdown_timeout=0.1, queues=weights
    ) as server:
        await asyncio.wait_for(started.wait(), 5)
        name = f"{server.host}:{server.pid}:{server.server_id}"
        server_key = f"asynq:servers:{{{name}}}"
        workers_key = f"asynq:workers:{{{name}}}"
        await wait_for(lambda: aio_redis.hexists(workers_key, task_id))

        info = ServerInfo.FromString(await aio_redis.get(server_key))
        worker = WorkerInfo.FromString(await aio_redis.hget(workers_key, task_id))
        server_ttl = await aio_redis.ttl(server_key)
        workers_ttl = await aio_redis.ttl(workers_key)
        listed = await aio_redis.zscore("asynq:servers", server_key)
        listed_workers = await aio_redis.zscore("asynq:workers", workers_key)

    assert (info.host, info.pid, info.server_id) == (server.host, server.pid, server.server_id)
    assert dict(info.queues) == weights
    assert (info.concurrency, info.status, info.active_worker_count) == (2, "active", 1)
    assert info.start_time.seconds > 0
    assert (worker.task_id, worker.task_type, worker.task_payload) == (task_id, "long", b"p")
    assert worker.queue == "default"
    assert worker.deadline.seconds - worker.start_time.seconds in (1799, 1800)
    assert 0 < server_ttl <= 1
    assert 0 < workers_ttl <= 1
    assert listed is not None and listed_workers is not None
    assert listed <= time.time() + 1
    assert await aio_redis.exists(server_key, workers_key) == 0
    assert await aio_redis.zcard("asynq:servers") == 0
    assert await aio_redis.zcard("asynq:workers") == 0


async def test_heartbeat_extends_the_lease_of_a_long_task(
    aio_redis: aioredis.Redis, redis_url: str
) -> None:
    broker = make_broker(redis_url, lease_duration=2)
    task_id = await enqueue(broker, "long")
    scores: list[float] = []

    async def handler(task: ActiveTask) -> None:
        for _ in range(8):
            scores.append(await aio_redis.zscore("asynq:{default}:lease", task_id) or 0)
            await asyncio.sleep(0.5)

    async with running_server(broker, handler, heartbeat_interval=0.3, recoverer_cutoff=0.5):
        await wait_for(lambda: counter(aio_redis, "asynq:{default}:processed"), timeout=15)
    await broker.close()

    assert scores[-1] >= scores[0] + 3
    assert await counter(aio_redis, "asynq:{default}:failed") == 0
    assert await task_hash(aio_redis, "default", task_id) == {}


async def test_an_expired_lease_is_recovered_into_retry(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    orphan = await enqueue(broker, "orphan", retry=3)
    last_try = await enqueue(broker, "orphan", retry=0)
    leased = await broker.dequeue(["default"], 2)
    assert {item.task_id for item in leased} == {orphan, last_try}
    old = int(time.time()) - 120
    await aio_redis.zadd("asynq:{default}:lease", {orphan: old, last_try: old})

    async def handler(task: ActiveTask) -> None:
        raise AssertionError("a recovered task is not due yet")

    async with running_server(broker, handler):
        await wait_for(lambda: aio_redis.zscore("asynq:{default}:retry", orphan))
        await wait_for(lambda: aio_redis.zscore("asynq:{default}:archived", last_try))

    retried = await stored_message(aio_redis, "default", orphan)
    archived = await stored_message(aio_redis, "default", last_try)
    assert (retried.error_msg, retried.retried) == ("asynq: task lease expired", 1)
    assert archived.error_msg == "asynq: task lease expired"
    assert await aio_redis.zcard("asynq:{default}:lease") == 0
    assert await aio_redis.llen("asynq:{default}:active") == 0


async def test_due_scheduled_tasks_are_forwarded_and_run(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    msg = message("later")
    await broker.publish_queue("default")
    await broker.schedule(msg, int(time.time()) + 1)
    ran: list[str] = []

    async def handler(task: ActiveTask) -> None:
        ran.append(task.id)

    async with running_server(broker, handler, task_check_interval=30):
        await wait_for(lambda: ran == [msg.id], timeout=5)

    assert await aio_redis.zcard("asynq:{default}:scheduled") == 0


async def test_the_janitor_deletes_completed_tasks_after_their_retention(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "kept", retention=1)

    async def handler(task: ActiveTask) -> None:
        pass

    async with running_server(broker, handler):
        await wait_for(lambda: aio_redis.zscore("asynq:{default}:completed", task_id))
        await wait_for(lambda: task_gone(aio_redis, task_id), timeout=5)

    assert await aio_redis.zcard("asynq:{default}:completed") == 0


async def task_gone(redis: aioredis.Redis, task_id: str) -> bool:
    return not await redis.exists(f"asynq:{{default}}:t:{task_id}")


async def test_the_health_check_reports_a_reachable_redis(broker: RedisBroker) -> None:
    reports: list[BrokerError | None] = []

    async with running_server(
        broker, lambda task: None, health_check_func=reports.append, health_check_interval=0.1
    ):
        await wait_for(lambda: len(reports) >= 2)

    assert set(reports) == {None}


class LeaseLosingBroker(RedisBroker):
    """A real broker whose lease extensions fail, as when Redis drops out for a while."""

    async def extend_leases(self, queue: str, task_ids: list[str]) -> float:  # type: ignore[override]
        raise BrokerUnavailableError("Redis went away")


async def test_a_task_whose_lease_ran_out_is_stopped_and_left_to_the_recoverer(
    aio_redis: aioredis.Redis, redis_url: str
) -> None:
    broker = LeaseLosingBroker(make_broker(redis_url, lease_duration=1).client)
    broker.lease_duration = 1
    task_id = await enqueue(broker, "long")
    errors: list[str] = []

    async def handler(task: ActiveTask) -> None:
        await asyncio.sleep(60)

    def on_error(task: ActiveTask, error: BaseException) -> None:
        errors.append(str(error))

    async with running_server(
        broker, handler, heartbeat_interval=0.3, recoverer_interval=30, error_handler=on_error
    ):
        await wait_for(lambda: errors == ["asynq: task lease expired"], timeout=5)
        fields = await task_hash(aio_redis, "default", task_id)
    await broker.close()

    assert fields[b"state"] == b"active"
    assert await aio_redis.zscore("asynq:{default}:lease", task_id) is not None


async def test_shutdown_abandons_a_handler_that_ignores_it(
    broker: RedisBroker, aio_redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    task_id = await enqueue(broker, "deaf")
    started = asyncio.Event()
    released = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        while not released.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.05)

    async with running_server(broker, handler, shutdown_timeout=0.2):
        await asyncio.wait_for(started.wait(), 5)
    active_after_shutdown = await aio_redis.lrange("asynq:{default}:active", 0, -1)
    released.set()

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"Abandoned task id={task_id}" in line for line in warnings)
    assert active_after_shutdown == [task_id.encode()]
