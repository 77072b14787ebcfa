"""How the processor runs tasks and writes their outcomes, against real Redis."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
import redis.asyncio as aioredis

from asyncq.context import ActiveTask, get_max_retry, get_queue_name, get_retry_count, get_task_id
from asyncq.errors import AsyncqError, BrokerUnavailableError, RevokeTask, SkipRetry
from asyncq.mux import ServeMux
from asyncq.proto import TaskMessage
from asyncq.redis.broker import RedisBroker
from worker.helpers import (
    counter,
    enqueue,
    make_broker,
    running_server,
    stored_message,
    task_hash,
    wait_for,
)

PROCESSED = "asynq:{default}:processed"
FAILED = "asynq:{default}:failed"


async def in_zset(redis: aioredis.Redis, key: str, task_id: str) -> bool:
    return await redis.zscore(key, task_id) is not None


async def test_a_succeeded_task_without_retention_is_deleted_and_counted(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "email:send")
    handled: list[str] = []

    async def handler(task: ActiveTask) -> None:
        handled.append(task.id)

    async with running_server(broker, handler):
        await wait_for(lambda: counter(aio_redis, PROCESSED), timeout=5)

    assert handled == [task_id]
    assert await task_hash(aio_redis, "default", task_id) == {}
    assert await aio_redis.llen("asynq:{default}:active") == 0
    assert await counter(aio_redis, FAILED) == 0


async def test_a_succeeded_task_with_retention_is_kept_with_its_result(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "report:build", retention=3600)

    async def handler(task: ActiveTask) -> None:
        await task.result_writer.write(b"ok")

    async with running_server(broker, handler):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:completed", task_id))

    fields = await task_hash(aio_redis, "default", task_id)
    msg = await stored_message(aio_redis, "default", task_id)
    score = await aio_redis.zscore("asynq:{default}:completed", task_id)
    assert fields[b"state"] == b"completed"
    assert fields[b"result"] == b"ok"
    assert score == msg.completed_at + 3600
    assert await counter(aio_redis, PROCESSED) == 1


async def test_a_failed_task_is_retried_after_asynqs_default_delay(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "user:load")

    async def handler(task: ActiveTask) -> None:
        raise ValueError("bad id")

    before = time.time()
    async with running_server(broker, handler):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:retry", task_id))

    msg = await stored_message(aio_redis, "default", task_id)
    score = await aio_redis.zscore("asynq:{default}:retry", task_id)
    assert score is not None
    assert int(before) + 15 <= score <= time.time() + 44
    assert msg.error_msg == "ValueError: bad id"
    assert msg.retried == 1
    assert await counter(aio_redis, FAILED) == 1
    assert await counter(aio_redis, PROCESSED) == 1


async def test_a_custom_retry_delay_sees_the_retry_count_error_and_task(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "user:load")
    seen: list[tuple[int, str, str]] = []

    def delay(retried: int, error: BaseException, task: ActiveTask) -> float:
        seen.append((retried, str(error), task.type))
        return 500.0

    async def handler(task: ActiveTask) -> None:
        raise KeyError("missing")

    before = time.time()
    async with running_server(broker, handler, retry_delay_func=delay):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:retry", task_id))

    score = await aio_redis.zscore("asynq:{default}:retry", task_id)
    assert score is not None
    assert int(before) + 500 <= score <= time.time() + 500
    assert seen == [(0, "'missing'", "user:load")]


async def test_a_task_out_of_retries_is_archived(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "user:load", retry=0)

    async def handler(task: ActiveTask) -> None:
        raise RuntimeError("database is down")

    async with running_server(broker, handler):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:archived", task_id))

    msg = await stored_message(aio_redis, "default", task_id)
    assert msg.error_msg == "RuntimeError: database is down"
    assert msg.retried == 0
    assert await counter(aio_redis, FAILED) == 1


async def test_skip_retry_archives_at_once_although_retries_remain(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "bad:skip", retry=25)

    async def handler(task: ActiveTask) -> None:
        raise ValueError("payload is not JSON") from SkipRetry()

    async with running_server(broker, handler):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:archived", task_id))

    msg = await stored_message(aio_redis, "default", task_id)
    assert msg.error_msg == "ValueError: payload is not JSON"
    assert msg.retried == 0


async def test_revoke_task_deletes_the_task_and_counts_it_processed_only(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "order:cancelled")
    errors: list[BaseException] = []

    async def handler(task: ActiveTask) -> None:
        raise RevokeTask()

    def on_error(task: ActiveTask, error: BaseException) -> None:
        errors.append(error)

    async with running_server(broker, handler, error_handler=on_error):
        await wait_for(lambda: counter(aio_redis, PROCESSED))

    assert await task_hash(aio_redis, "default", task_id) == {}
    assert await counter(aio_redis, FAILED) == 0
    assert [type(e) for e in errors] == [RevokeTask]


async def test_an_async_handler_past_its_timeout_is_cancelled_and_retried(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "slow", timeout=1)
    cancelled = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with running_server(broker, handler):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:retry", task_id))

    msg = await stored_message(aio_redis, "default", task_id)
    assert cancelled.is_set()
    assert msg.error_msg == "context deadline exceeded"
    assert msg.retried == 1


async def test_a_task_past_its_deadline_fails_with_deadline_exceeded(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "slow", timeout=0, deadline=int(time.time()) + 1, retry=0)

    async def handler(task: ActiveTask) -> None:
        await asyncio.sleep(60)

    async with running_server(broker, handler):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:archived", task_id))

    msg = await stored_message(aio_redis, "default", task_id)
    assert msg.error_msg == "context deadline exceeded"


async def test_a_plain_handler_past_its_timeout_fails_but_keeps_its_slot(
    broker: RedisBroker, aio_redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    slow_id = await enqueue(broker, "slow", timeout=1)
    next_id = await enqueue(broker, "quick")
    events: list[str] = []
    lock = threading.Lock()

    def handler(task: ActiveTask) -> None:
        with lock:
            events.append(f"start {task.type}")
        if task.type == "slow":
            time.sleep(2.5)
        with lock:
            events.append(f"end {task.type}")

    caplog.set_level(logging.WARNING, logger="asyncq.processor")
    async with running_server(broker, handler, concurrency=1):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:retry", slow_id))
        assert events == ["start slow"]
        await wait_for(lambda: "end quick" in events)

    msg = await stored_message(aio_redis, "default", slow_id)
    assert msg.error_msg == "context deadline exceeded"
    assert events == ["start slow", "end slow", "start quick", "end quick"]
    assert await task_hash(aio_redis, "default", next_id) == {}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"id={slow_id}" in line and "keeps a worker slot" in line for line in warnings)


async def test_a_task_without_a_handler_fails_and_is_retried(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "sms:send")
    mux = ServeMux()
    mux.handle("email:", lambda task: None)

    async with running_server(broker, mux):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:retry", task_id))

    msg = await stored_message(aio_redis, "default", task_id)
    assert msg.error_msg == 'handler not found for task "sms:send"'
    assert msg.retried == 1


async def test_no_more_tasks_run_at_once_than_the_concurrency(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    for _ in range(12):
        await enqueue(broker)
    running = 0
    peak = 0

    async def handler(task: ActiveTask) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1

    async with running_server(broker, handler, concurrency=3):
        await wait_for(lambda: counter(aio_redis, PROCESSED), timeout=10)
        await wait_for(async_equals(aio_redis, PROCESSED, 12))

    assert peak == 3


def async_equals(redis: aioredis.Redis, key: str, expected: int):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return await counter(redis, key) == expected

    return check


async def test_a_handler_can_read_its_task_through_the_context(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "ctx", queue="critical", retry=7)
    seen: list[tuple[str, int, int, str]] = []
    writers: list[ActiveTask] = []

    async def handler(task: ActiveTask) -> None:
        seen.append((get_task_id(), get_retry_count(), get_max_retry(), get_queue_name()))
        writers.append(task)

    async with running_server(broker, handler, queues={"critical": 1}):
        await wait_for(lambda: counter(aio_redis, "asynq:{critical}:processed"))

    assert seen == [(task_id, 0, 7, "critical")]
    with pytest.raises(AsyncqError, match="no longer running"):
        await writers[0].result_writer.write(b"late")


async def test_is_failure_false_retries_without_counting(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "rate:limited")

    class RateLimited(Exception):
        pass

    async def handler(task: ActiveTask) -> None:
        raise RateLimited("slow down")

    def is_failure(error: BaseException) -> bool:
        return not isinstance(error, RateLimited)

    async with running_server(broker, handler, is_failure=is_failure):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:retry", task_id))

    msg = await stored_message(aio_redis, "default", task_id)
    assert msg.retried == 0
    assert msg.error_msg == "RateLimited: slow down"
    assert await counter(aio_redis, FAILED) == 0
    assert await counter(aio_redis, PROCESSED) == 0


async def test_publishing_a_cancel_stops_the_running_task_and_retries_it(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "long")
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(60)

    async with running_server(broker, handler):
        await asyncio.wait_for(started.wait(), 5)
        await wait_for(lambda: subscribed(aio_redis))
        await aio_redis.publish("asynq:cancel", task_id)
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:retry", task_id))

    msg = await stored_message(aio_redis, "default", task_id)
    assert msg.error_msg == "context canceled"
    assert msg.retried == 1


async def subscribed(redis: aioredis.Redis) -> bool:
    channels = await redis.pubsub_numsub("asynq:cancel")
    return bool(channels and channels[0][1] >= 1)


async def test_shutdown_does_not_wait_for_a_plain_handler_past_the_timeout(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "stuck")
    started = threading.Event()
    finished = threading.Event()

    def handler(task: ActiveTask) -> None:
        started.set()
        time.sleep(2)
        finished.set()

    async with running_server(broker, handler, shutdown_timeout=0.2):
        await asyncio.to_thread(started.wait, 5)

    assert not finished.is_set()
    assert await aio_redis.lrange("asynq:{default}:pending", 0, -1) == [task_id.encode()]
    await asyncio.to_thread(finished.wait, 5)


class FlakyDoneBroker(RedisBroker):
    """A real broker whose first two completion writes fail, as during a Redis blip."""

    failures = 2

    async def succeed_many(self, msgs: Sequence[TaskMessage]) -> list[BaseException | None]:
        if self.failures:
            self.failures -= 1
            raise BrokerUnavailableError("Redis went away")
        return await super().succeed_many(msgs)


async def test_a_failed_completion_write_is_retried_by_the_syncer(
    aio_redis: aioredis.Redis, redis_url: str
) -> None:
    broker = FlakyDoneBroker(make_broker(redis_url).client)
    task_id = await enqueue(broker, "work")

    async with running_server(broker, lambda task: None, syncer_interval=0.1):
        await wait_for(lambda: counter(aio_redis, PROCESSED))
    await broker.close()

    assert broker.failures == 0
    assert await task_hash(aio_redis, "default", task_id) == {}


async def test_a_failing_retry_delay_hook_falls_back_to_the_default_delay(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "user:load")

    def broken_delay(retried: int, error: BaseException, task: ActiveTask) -> float:
        raise ZeroDivisionError("bad hook")

    async def handler(task: ActiveTask) -> None:
        raise ValueError("bad id")

    before = time.time()
    async with running_server(broker, handler, retry_delay_func=broken_delay):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:retry", task_id))

    score = await aio_redis.zscore("asynq:{default}:retry", task_id)
    assert score is not None
    assert int(before) + 15 <= score <= time.time() + 44


async def test_plain_handlers_behind_middleware_run_in_the_servers_pool_and_see_their_task(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "report:plain")
    seen: list[tuple[str, str]] = []
    wrapped: list[str] = []
    mux = ServeMux()

    @mux.handle("report:")
    def plain(task: ActiveTask) -> None:
        seen.append((get_task_id(), threading.current_thread().name))
        task.result_writer.write_blocking(b"from a thread")

    def middleware(inner: Any) -> Any:
        async def outer(task: ActiveTask) -> None:
            wrapped.append(task.type)
            await inner(task)

        return outer

    mux.use(middleware)
    async with running_server(broker, mux):
        await wait_for(lambda: counter(aio_redis, PROCESSED))

    assert wrapped == ["report:plain"]
    assert seen[0][0] == task_id
    assert seen[0][1].startswith("asyncq-handler")


async def test_a_handler_that_swallows_its_timeout_still_fails(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue(broker, "stubborn", timeout=1)

    async def handler(task: ActiveTask) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            return

    async with running_server(broker, handler):
        await wait_for(lambda: in_zset(aio_redis, "asynq:{default}:retry", task_id))

    msg = await stored_message(aio_redis, "default", task_id)
    assert msg.error_msg == "context deadline exceeded"
    assert await counter(aio_redis, FAILED) == 1
