"""Go's recorded inspector scenarios (14 and 18) replayed with asyncq's client and inspector.

The end state must be Go's, except for the one difference asyncq makes on purpose
(protocol section 11, decision 1): running a task sets ``pending_since``, so queue latency
counts its wait. That difference is patched into Go's state below, so it stays asserted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from compat.scenario import Run, Scenario, assert_same_state, patched

from asyncq.client import Client
from asyncq.errors import QueueStateError
from asyncq.inspector import Inspector
from asyncq.task import Task, TaskState


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Client]:
    async with Client.from_url(redis_url) as client:
        yield client


async def enqueue_step(client: Client, run: Run, step: dict[str, Any], placeholder: str) -> str:
    """Enqueue what a go-client step enqueued and bind our ID to Go's placeholder."""
    inputs = step["inputs"]
    options: dict[str, Any] = {}
    if "ProcessIn" in inputs["options"]:
        assert inputs["options"]["ProcessIn"] == "1h"
        options["process_in"] = timedelta(hours=1)
    info = await client.enqueue(
        Task(inputs["type"], bytes.fromhex(inputs["payload_hex"])), **options
    )
    run.bind(placeholder, info.id)
    return info.id


def with_pending_since(task_key: str) -> Any:
    """asyncq's documented difference: a task moved to pending by "run" gets pending_since."""

    def change(keys: dict[str, Any]) -> None:
        keys[task_key]["value"]["pending_since"] = "set by run"
        keys[task_key]["rel_s"] = {"pending_since (ns -> s)": 0}

    return change


async def test_scenario_18_archive_run_and_delete_leave_gos_state(
    client: Client, raw_redis: redis.Redis, aio_redis: aioredis.Redis
) -> None:
    scenario = Scenario.load("18_inspector_task_ops")
    run = Run.start(raw_redis)
    inspector = Inspector(aio_redis)
    steps = scenario.steps
    archived = await enqueue_step(client, run, steps[0], "<ID1>")
    scheduled = await enqueue_step(client, run, steps[1], "<ID2>")
    deleted = await enqueue_step(client, run, steps[2], "<ID3>")

    await inspector.archive_task("default", archived)
    await inspector.run_task("default", scheduled)
    await inspector.delete_task("default", deleted)

    expected = patched(scenario.redis_after, with_pending_since("asynq:{default}:t:<ID2>"))
    assert_same_state(expected, run)
    assert (await inspector.get_task_info("default", scheduled)).state is TaskState.PENDING


async def test_scenario_14_pause_and_resume_leave_gos_state(
    client: Client, raw_redis: redis.Redis, aio_redis: aioredis.Redis
) -> None:
    scenario = Scenario.load("14_paused_queue")
    run = Run.start(raw_redis)
    inspector = Inspector(aio_redis)
    await enqueue_step(client, run, scenario.steps[0], "<ID1>")
    [(_, after_pause), *_] = list(scenario.step_states())

    await inspector.pause_queue("default")
    assert_same_state(after_pause, run)
    with pytest.raises(QueueStateError, match='Queue "default" is already paused'):
        await inspector.pause_queue("default")
    assert_same_state(after_pause, run)

    await inspector.unpause_queue("default")
    assert_same_state(scenario.redis_after, run)
    assert not (await inspector.queue_info("default")).paused


async def test_deleting_a_unique_scheduled_task_frees_its_lock_at_once(
    client: Client, aio_redis: aioredis.Redis
) -> None:
    inspector = Inspector(aio_redis)
    task = Task("report:build", b'{"day":"2026-12-04"}')
    first = await client.enqueue(task, unique=timedelta(seconds=120), process_in=3600)

    await inspector.delete_task("default", first.id)
    again = await client.enqueue(task, unique=timedelta(seconds=120), process_in=3600)

    assert again.id != first.id
    assert again.state is TaskState.SCHEDULED
    assert [t.id for t in await inspector.list_tasks("default", "scheduled")] == [again.id]
