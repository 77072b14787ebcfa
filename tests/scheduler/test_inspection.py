"""What asyncq's Inspector (which reads as asynq's CLI does) sees of running schedulers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import redis

from asyncq.inspector import Inspector
from asyncq.redis import keys
from asyncq.scheduler import Scheduler, SchedulerConfig
from asyncq.task import Task

from .ticks import at_tick_start


async def test_three_schedulers_list_each_entry_once_with_its_history(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    config = SchedulerConfig(heartbeat_interval=0.5)
    schedulers = [Scheduler(redis_url, config) for _ in range(3)]
    for scheduler in schedulers:
        scheduler.register("@every 1s", Task("cron:tick", b"t"), queue="low", timeout=90)
        scheduler.register("@daily", Task("cron:daily"))
    await at_tick_start(1, offset=0.1)

    for scheduler in schedulers:
        await scheduler.start()
    await asyncio.sleep(2.5)
    async with Inspector.from_url(redis_url) as inspector:
        entries = await inspector.scheduler_entries()
        tick_entry = next(e for e in entries if e.task_type == "cron:tick")
        events = await inspector.list_scheduler_enqueue_events(tick_entry.id)
    pending = raw_redis.lrange(keys.pending_key("low"), 0, -1)
    for scheduler in schedulers:
        await scheduler.shutdown()

    assert sorted(e.task_type for e in entries) == ["cron:daily", "cron:tick"]
    assert tick_entry.options == ('Queue("low")', "Timeout(1m30s)")
    assert tick_entry.task_options.queue == "low"
    assert tick_entry.task_options.timeout == timedelta(seconds=90)
    assert tick_entry.prev_enqueue is not None
    daily = next(e for e in entries if e.task_type == "cron:daily")
    assert daily.prev_enqueue is None and daily.next_enqueue is not None
    assert {e.task_id.encode() for e in events} == set(pending)
    assert len(events) == len(pending) >= 2
