"""Each tick is enqueued once across schedulers: side by side, across restarts, through a
SIGSTOP longer than every lease, and while Redis is slowed down."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from asyncq.devserver import RedisProcess
from asyncq.proto import SchedulerEntry
from asyncq.redis import keys
from asyncq.scheduler import Scheduler, SchedulerConfig
from asyncq.task import Task

from .ticks import assert_one_task_per_tick, at_tick_start, pending_since_seconds

HELPER = Path(__file__).with_name("scheduler_process.py")


async def test_two_schedulers_with_an_every_2s_entry_enqueue_each_tick_once(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    config = SchedulerConfig(heartbeat_interval=1)
    schedulers = [Scheduler(redis_url, config) for _ in range(2)]
    entry_ids = {s.register("@every 2s", Task("cron:tick")) for s in schedulers}
    await at_tick_start(2)

    for scheduler in schedulers:
        await scheduler.start()
    await asyncio.sleep(10)
    published = raw_redis.zcard(keys.ALL_SCHEDULERS)
    listed = [
        SchedulerEntry.FromString(v).id
        for s in schedulers
        for v in raw_redis.lrange(keys.scheduler_entries_key(s.id), 0, -1)
    ]
    await asyncio.sleep(10)
    for scheduler in schedulers:
        await scheduler.shutdown()

    assert len(entry_ids) == 1
    assert 9 <= raw_redis.llen(keys.pending_key("default")) <= 11
    assert published == 1
    assert listed == list(entry_ids)
    first_tick = pending_since_seconds(raw_redis)[0] // 2 * 2
    assert_one_task_per_tick(raw_redis, entry_ids.pop(), 2, first_tick)


async def test_a_scheduler_restarted_within_a_tick_does_not_fire_it_again(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    config = SchedulerConfig(heartbeat_interval=1)
    first = Scheduler(redis_url, config)
    entry_id = first.register("@every 2s", Task("cron:tick"))
    await at_tick_start(2, offset=1.5)

    await first.start()
    await at_tick_start(2, offset=0.3)
    await first.shutdown()
    second = Scheduler(redis_url, config)
    second.register("@every 2s", Task("cron:tick"))
    await second.start()
    await at_tick_start(2, offset=0.5)
    await second.shutdown()

    assert raw_redis.llen(keys.pending_key("default")) == 2
    first_tick = pending_since_seconds(raw_redis)[0] // 2 * 2
    assert assert_one_task_per_tick(raw_redis, entry_id, 2, first_tick) == 2


@pytest.fixture
def paused_scheduler(redis_url: str) -> Iterator[subprocess.Popen[str]]:
    """A scheduler process with a 1 s lease and the shortest lateness, firing every second."""
    process = subprocess.Popen(
        [sys.executable, str(HELPER), redis_url, "@every 1s", "cron:tick", "0.5", "1", "1"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "started"
    yield process
    process.send_signal(signal.SIGCONT)
    process.terminate()
    process.wait(10)


async def test_a_scheduler_paused_longer_than_its_lease_fires_no_duplicate_when_resumed(
    redis_url: str, raw_redis: redis.Redis, paused_scheduler: subprocess.Popen[str]
) -> None:
    config = SchedulerConfig(heartbeat_interval=0.5, publisher_lease_ttl=1, max_lateness=1)
    other = Scheduler(redis_url, config)
    entry_id = other.register("@every 1s", Task("cron:tick"))
    await other.start()
    await asyncio.sleep(1.5)

    paused_scheduler.send_signal(signal.SIGSTOP)
    await asyncio.sleep(4)
    paused_scheduler.send_signal(signal.SIGCONT)
    await asyncio.sleep(2.5)
    paused_scheduler.terminate()
    await asyncio.to_thread(paused_scheduler.wait, 10)
    await other.shutdown()

    first_tick = pending_since_seconds(raw_redis)[0]
    assert assert_one_task_per_tick(raw_redis, entry_id, 1, first_tick) >= 7


@pytest.fixture
async def debuggable_redis() -> AsyncIterator[RedisProcess]:
    """A private Redis that allows DEBUG SLEEP, which the shared one does not."""
    server = RedisProcess(extra_args=["--enable-debug-command", "yes"]).start()
    yield server
    server.stop()


@pytest.mark.parametrize("sleep_s", [1.5, 4])
async def test_each_tick_is_enqueued_once_while_redis_is_slow(
    debuggable_redis: RedisProcess, sleep_s: float
) -> None:
    """4 s is longer than the client's 3 s reply timeout: the late reply is lost, the retry
    finds the tick handled."""
    config = SchedulerConfig(heartbeat_interval=0.5, publisher_lease_ttl=1)
    schedulers = [Scheduler(debuggable_redis.url, config) for _ in range(2)]
    entry_ids = {s.register("@every 1s", Task("cron:tick")) for s in schedulers}
    entry_id = entry_ids.pop()
    client = redis.Redis.from_url(debuggable_redis.url)
    await at_tick_start(1, offset=0.2)

    for scheduler in schedulers:
        await scheduler.start()
    await asyncio.sleep(1.5)
    await asyncio.to_thread(client.execute_command, "DEBUG", "SLEEP", sleep_s)
    await asyncio.sleep(2.5)
    for scheduler in schedulers:
        await scheduler.shutdown()

    first_tick = pending_since_seconds(client)[0]
    assert assert_one_task_per_tick(client, entry_id, 1, first_tick) >= 4
    client.close()
