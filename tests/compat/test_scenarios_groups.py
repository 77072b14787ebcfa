"""Scenarios 15 and 16 replayed in Python: group aggregation leaves the state Go leaves.

The Go-client steps run on a broker whose clock the test sets to each step's recorded
offset, so the group scores (whole seconds, which also order the group) match Go's
without sleeping. Then Go's staged aggregation set (16) is loaded and finished by Python.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from worker.helpers import running_server, stored_message, wait_for

from asyncq.client import Client
from asyncq.clock import ManualClock
from asyncq.context import ActiveTask
from asyncq.inspector import Inspector
from asyncq.redis.broker import RedisBroker
from asyncq.task import Task
from asyncq.worker.aggregator import Aggregator, AggregatorParams
from compat.scenario import (
    WORKER_TOLERANCE_S,
    Run,
    Scenario,
    assert_same_state,
    load_state,
)
from compat.test_scenarios_client import python_options, task_of


def go_aggregate(group: str, tasks: list[Task]) -> Task:
    """The recorded Go aggregator: payloads joined with newlines, type "aggregated:<group>"."""
    return Task(f"aggregated:{group}", b"\n".join(t.payload or b"" for t in tasks))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(0)


@pytest.fixture
async def timed_broker(redis_url: str, clock: ManualClock) -> AsyncIterator[RedisBroker]:
    made = RedisBroker.from_url(redis_url, clock=clock)
    yield made
    await made.close()


async def replay_enqueues(
    scenario: Scenario, run: Run, broker: RedisBroker, clock: ManualClock
) -> list[dict[str, Any]]:
    """Do the scenario's Go-client steps at their offsets; return the steps after them."""
    client = Client(broker)
    steps = scenario.steps
    while steps and steps[0]["actor"] == "go-client":
        step = steps.pop(0)
        clock.set(run.t_ref + step["at_s"])
        info = await client.enqueue(
            task_of(step["inputs"]), **python_options(step["inputs"]["options"])
        )
        run.bind(step["result"]["task_info"]["id"], info.id)
    return steps


def step_state(scenario: Scenario, action_prefix: str) -> dict[str, Any]:
    """The intermediate state recorded by the step whose action starts with ``action_prefix``."""
    steps = scenario.steps
    [state] = [s for i, s in scenario.step_states() if steps[i]["action"].startswith(action_prefix)]
    return state


async def test_aggregation_by_a_python_server_leaves_the_state_go_leaves(
    raw_redis: redis.Redis,
    aio_redis: aioredis.Redis,
    redis_url: str,
    timed_broker: RedisBroker,
    clock: ManualClock,
) -> None:
    scenario = Scenario.load("15_aggregation")
    run = Run.start(raw_redis)
    later = await replay_enqueues(scenario, run, timed_broker, clock)
    go_worker = next(s for s in later if s["actor"] == "go-worker")
    assert go_worker["config"]["GroupGracePeriod"] == "1s"

    clock.set(run.t_ref + go_worker["at_s"])
    await Inspector(aio_redis, clock).pause_queue("default")
    clock.advance(1)
    async with running_server(
        timed_broker,
        lambda task: None,
        concurrency=1,
        group_aggregator=go_aggregate,
        group_grace_period=1,
        group_max_delay=10,
        group_max_size=10,
    ):
        await wait_for(lambda: has_pending(aio_redis), timeout=10)
    [aggregated] = await pending_ids(aio_redis)
    run.bind("<ID4>", aggregated)
    paused_state = step_state(scenario, "snapshot: after aggregation")
    assert_same_state(paused_state, run, WORKER_TOLERANCE_S)

    handled = await run_worker_until_one_task_is_handled(aio_redis, redis_url)
    assert handled == [("aggregated:user42", b"m1\nm2\nm3", "default", 0)]
    assert_same_state(scenario.redis_after, run, WORKER_TOLERANCE_S)


async def run_worker_until_one_task_is_handled(
    aio_redis: aioredis.Redis, redis_url: str
) -> list[tuple[str, bytes, str, int]]:
    """Resume the queue and run a plain server (on the wall clock) until it handled a task."""
    await Inspector(aio_redis).unpause_queue("default")
    handled: list[tuple[str, bytes, str, int]] = []

    async def handler(task: ActiveTask) -> None:
        handled.append((task.type, task.payload, task.queue, task.retry_count))

    broker = RedisBroker.from_url(redis_url)
    async with running_server(broker, handler, concurrency=1):
        await wait_for(lambda: bool(handled), timeout=10)
    await broker.close()
    return handled


async def test_a_python_aggregation_check_stages_the_set_go_stages(
    raw_redis: redis.Redis, timed_broker: RedisBroker, clock: ManualClock
) -> None:
    scenario = Scenario.load("16_aggregation_set_staged")
    run = Run.start(raw_redis)
    [internal] = await replay_enqueues(scenario, run, timed_broker, clock)
    clock.set(run.t_ref + internal["at_s"])

    set_id = await timed_broker.aggregation_check("default", "g4", 60, 0, 3)
    assert set_id is not None
    msgs, deadline = await timed_broker.read_aggregation_set("default", "g4", set_id)
    run.bind("<SET_ID>", set_id)

    expected = internal["result"]
    assert [m.id for m in msgs] == [run.ids[i] for i in expected["task_ids_read"]]
    assert abs(run.rel(deadline) - expected["read_deadline_rel_s"]) <= 2
    assert_same_state(scenario.redis_after, run)


async def test_a_python_worker_finishes_the_set_a_go_worker_staged_exactly_once(
    raw_redis: redis.Redis, aio_redis: aioredis.Redis, timed_broker: RedisBroker, clock: ManualClock
) -> None:
    scenario = Scenario.load("16_aggregation_set_staged")
    raw_redis.flushall()
    load_state(raw_redis, scenario.redis_after, scenario.ids)
    clock.set(scenario.t_ref + 200)
    aggregator = Aggregator(AggregatorParams(timed_broker, ["default"], go_aggregate, 60, 0, 3))

    await timed_broker.reclaim_stale_aggregation_sets("default")
    await aggregator.check()
    await aggregator.check()

    pending = await pending_ids(aio_redis)
    payloads = [await aggregated_payload(aio_redis, task_id) for task_id in pending]
    assert sorted(payloads) == [b"a1\na2\na3", b"a4"]
    assert raw_redis.keys("asynq:{default}:g*") == []
    assert raw_redis.exists("asynq:{default}:aggregation_sets") == 0
    for placeholder in ("<ID1>", "<ID2>", "<ID3>", "<ID4>"):
        assert raw_redis.exists(f"asynq:{{default}}:t:{scenario.ids[placeholder]}") == 0


async def pending_ids(aio_redis: aioredis.Redis) -> list[str]:
    found: list[Any] = await aio_redis.lrange("asynq:{default}:pending", 0, -1)
    return [task_id.decode() for task_id in found]


async def has_pending(aio_redis: aioredis.Redis) -> bool:
    return bool(await pending_ids(aio_redis))


async def aggregated_payload(aio_redis: aioredis.Redis, task_id: str) -> bytes:
    msg = await stored_message(aio_redis, "default", task_id)
    assert msg.type == "aggregated:g4"
    return msg.payload
