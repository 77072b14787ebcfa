"""The scheduler's Redis records, asserted key by key after each script."""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from asyncq.proto import SchedulerEnqueueEvent, SchedulerEntry, TaskMessage
from asyncq.redis import keys
from asyncq.redis.schedule_store import (
    MAX_HISTORY_EVENTS,
    PUBLISHER_LEASE_KEY,
    FireMode,
    FireRequest,
    FireResult,
    ScheduleStore,
    scheduler_fired_key,
)

ENTRY = "entry-1"


def message(task_id: str, queue: str = "default", **fields: object) -> TaskMessage:
    return TaskMessage(type="cron:tick", payload=b"tick", id=task_id, queue=queue, **fields)


def now_tick() -> int:
    return int(time.time())


async def fired(client: aioredis.Redis, queue: str = "default") -> int | None:
    raw = await client.hget(scheduler_fired_key(queue), ENTRY)
    return None if raw is None else int(raw)


async def test_firing_a_tick_stores_a_pending_task_as_the_client_does(
    aio_redis: aioredis.Redis,
) -> None:
    store = ScheduleStore(aio_redis)
    pubsub = aio_redis.pubsub()
    await pubsub.subscribe(keys.WAKEUP_CHANNEL)
    tick = now_tick()

    outcome = await store.fire(FireRequest(ENTRY, tick, message("t1")), FireMode.FIRE, 60)

    assert outcome.result is FireResult.ENQUEUED
    assert abs(outcome.redis_time - time.time()) < 2
    task = await aio_redis.hgetall(keys.task_key("default", "t1"))
    assert set(task) == {b"msg", b"state", b"pending_since"}
    assert task[b"state"] == b"pending"
    assert TaskMessage.FromString(task[b"msg"]).id == "t1"
    assert abs(int(task[b"pending_since"]) / 1e9 - outcome.redis_time) < 0.01
    assert await aio_redis.lrange(keys.pending_key("default"), 0, -1) == [b"t1"]
    assert await fired(aio_redis) == tick
    await pubsub.get_message(timeout=1)
    wakeup = await pubsub.get_message(timeout=1)
    assert wakeup is not None and wakeup["data"] == b"default"
    await pubsub.aclose()


async def test_a_handled_tick_or_an_older_one_is_not_fired_again(
    aio_redis: aioredis.Redis,
) -> None:
    store = ScheduleStore(aio_redis)
    tick = now_tick()
    await store.fire(FireRequest(ENTRY, tick, message("t1")), FireMode.FIRE, 60)

    again = await store.fire(FireRequest(ENTRY, tick, message("t2")), FireMode.FIRE, 60)
    older = await store.fire(FireRequest(ENTRY, tick - 1, message("t3")), FireMode.CATCH_UP, 60)

    assert again.result is older.result is FireResult.ALREADY_HANDLED
    assert await aio_redis.lrange(keys.pending_key("default"), 0, -1) == [b"t1"]
    assert not await aio_redis.exists(keys.task_key("default", "t2"))
    assert await fired(aio_redis) == tick


async def test_a_tick_later_than_max_lateness_by_redis_time_is_refused_unless_caught_up(
    aio_redis: aioredis.Redis,
) -> None:
    store = ScheduleStore(aio_redis)
    stale = now_tick() - 120

    refused = await store.fire(FireRequest(ENTRY, stale, message("t1")), FireMode.FIRE, 60)
    assert refused.result is FireResult.TOO_LATE
    assert await fired(aio_redis) is None
    assert not await aio_redis.exists(keys.task_key("default", "t1"))

    caught_up = await store.fire(FireRequest(ENTRY, stale, message("t1")), FireMode.CATCH_UP, 60)
    assert caught_up.result is FireResult.ENQUEUED
    assert await fired(aio_redis) == stale


async def test_skipping_records_the_tick_without_a_task(aio_redis: aioredis.Redis) -> None:
    store = ScheduleStore(aio_redis)
    tick = now_tick() - 3600

    outcome = await store.fire(FireRequest(ENTRY, tick, message("t1")), FireMode.SKIP, 60)

    assert outcome.result is FireResult.SKIPPED
    assert await fired(aio_redis) == tick
    assert await aio_redis.keys("asynq:{default}:t:*") == []
    assert not await aio_redis.exists(keys.pending_key("default"))


async def test_a_taken_task_id_is_reported_and_the_tick_still_counts_as_handled(
    aio_redis: aioredis.Redis,
) -> None:
    store = ScheduleStore(aio_redis)
    await aio_redis.hset(keys.task_key("default", "fixed"), mapping={"state": "archived"})
    tick = now_tick()

    outcome = await store.fire(FireRequest(ENTRY, tick, message("fixed")), FireMode.FIRE, 60)

    assert outcome.result is FireResult.TASK_ID_CONFLICT
    assert await fired(aio_redis) == tick
    assert await aio_redis.hgetall(keys.task_key("default", "fixed")) == {b"state": b"archived"}
    assert not await aio_redis.exists(keys.pending_key("default"))


async def test_a_unique_entry_takes_the_lock_and_a_held_lock_is_reported(
    aio_redis: aioredis.Redis,
) -> None:
    store = ScheduleStore(aio_redis)
    lock = keys.unique_key("default", "cron:tick", b"tick")
    tick = now_tick()

    first = FireRequest(ENTRY, tick, message("t1", unique_key=lock), unique_ttl=30)
    second = FireRequest(ENTRY, tick + 1, message("t2", unique_key=lock), unique_ttl=30)
    assert (await store.fire(first, FireMode.FIRE, 60)).result is FireResult.ENQUEUED
    assert (await store.fire(second, FireMode.CATCH_UP, 60)).result is FireResult.DUPLICATE_TASK

    assert await aio_redis.get(lock) == b"t1"
    assert 28 <= await aio_redis.ttl(lock) <= 30
    assert await aio_redis.hget(keys.task_key("default", "t1"), "unique_key") == lock.encode()
    assert not await aio_redis.exists(keys.task_key("default", "t2"))
    assert await fired(aio_redis) == tick + 1


async def test_a_later_process_time_stores_a_scheduled_task(aio_redis: aioredis.Redis) -> None:
    store = ScheduleStore(aio_redis)
    tick = now_tick()
    request = FireRequest(ENTRY, tick, message("t1"), state="scheduled", process_at=tick + 300)

    outcome = await store.fire(request, FireMode.FIRE, 60)

    assert outcome.result is FireResult.ENQUEUED
    assert await aio_redis.zrange(keys.scheduled_key("default"), 0, -1, withscores=True) == [
        (b"t1", tick + 300)
    ]
    task = await aio_redis.hgetall(keys.task_key("default", "t1"))
    assert set(task) == {b"msg", b"state"} and task[b"state"] == b"scheduled"


async def test_a_grouped_task_waits_in_its_group_and_its_hash_names_its_lock(
    aio_redis: aioredis.Redis,
) -> None:
    store = ScheduleStore(aio_redis)
    lock = keys.unique_key("default", "cron:tick", b"tick")
    msg = message("t1", group_key="g1", unique_key=lock)

    outcome = await store.fire(
        FireRequest(ENTRY, now_tick(), msg, state="aggregating", unique_ttl=10), FireMode.FIRE, 60
    )

    assert outcome.result is FireResult.ENQUEUED
    task = await aio_redis.hgetall(keys.task_key("default", "t1"))
    assert set(task) == {b"msg", b"state", b"group", b"unique_key"}
    assert (task[b"state"], task[b"group"]) == (b"aggregating", b"g1")
    assert task[b"unique_key"] == lock.encode()
    assert await aio_redis.zrange(keys.group_key("default", "g1"), 0, -1) == [b"t1"]
    assert await aio_redis.smembers(keys.groups_key("default")) == {b"g1"}
    assert await aio_redis.get(lock) == b"t1"


async def test_only_the_holder_renews_or_releases_the_publisher_lease(
    aio_redis: aioredis.Redis,
) -> None:
    store = ScheduleStore(aio_redis)

    assert await store.hold_publisher_lease("a", 5)
    assert not await store.hold_publisher_lease("b", 5)
    await store.release_publisher_lease("b")
    assert await aio_redis.get(PUBLISHER_LEASE_KEY) == b"a"
    assert 4000 <= await aio_redis.pttl(PUBLISHER_LEASE_KEY) <= 5000

    await store.release_publisher_lease("a")
    assert not await aio_redis.exists(PUBLISHER_LEASE_KEY)
    assert await store.hold_publisher_lease("b", 5)


async def test_entries_are_written_in_reverse_with_a_ttl_and_registered(
    aio_redis: aioredis.Redis,
) -> None:
    store = ScheduleStore(aio_redis)
    entries = [SchedulerEntry(id="soon"), SchedulerEntry(id="later")]

    await store.write_entries("host:1:s", entries, ttl=20, now=1000)

    key = keys.scheduler_entries_key("host:1:s")
    listed = [SchedulerEntry.FromString(v).id for v in await aio_redis.lrange(key, 0, -1)]
    assert listed == ["later", "soon"]
    assert 19 <= await aio_redis.ttl(key) <= 20
    assert await aio_redis.zscore(keys.ALL_SCHEDULERS, key) == 1020

    await store.clear_entries("host:1:s")
    assert not await aio_redis.exists(key)
    assert await aio_redis.zcard(keys.ALL_SCHEDULERS) == 0


async def test_history_keeps_the_newest_thousand_events(aio_redis: aioredis.Redis) -> None:
    store = ScheduleStore(aio_redis)

    for n in range(MAX_HISTORY_EVENTS + 2):
        await store.record_event(ENTRY, f"task-{n}", 1_000_000 + n + 0.25)

    history = await aio_redis.zrange(keys.scheduler_history_key(ENTRY), 0, -1, withscores=True)
    events = [SchedulerEnqueueEvent.FromString(member) for member, _ in history]
    assert len(events) == MAX_HISTORY_EVENTS
    assert events[0].task_id == "task-2" and events[-1].task_id == f"task-{MAX_HISTORY_EVENTS + 1}"
    assert history[-1][1] == 1_000_000 + MAX_HISTORY_EVENTS + 1
    assert events[-1].enqueue_time.nanos == 250_000_000


async def test_leaving_reports_how_many_other_schedulers_are_alive(
    aio_redis: aioredis.Redis,
) -> None:
    store = ScheduleStore(aio_redis)
    now = time.time()
    await store.beat("a", 10, now)
    await store.beat("b", 10, now)
    await store.beat("gone", 10, now - 60)

    assert await store.leave("a", now) == 1
    assert await store.leave("b", now) == 0
