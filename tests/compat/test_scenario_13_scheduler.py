"""Scenario 13 replayed with the Python scheduler: the Redis state Go's scheduler leaves,
plus asyncq's documented differences (protocol section 11, decision 6)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import redis

from asyncq.redis import keys
from asyncq.redis.schedule_store import (
    PUBLISHER_LEASE_KEY,
    SCHEDULER_INSTANCES_KEY,
)
from asyncq.scheduler import Scheduler, SchedulerConfig, entry_id
from asyncq.task import Task, TaskInfo
from compat.scenario import WORKER_TOLERANCE_S, Run, Scenario, compare, patched

SCENARIO = Scenario.load("13_live_scheduler")
SCHEDULER_KEY = "<HOST>:<SCHEDULER_PID>:<SCHEDULER_ID>"


def with_asyncq_records(tick: int, while_running: bool) -> Callable[[dict[str, Any]], None]:
    """The keys only asyncq writes, added to Go's recorded state.

    Always: the durable record of the newest handled tick, in the queue's slot. While
    running: the publisher lease (2 x heartbeat) and the liveness entry of the scheduler.
    """

    def change(state: dict[str, Any]) -> None:
        state[keys.queue_prefix("default") + "scheduler_fired"] = {
            "type": "hash",
            "ttl": None,
            "value": {"<ENTRY_ID>": str(tick)},
        }
        if not while_running:
            return
        state[PUBLISHER_LEASE_KEY] = {
            "type": "string",
            "ttl": {"range_s": [1, 4]},
            "value": SCHEDULER_KEY,
        }
        state[SCHEDULER_INSTANCES_KEY] = {
            "type": "zset",
            "ttl": None,
            "value": [{"member": SCHEDULER_KEY, "score_rel_s": 6}],
        }

    return change


def with_our_yearly_next_time(state: dict[str, Any]) -> None:
    """The yearly entry's next fire time is an absolute date, not an offset from the start."""
    entries = state["asynq:schedulers:{" + SCHEDULER_KEY + "}"]["value"]
    yearly = next(e for e in entries if e["decoded"]["task_type"] == "cron:yearly")
    del yearly["decoded_rel_s"]


async def start_just_after_an_odd_second() -> None:
    """So that the epoch-aligned '@every 2s' ticks fall 1 s and 3 s after the start, as Go's."""
    now = time.time()
    wait = (1 - now % 1) + (0 if int(now) % 2 == 0 else 1) + 0.05
    await asyncio.sleep(wait)


async def test_scenario_13_the_python_scheduler_leaves_gos_state(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    infos: list[TaskInfo] = []
    config = SchedulerConfig(
        heartbeat_interval=2, post_enqueue=lambda info, _: infos.append(info) if info else None
    )
    scheduler = Scheduler(redis_url, config)
    tick_task = Task("cron:tick", b"tick")
    tick_id = scheduler.register("@every 2s", tick_task, queue="default", max_retry=5, timeout=90)
    yearly_id = scheduler.register("0 0 1 1 *", Task("cron:yearly", b""))
    await start_just_after_an_odd_second()

    run = Run.start(raw_redis)
    await scheduler.start()
    await asyncio.sleep(3.94)
    host, pid, uuid_part = scheduler.id.split(":")
    bind_all(
        run,
        host=host,
        pid=int(pid),
        scheduler_uuid=uuid_part,
        tick_id=tick_id,
        yearly_id=yearly_id,
        infos=infos,
    )
    _, go_running = next(SCENARIO.step_states())
    expected_running = patched(go_running, with_asyncq_records(_tick(run, 3), True))
    running_diffs = compare(
        patched(expected_running, with_our_yearly_next_time), run, WORKER_TOLERANCE_S
    )
    await scheduler.shutdown()
    final_diffs = compare(
        patched(SCENARIO.redis_after, with_asyncq_records(_tick(run, 3), False)),
        run,
        WORKER_TOLERANCE_S,
    )

    assert running_diffs == []
    assert final_diffs == []
    assert [info.next_process_at.timestamp() // 1 for info in infos if info.next_process_at] == [
        _tick(run, 1),
        _tick(run, 3),
    ]


def test_scenario_13_entry_ids_are_deterministic_not_random_uuids() -> None:
    """Go draws a random UUID per Register; asyncq derives the ID from the entry itself."""
    first = Scheduler("redis://127.0.0.1:1/0")
    second = Scheduler("redis://127.0.0.1:1/0")
    task = Task("cron:tick", b"tick")

    ids = {
        s.register("@every 2s", task, queue="default", max_retry=5, timeout=90)
        for s in (first, second)
    }
    expected = entry_id(
        "@every 2s", "UTC", task, ['Queue("default")', "MaxRetry(5)", "Timeout(1m30s)"]
    )

    assert ids == {expected}
    assert expected != SCENARIO.ids["<ENTRY_ID>"]


def bind_all(
    run: Run,
    *,
    host: str,
    pid: int,
    scheduler_uuid: str,
    tick_id: str,
    yearly_id: str,
    infos: list[TaskInfo],
) -> None:
    run.bind("<HOST>", host)
    run.bind("<SCHEDULER_PID>", pid)
    run.bind("<SCHEDULER_ID>", scheduler_uuid)
    run.bind("<ENTRY_ID>", tick_id)
    run.bind("<ENTRY2_ID>", yearly_id)
    for index, info in enumerate(infos, start=1):
        run.bind(f"<ID{index}>", info.id)


def _tick(run: Run, offset: int) -> int:
    """The whole second ``offset`` seconds after the (just past a second) start."""
    return int(run.t_ref) + offset
