"""Ticks missed while no scheduler ran: counted, logged, then skipped or run once."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import pytest
import redis

from asyncq import cron
from asyncq.redis import keys
from asyncq.redis.schedule_store import scheduler_fired_key
from asyncq.scheduler import MissedPolicy, Scheduler, SchedulerConfig
from asyncq.task import Task

FAST = SchedulerConfig(heartbeat_interval=0.5)


def daily_spec_far_from_now() -> str:
    """A daily spec twelve hours away, so no tick of it is due while the test runs."""
    return f"0 {(datetime.now(UTC).hour + 12) % 24} * * *"


def pretend_last_fired(raw_redis: redis.Redis, entry_id: str, tick: int) -> None:
    raw_redis.hset(scheduler_fired_key("default"), entry_id, tick)


def missed_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "missed" in r.getMessage()]


async def away_from_a_tick(interval: int) -> None:
    """Make sure no tick of ``@every <interval>s`` falls in the next second and a half."""
    left = interval - time.time() % interval
    if left < 1.5:
        await asyncio.sleep(left + 0.1)


async def run_briefly(*schedulers: Scheduler, seconds: float = 0.5) -> None:
    for scheduler in schedulers:
        await scheduler.start()
    await asyncio.sleep(seconds)
    for scheduler in schedulers:
        await scheduler.shutdown()


@pytest.mark.parametrize(
    "case", [("skip", 0, "skipping them"), ("run_once", 1, "running the task once now")]
)
async def test_a_daily_entry_down_for_eight_days_applies_its_missed_policy(
    redis_url: str,
    raw_redis: redis.Redis,
    caplog: pytest.LogCaptureFixture,
    case: tuple[MissedPolicy, int, str],
) -> None:
    policy, tasks, action = case
    spec = daily_spec_far_from_now()
    scheduler = Scheduler(redis_url, FAST)
    entry_id = scheduler.register(spec, Task("purge"), missed=policy)
    schedule = cron.parse(spec)
    newest = schedule.latest_at_or_before(time.time(), 0)
    assert newest is not None
    pretend_last_fired(raw_redis, entry_id, newest - 8 * 86_400)
    caplog.set_level(logging.WARNING, "asyncq.scheduler")

    await run_briefly(scheduler)

    assert raw_redis.llen(keys.pending_key("default")) == tasks
    assert int(raw_redis.hget(scheduler_fired_key("default"), entry_id)) == newest
    assert missed_lines(caplog) == [
        f"Entry entry_id={entry_id} missed 8 ticks while no scheduler ran; {action}."
    ]


async def test_two_schedulers_starting_together_run_a_missed_entry_once(
    redis_url: str, raw_redis: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    spec = daily_spec_far_from_now()
    schedulers = [Scheduler(redis_url, FAST) for _ in range(2)]
    entry_id = {s.register(spec, Task("purge"), missed="run_once") for s in schedulers}.pop()
    newest = cron.parse(spec).latest_at_or_before(time.time(), 0)
    assert newest is not None
    pretend_last_fired(raw_redis, entry_id, newest - 2 * 86_400)
    caplog.set_level(logging.WARNING, "asyncq.scheduler")

    await run_briefly(*schedulers)

    assert raw_redis.llen(keys.pending_key("default")) == 1
    assert len(missed_lines(caplog)) == 1


async def test_a_new_entry_has_missed_nothing(
    redis_url: str, raw_redis: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = Scheduler(redis_url, FAST)
    scheduler.register(daily_spec_far_from_now(), Task("purge"), missed="run_once")
    caplog.set_level(logging.WARNING, "asyncq.scheduler")

    await run_briefly(scheduler)

    assert raw_redis.llen(keys.pending_key("default")) == 0
    assert missed_lines(caplog) == []


async def test_a_frequent_entry_fires_its_due_tick_and_skips_the_older_misses(
    redis_url: str, raw_redis: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """With a tick due right now, running one more task for the outage would double it."""
    scheduler = Scheduler(redis_url, FAST)
    entry_id = scheduler.register("@every 10s", Task("poll"), missed="run_once")
    await away_from_a_tick(10)
    newest = int(time.time()) // 10 * 10
    pretend_last_fired(raw_redis, entry_id, newest - 7 * 86_400)
    caplog.set_level(logging.WARNING, "asyncq.scheduler")

    await run_briefly(scheduler)

    assert raw_redis.llen(keys.pending_key("default")) == 1
    assert int(raw_redis.hget(scheduler_fired_key("default"), entry_id)) >= newest
    assert missed_lines(caplog) == [
        f"Entry entry_id={entry_id} missed {7 * 8640 - 1} ticks while no scheduler ran; "
        "running the task once now."
    ]


@pytest.mark.parametrize(
    "case",
    [
        ("skip", "skipping it; the tick due now runs as usual"),
        ("run_once", "running the task once now"),
    ],
)
async def test_one_missed_tick_before_a_due_one_is_logged_as_what_the_policy_does(
    redis_url: str,
    raw_redis: redis.Redis,
    caplog: pytest.LogCaptureFixture,
    case: tuple[MissedPolicy, str],
) -> None:
    policy, action = case
    scheduler = Scheduler(redis_url, FAST)
    entry_id = scheduler.register("@every 10s", Task("poll"), missed=policy)
    await away_from_a_tick(10)
    newest = int(time.time()) // 10 * 10
    pretend_last_fired(raw_redis, entry_id, newest - 20)
    caplog.set_level(logging.WARNING, "asyncq.scheduler")

    await run_briefly(scheduler)

    assert raw_redis.llen(keys.pending_key("default")) == 1
    assert missed_lines(caplog) == [
        f"Entry entry_id={entry_id} missed 1 tick while no scheduler ran; {action}."
    ]


async def test_a_restart_right_after_a_tick_misses_nothing(
    redis_url: str, raw_redis: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = Scheduler(redis_url, FAST)
    entry_id = scheduler.register("@every 10s", Task("poll"), missed="run_once")
    await away_from_a_tick(10)
    pretend_last_fired(raw_redis, entry_id, int(time.time()) // 10 * 10)
    caplog.set_level(logging.WARNING, "asyncq.scheduler")

    await run_briefly(scheduler)

    assert raw_redis.llen(keys.pending_key("default")) == 0
    assert missed_lines(caplog) == []
