"""Queue-level reads and administration through the inspector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from asyncq.clock import ManualClock
from asyncq.errors import ConfigError, QueueNotEmptyError, QueueNotFoundError, QueueStateError
from asyncq.inspector import Inspector
from asyncq.redis import keys
from asyncq.task import TaskState
from inspector.seeding import message, put_task


async def test_queue_info_counts_every_state_and_reads_counters(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    now = clock.now()
    oldest_ns = int((now - 42) * 1e9)
    await put_task(aio_redis, message(), TaskState.PENDING, pending_since_ns=oldest_ns)
    await put_task(aio_redis, message(), TaskState.PENDING, pending_since_ns=int(now * 1e9))
    await put_task(aio_redis, message(), TaskState.ACTIVE, score=now + 30)
    await put_task(aio_redis, message(), TaskState.SCHEDULED, score=now + 60)
    await put_task(aio_redis, message(), TaskState.RETRY, score=now + 60)
    await put_task(aio_redis, message(), TaskState.ARCHIVED, score=now)
    await put_task(aio_redis, message(), TaskState.COMPLETED, score=now + 3600)
    await put_task(aio_redis, message(), TaskState.AGGREGATING, score=now, group="batch")
    await aio_redis.set(keys.processed_key("default", now), 7)
    await aio_redis.set(keys.failed_key("default", now), 2)
    await aio_redis.set(keys.processed_total_key("default"), 70)
    await aio_redis.set(keys.failed_total_key("default"), 20)

    info = await inspector.queue_info("default")

    assert (info.pending, info.active, info.scheduled, info.retry) == (2, 1, 1, 1)
    assert (info.archived, info.completed, info.aggregating, info.groups) == (1, 1, 1, 1)
    assert info.size == 8
    assert (info.processed, info.failed, info.processed_total, info.failed_total) == (
        7,
        2,
        70,
        20,
    )
    assert info.latency == timedelta(seconds=42)
    assert info.memory_usage > 0
    assert not info.paused
    assert info.timestamp == datetime.fromtimestamp(now, UTC)


async def test_latency_is_zero_when_the_oldest_task_has_no_pending_since(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    await put_task(aio_redis, message(), TaskState.PENDING)

    info = await inspector.queue_info("default")

    assert info.latency == timedelta(0)


async def test_memory_estimate_survives_a_task_record_that_vanished(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    gone = await put_task(aio_redis, message(), TaskState.PENDING)
    await put_task(aio_redis, message(), TaskState.PENDING)
    await aio_redis.delete(keys.task_key("default", gone))
    await aio_redis.sadd(keys.groups_key("default"), "emptied")

    info = await inspector.queue_info("default")

    assert info.pending == 2
    assert info.memory_usage > 0


async def test_unknown_queue_is_reported_by_name(inspector: Inspector) -> None:
    with pytest.raises(QueueNotFoundError, match='Queue "nope" does not exist'):
        await inspector.queue_info("nope")


async def test_queues_are_listed_by_name(inspector: Inspector, aio_redis: aioredis.Redis) -> None:
    await put_task(aio_redis, message(queue="low"), TaskState.PENDING)
    await put_task(aio_redis, message(queue="critical"), TaskState.PENDING)

    assert await inspector.queues() == ["critical", "low"]


async def test_history_lists_each_utc_day_newest_first(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    await put_task(aio_redis, message(), TaskState.PENDING)
    now = clock.now()
    await aio_redis.set(keys.processed_key("default", now), 5)
    await aio_redis.set(keys.failed_key("default", now), 1)
    await aio_redis.set(keys.processed_key("default", now - 2 * 86_400), 9)

    days = await inspector.history("default", 3)

    today = datetime.fromtimestamp(now, UTC).date()
    assert [d.date for d in days] == [today - timedelta(days=i) for i in range(3)]
    assert [(d.processed, d.failed, d.succeeded) for d in days] == [(5, 1, 4), (0, 0, 0), (9, 0, 9)]


async def test_groups_report_their_sizes(inspector: Inspector, aio_redis: aioredis.Redis) -> None:
    for group in ("a", "a", "b"):
        await put_task(aio_redis, message(), TaskState.AGGREGATING, group=group)

    groups = await inspector.groups("default")

    assert [(g.group, g.size) for g in groups] == [("a", 2), ("b", 1)]


async def test_pause_writes_the_flag_and_refuses_a_second_pause(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    await inspector.pause_queue("default")

    assert await aio_redis.get(keys.paused_key("default")) == str(int(clock.now())).encode()
    with pytest.raises(QueueStateError, match="already paused"):
        await inspector.pause_queue("default")

    await inspector.unpause_queue("default")

    assert not await aio_redis.exists(keys.paused_key("default"))
    with pytest.raises(QueueStateError, match="is not paused"):
        await inspector.unpause_queue("default")


async def test_removing_a_queue_with_tasks_needs_force(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    await put_task(aio_redis, message(), TaskState.PENDING)

    with pytest.raises(QueueNotEmptyError, match="still holds tasks"):
        await inspector.delete_queue("default")

    assert await inspector.queues() == ["default"]


async def test_a_queue_with_running_tasks_is_not_removed_even_with_force(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    await put_task(aio_redis, message(), TaskState.ACTIVE, score=clock.now() + 30)

    with pytest.raises(QueueStateError, match="running tasks"):
        await inspector.delete_queue("default", force=True)

    assert await aio_redis.llen(keys.active_key("default")) == 1


async def test_forced_removal_leaves_no_key_of_the_queue_behind(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    now = clock.now()
    unique = keys.unique_key("default", "email:send", b"x")
    locked = await put_task(
        aio_redis, message(payload=b"x", unique_key=unique), TaskState.SCHEDULED, score=now + 9
    )
    await aio_redis.set(unique, locked)
    for state in (TaskState.PENDING, TaskState.RETRY, TaskState.ARCHIVED, TaskState.COMPLETED):
        await put_task(aio_redis, message(), state, score=now)
    await put_task(aio_redis, message(), TaskState.AGGREGATING, score=now, group="g")
    await aio_redis.set(keys.paused_key("default"), int(now))
    await aio_redis.set(keys.processed_key("default", now - 86_400), 3)
    await aio_redis.set(keys.processed_total_key("default"), 3)
    await put_task(aio_redis, message(queue="other"), TaskState.PENDING)

    await inspector.delete_queue("default", force=True)

    remaining = sorted(k.decode() for k in await aio_redis.keys("*"))
    assert all("{default}" not in k for k in remaining), remaining
    assert await inspector.queues() == ["other"]


async def test_a_queue_with_only_completed_tasks_is_removed_with_their_records(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    done = await put_task(aio_redis, message(), TaskState.COMPLETED, score=clock.now() + 60)

    await inspector.delete_queue("default")

    assert not await aio_redis.exists(keys.task_key("default", done))
    assert await inspector.queues() == []


async def test_a_queue_with_waiting_groups_is_not_empty(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    await put_task(aio_redis, message(), TaskState.AGGREGATING, group="g")

    with pytest.raises(QueueNotEmptyError):
        await inspector.delete_queue("default")


async def test_a_blank_queue_name_is_refused_before_redis_is_asked(inspector: Inspector) -> None:
    with pytest.raises(ConfigError, match="at least one non-space character"):
        await inspector.pause_queue("  ")
