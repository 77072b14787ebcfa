"""One scheduler against a real Redis: what it enqueues, publishes and clears."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
import redis
import redis.asyncio as aioredis

from asyncq.errors import ConfigError, SchedulerError, TaskIDConflictError
from asyncq.proto import SchedulerEnqueueEvent, SchedulerEntry, TaskMessage
from asyncq.redis import keys
from asyncq.redis.schedule_store import PUBLISHER_LEASE_KEY, scheduler_fired_key
from asyncq.scheduler import GO_ZERO_TIME_SECONDS, Scheduler, SchedulerConfig
from asyncq.task import Task, TaskInfo

FAST = SchedulerConfig(heartbeat_interval=0.5)


async def wait_until_second_starts() -> None:
    """Start just after a whole second, so that ticks fall where the test expects."""
    await asyncio.sleep(1 - time.time() % 1 + 0.05)


def pending_messages(raw_redis: redis.Redis, queue: str = "default") -> list[TaskMessage]:
    ids = raw_redis.lrange(keys.pending_key(queue), 0, -1)
    return [
        TaskMessage.FromString(raw_redis.hget(keys.task_key(queue, i.decode()), "msg")) for i in ids
    ]


def published_entries(raw_redis: redis.Redis, scheduler: Scheduler) -> list[SchedulerEntry]:
    values = raw_redis.lrange(keys.scheduler_entries_key(scheduler.id), 0, -1)
    return [SchedulerEntry.FromString(v) for v in values]


async def test_an_every_entry_enqueues_one_pending_task_per_tick(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    scheduler = Scheduler(redis_url, FAST)
    entry_id = scheduler.register("@every 1s", Task("cron:tick", b"tick"), max_retry=5, timeout=90)
    await wait_until_second_starts()

    await scheduler.start()
    await asyncio.sleep(2.5)
    await scheduler.shutdown()

    messages = pending_messages(raw_redis)
    assert 2 <= len(messages) <= 3
    assert {(m.type, m.payload, m.queue, m.retry, m.timeout) for m in messages} == {
        ("cron:tick", b"tick", "default", 5, 90)
    }
    task_hash = raw_redis.hgetall(keys.task_key("default", messages[0].id))
    assert set(task_hash) == {b"msg", b"state", b"pending_since"}
    assert task_hash[b"state"] == b"pending"
    assert abs(int(task_hash[b"pending_since"]) / 1e9 - time.time()) < 5
    assert raw_redis.smembers(keys.ALL_QUEUES) == {b"default"}
    newest_tick = int(raw_redis.hget(scheduler_fired_key("default"), entry_id))
    assert time.time() - 2 < newest_tick <= time.time()


async def test_entries_are_published_as_go_writes_them_and_cleared_on_shutdown(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    scheduler = Scheduler(redis_url, FAST)
    tick_id = scheduler.register(
        "@every 1s", Task("cron:tick", b"tick"), queue="default", max_retry=5, timeout=90
    )
    yearly_id = scheduler.register("0 0 1 1 *", Task("cron:yearly", b""))
    await wait_until_second_starts()

    await scheduler.start()
    await asyncio.sleep(1.8)
    entries = published_entries(raw_redis, scheduler)
    ttl = raw_redis.ttl(keys.scheduler_entries_key(scheduler.id))
    score = raw_redis.zscore(keys.ALL_SCHEDULERS, keys.scheduler_entries_key(scheduler.id))
    await scheduler.shutdown()

    assert [e.id for e in entries] == [yearly_id, tick_id]
    yearly, tick = entries
    assert list(tick.enqueue_options) == [
        'Queue("default")',
        "MaxRetry(5)",
        "Timeout(1m30s)",
    ]
    assert (tick.spec, tick.task_type, tick.task_payload) == ("@every 1s", "cron:tick", b"tick")
    assert tick.prev_enqueue_time.seconds > 0
    assert tick.next_enqueue_time.seconds > tick.prev_enqueue_time.seconds
    assert yearly.prev_enqueue_time.seconds == GO_ZERO_TIME_SECONDS
    assert yearly.SerializeToString().endswith(bytes.fromhex("3a0b088092b8c398feffffff01"))
    assert list(yearly.enqueue_options) == []
    assert 0 < ttl <= 1
    assert score is not None and score > time.time()

    assert not raw_redis.exists(keys.scheduler_entries_key(scheduler.id))
    assert raw_redis.zcard(keys.ALL_SCHEDULERS) == 0
    assert not raw_redis.exists(keys.scheduler_history_key(tick_id))
    assert not raw_redis.exists(PUBLISHER_LEASE_KEY)


async def test_history_records_each_enqueued_task(redis_url: str, raw_redis: redis.Redis) -> None:
    scheduler = Scheduler(redis_url, FAST)
    entry_id = scheduler.register("@every 1s", Task("cron:tick"))
    await wait_until_second_starts()

    await scheduler.start()
    await asyncio.sleep(2.5)
    history = raw_redis.zrange(keys.scheduler_history_key(entry_id), 0, -1, withscores=True)
    pending = {m.id for m in pending_messages(raw_redis)}
    await scheduler.shutdown()

    events = [(SchedulerEnqueueEvent.FromString(member), score) for member, score in history]
    assert {event.task_id for event, _ in events} == pending
    assert all(int(score) == event.enqueue_time.seconds for event, score in events)


async def test_entry_ids_are_derived_from_the_entry_not_random(redis_url: str) -> None:
    first, second = Scheduler(redis_url), Scheduler(redis_url)

    same = [
        s.register("*/5 * * * *", Task("report", b"x"), queue="low", max_retry=2)
        for s in (first, second)
    ]
    reordered = second.register("*/5 * * * *", Task("report", b"x"), max_retry=2, queue="low")
    other = second.register("*/5 * * * *", Task("report", b"y"), queue="low", max_retry=2)

    assert same[0] == same[1] == reordered
    assert other != same[0]
    assert second.entry_ids == [same[0], other]


async def test_unregister_stops_an_entry_and_an_unknown_id_is_an_error(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    scheduler = Scheduler(redis_url, FAST)
    entry_id = scheduler.register("@every 1s", Task("cron:tick"))
    await scheduler.start()
    await asyncio.sleep(1.2)

    scheduler.unregister(entry_id)
    count = raw_redis.llen(keys.pending_key("default"))
    await asyncio.sleep(1.5)
    await scheduler.shutdown()

    assert raw_redis.llen(keys.pending_key("default")) == count
    try:
        scheduler.unregister(entry_id)
    except SchedulerError as exc:
        assert entry_id in str(exc)
    else:
        raise AssertionError("unregistering an unknown entry did not fail")


async def test_a_fixed_task_id_that_still_exists_is_reported_on_every_tick(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    reports: list[tuple[TaskInfo | None, Exception | None]] = []
    config = SchedulerConfig(
        heartbeat_interval=0.5, post_enqueue=lambda i, e: reports.append((i, e))
    )
    scheduler = Scheduler(redis_url, config)
    scheduler.register("@every 1s", Task("cron:purge"), task_id="purge-1")
    raw_redis.hset(keys.task_key("default", "purge-1"), mapping={"state": "archived", "msg": b""})
    raw_redis.zadd(keys.archived_key("default"), {"purge-1": 1})
    await wait_until_second_starts()

    await scheduler.start()
    await asyncio.sleep(2.6)
    await scheduler.shutdown()

    assert len(reports) >= 2
    assert all(info is None and isinstance(err, TaskIDConflictError) for info, err in reports)
    assert raw_redis.hget(keys.task_key("default", "purge-1"), "state") == b"archived"


async def test_hooks_see_the_task_before_and_the_task_info_after(redis_url: str) -> None:
    seen: list[str] = []

    async def before(task: Task, options: object) -> None:
        seen.append(f"pre {task.type}")

    def after(info: TaskInfo | None, error: Exception | None) -> None:
        assert info is not None and error is None
        seen.append(f"post {info.type} {info.state} {info.queue}")

    config = SchedulerConfig(heartbeat_interval=0.5, pre_enqueue=before, post_enqueue=after)
    scheduler = Scheduler(redis_url, config)
    scheduler.register("@every 1s", Task("cron:hook"), queue="hooks")
    await wait_until_second_starts()

    await scheduler.start()
    await asyncio.sleep(1.3)
    await scheduler.shutdown()

    assert seen[:2] == ["pre cron:hook", "post cron:hook pending hooks"]


async def test_process_in_and_group_options_take_the_clients_paths(
    redis_url: str, aio_redis: aioredis.Redis
) -> None:
    scheduler = Scheduler(redis_url, FAST)
    scheduler.register("@every 1s", Task("later"), process_in=60, queue="q1")
    scheduler.register("@every 1s", Task("grouped"), group="g1", queue="q2")
    await wait_until_second_starts()

    await scheduler.start()
    await asyncio.sleep(1.3)
    await scheduler.shutdown()

    scheduled = await aio_redis.zrange(keys.scheduled_key("q1"), 0, -1, withscores=True)
    assert scheduled and all(score > time.time() + 55 for _, score in scheduled)
    task_id = scheduled[0][0].decode()
    assert await aio_redis.hget(keys.task_key("q1", task_id), "state") == b"scheduled"
    grouped = await aio_redis.zrange(keys.group_key("q2", "g1"), 0, -1)
    assert grouped
    assert await aio_redis.smembers(keys.groups_key("q2")) == {b"g1"}
    assert await aio_redis.hget(keys.task_key("q2", grouped[0].decode()), "group") == b"g1"


class LaggingClock:
    """A host clock two minutes behind the Redis server's."""

    def now(self) -> float:
        return time.time() - 120


async def test_ticks_are_judged_by_redis_time_so_a_lagging_host_clock_is_reported(
    redis_url: str, raw_redis: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    config = SchedulerConfig(heartbeat_interval=0.5, max_lateness=60, clock=LaggingClock())
    scheduler = Scheduler(redis_url, config)
    scheduler.register("@every 1s", Task("cron:tick"))
    caplog.set_level(logging.WARNING, "asyncq.scheduler")

    await scheduler.start()
    await asyncio.sleep(2.2)
    await scheduler.shutdown()

    assert raw_redis.llen(keys.pending_key("default")) == 0
    lag_warnings = [r.getMessage() for r in caplog.records if "clock lags" in r.getMessage()]
    assert len(lag_warnings) == 1
    assert " as 120 s late" in lag_warnings[0] or " as 119 s late" in lag_warnings[0]


def test_bad_settings_and_bad_entries_are_refused_with_clear_errors(redis_url: str) -> None:
    scheduler = Scheduler(redis_url)

    with pytest.raises(ConfigError, match="heartbeat_interval must be positive"):
        SchedulerConfig(heartbeat_interval=0)
    with pytest.raises(ConfigError, match="missed must be 'skip' or 'run_once'"):
        SchedulerConfig(missed="later")  # type: ignore[arg-type]
    with pytest.raises(SchedulerError, match="Unknown time zone 'Nowhere/City'"):
        SchedulerConfig(location="Nowhere/City")
    with pytest.raises(SchedulerError, match="has 3 fields"):
        scheduler.register("* * *", Task("t"))
    with pytest.raises(SchedulerError, match="type is blank"):
        scheduler.register("@daily", Task(" "))
    with pytest.raises(ConfigError, match="Unknown task option 'retries'"):
        scheduler.register("@daily", Task("t"), retries=3)
    with pytest.raises(ConfigError, match="Unique TTL cannot be less than 1s"):
        scheduler.register("@daily", Task("t"), unique=0.5)
    assert scheduler.entry_ids == []
