"""Scenarios 01-07 replayed with the Python client: same Redis state, TaskInfo and errors as Go.

One difference is made on purpose and patched into Go's state, so it stays asserted: the
hash of a unique grouped task names its lock in ``unique_key`` (Go writes the field for every
other unique task only), so deleting or aggregating the task releases the lock.

Then the other direction: Go's recorded state loaded into Redis, and the Python side must
read it (dequeue Go's pending tasks) and respect it (Go's locks and IDs refuse duplicates).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from asyncq.client import Client
from asyncq.errors import DuplicateTaskError, EnqueueError, TaskIDConflictError
from asyncq.proto import TaskMessage
from asyncq.redis.broker import RedisBroker
from asyncq.task import Task, TaskInfo
from compat.scenario import Run, Scenario, assert_same_state, decoded, load_state, patched

CLIENT_SCENARIOS = [
    "01_pending_plain",
    "02_pending_all_options",
    "03_pending_edge_values",
    "04_scheduled",
    "05_unique",
    "06_task_id_conflict",
    "07_group_enqueue",
]

GO_ERRORS: dict[str, type[EnqueueError]] = {
    "asynq.ErrDuplicateTask": DuplicateTaskError,
    "asynq.ErrTaskIDConflict": TaskIDConflictError,
}


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Client]:
    async with Client.from_url(redis_url) as client:
        yield client


def go_duration(text: str) -> timedelta:
    """A Go duration such as "1h", "5m", "45s" or "1h30m"."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    assert parts, f"not a Go duration: {text}"
    return timedelta(seconds=sum(float(n) * units[u] for n, u in parts))


def go_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def python_options(go_options: dict[str, Any]) -> dict[str, Any]:
    """The keyword options that mean what Go's options meant."""
    converters: dict[str, tuple[str, Any]] = {
        "Queue": ("queue", str),
        "TaskID": ("task_id", str),
        "MaxRetry": ("max_retry", int),
        "Timeout": ("timeout", go_duration),
        "Deadline": ("deadline", go_time),
        "Retention": ("retention", go_duration),
        "ProcessIn": ("process_in", go_duration),
        "ProcessAt": ("process_at", go_time),
        "Unique": ("unique", go_duration),
        "Group": ("group", str),
    }
    return {converters[k][0]: converters[k][1](v) for k, v in go_options.items()}


def task_of(inputs: dict[str, Any]) -> Task:
    return Task(inputs["type"], bytes.fromhex(inputs["payload_hex"]), inputs.get("headers", {}))


def go_view(info: TaskInfo) -> dict[str, Any]:
    """Our TaskInfo in the recorded form of Go's (times as RFC3339 seconds)."""

    def when(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "completed_at": when(info.completed_at),
        "deadline": when(info.deadline),
        "group": info.group,
        "headers": dict(info.headers),
        "id": info.id,
        "is_orphaned": info.is_orphaned,
        "last_err": info.last_err,
        "last_failed_at": when(info.last_failed_at),
        "max_retry": info.max_retry,
        "next_process_at": when(info.next_process_at),
        "payload_hex": info.payload.hex(),
        "queue": info.queue,
        "result_hex": info.result.hex(),
        "retention_s": int(info.retention.total_seconds()),
        "retried": info.retried,
        "state": info.state.value,
        "timeout_s": int(info.timeout.total_seconds()),
        "type": info.type,
    }


def assert_same_info(run: Run, step: dict[str, Any], info: TaskInfo) -> None:
    """Our TaskInfo equals Go's, relative times compared as offsets from each run's start."""
    go_info = dict(step["result"]["task_info"])
    if go_info["id"].startswith("<"):
        run.bind(go_info["id"], info.id)
        go_info["id"] = info.id
    ours = go_view(info)
    for name, offset in step["result"].get("task_info_rel_s", {}).items():
        ours_at = getattr(info, name).timestamp()
        assert abs(run.rel(ours_at) - offset) <= 2, f"{name} is off: {run.rel(ours_at)} vs {offset}"
        ours[name] = go_info[name]
    assert ours == go_info


@pytest.mark.parametrize("name", CLIENT_SCENARIOS)
async def test_python_client_leaves_the_state_go_leaves(
    name: str, client: Client, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load(name)
    run = Run.start(raw_redis)

    for step in scenario.steps:
        task, options = task_of(step["inputs"]), python_options(step["inputs"]["options"])
        if "error" in step["result"]:
            with pytest.raises(GO_ERRORS[step["result"]["errors_is"]]) as refused:
                await client.enqueue(task, **options)
            assert str(refused.value) == step["result"]["error"]
        else:
            assert_same_info(run, step, await client.enqueue(task, **options))

    assert_same_state(patched(scenario.redis_after, with_unique_key_in_grouped_hashes), run)


def with_unique_key_in_grouped_hashes(keys: dict[str, Any]) -> None:
    """asyncq's documented difference: a unique grouped task's hash names its lock."""
    for entry in keys.values():
        value = entry["value"]
        if entry["type"] != "hash" or value.get("state") != "aggregating":
            continue
        unique_key = value["msg"]["decoded"]["unique_key"]
        if unique_key:
            value["unique_key"] = unique_key


def test_the_patch_adds_the_lock_to_the_one_unique_grouped_task_go_recorded() -> None:
    recorded = Scenario.load("05_unique").redis_after["keys"]
    ours = patched({"keys": recorded}, with_unique_key_in_grouped_hashes)["keys"]

    changed = [key for key in recorded if ours[key] != recorded[key]]

    assert changed == ["asynq:{default}:t:<ID4>"]
    assert ours["asynq:{default}:t:<ID4>"]["value"]["unique_key"] == (
        "asynq:{default}:unique:grp:item:315367fd7b05a9b797a1b08f4d4cdfba"
    )
    assert "unique_key" not in recorded["asynq:{default}:t:<ID4>"]["value"]


@pytest.mark.parametrize("name", CLIENT_SCENARIOS)
async def test_python_worker_side_reads_the_tasks_go_enqueued(
    name: str, raw_redis: redis.Redis, redis_url: str
) -> None:
    scenario = Scenario.load(name)
    raw_redis.flushall()
    load_state(raw_redis, scenario.redis_after, scenario.ids)
    pending = _pending_messages(raw_redis)

    broker = RedisBroker.from_url(redis_url)
    queues = sorted({queue for queue, _ in pending})
    leased = await broker.dequeue(queues, limit=100)
    await broker.close()

    ours = sorted(((d.queue, decoded(d.message)) for d in leased), key=_by_queue_and_id)
    assert ours == pending
    assert all(d.decode_error is None for d in leased)


@pytest.mark.parametrize("name", ["05_unique", "06_task_id_conflict"])
async def test_python_client_respects_the_locks_and_ids_go_wrote(
    name: str, client: Client, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load(name)
    raw_redis.flushall()
    load_state(raw_redis, scenario.redis_after, scenario.ids)
    stored = [s for s in scenario.steps if "task_info" in s["result"]]
    keys_before = sorted(raw_redis.keys("*"))

    for step in stored:
        options = python_options(step["inputs"]["options"])
        expected = DuplicateTaskError if "unique" in options else TaskIDConflictError
        with pytest.raises(expected):
            await client.enqueue(task_of(step["inputs"]), **options)

    assert sorted(raw_redis.keys("*")) == keys_before


def _pending_messages(raw_redis: redis.Redis) -> list[tuple[str, dict[str, Any]]]:
    """(queue, decoded msg) of every pending task in the db, as Go stored them."""
    found = []
    for key in raw_redis.keys("asynq:{*}:pending"):
        queue = key.decode()[len("asynq:{") : -len("}:pending")]
        for task_id in raw_redis.lrange(key, 0, -1):
            raw = raw_redis.hget(f"asynq:{{{queue}}}:t:{task_id.decode()}", "msg")
            found.append((queue, decoded(TaskMessage.FromString(raw))))
    return sorted(found, key=_by_queue_and_id)


def _by_queue_and_id(entry: tuple[str, dict[str, Any]]) -> tuple[str, str]:
    return entry[0], entry[1]["id"]
