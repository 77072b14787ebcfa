"""The inspector reads exactly what Go asynq v0.26.0 wrote, in every recorded scenario."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from asyncq.clock import ManualClock
from asyncq.inspector import Inspector
from asyncq.task import TaskInfo, TaskState
from inspector.go_state import GoSnapshot, snapshots

SNAPSHOTS = list(snapshots())


def expected_next_process_at(snapshot: GoSnapshot, queue: str, task: TaskInfo) -> Any:
    """Go's rule: the score for scheduled and retry tasks, now for pending ones."""
    if task.state is TaskState.PENDING:
        return datetime.fromtimestamp(snapshot.taken_at, UTC)
    if task.state in (TaskState.SCHEDULED, TaskState.RETRY):
        members = snapshot.keys[f"asynq:{{{queue}}}:{task.state.value}"]["value"]
        [score] = [m["score"] for m in members if snapshot.real(m["member"]) == task.id]
        return datetime.fromtimestamp(score, UTC)
    return None


def assert_matches(snapshot: GoSnapshot, task: TaskInfo, record: dict[str, Any]) -> None:
    """Every TaskInfo field equals what the Go-written record says."""
    decoded = record["msg"]["decoded"]
    assert task.id == snapshot.real(decoded["id"])
    assert (task.type, task.queue) == (decoded["type"], decoded["queue"])
    assert task.payload == bytes.fromhex(decoded["payload"])
    assert dict(task.headers) == decoded["headers"]
    assert task.state == TaskState(record["state"])
    assert (task.max_retry, task.retried) == (decoded["retry"], decoded["retried"])
    assert task.last_err == decoded["error_msg"]
    assert task.timeout.total_seconds() == decoded["timeout"]
    assert task.retention.total_seconds() == decoded["retention"]
    assert task.group == decoded["group_key"]
    for field, unix in [
        ("deadline", decoded["deadline"]),
        ("last_failed_at", decoded["last_failed_at"]),
        ("completed_at", decoded["completed_at"]),
    ]:
        assert getattr(task, field) == (datetime.fromtimestamp(unix, UTC) if unix else None)
    result = record.get("result")
    assert task.result == (snapshot.value(result) if result is not None else b"")
    assert task.next_process_at == expected_next_process_at(snapshot, task.queue, task)


def task_records(snapshot: GoSnapshot) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for name, entry in snapshot.keys.items():
        if ":t:" in name:
            queue = name.split("{", 1)[1].split("}", 1)[0]
            task_id = snapshot.real(name.split(":t:", 1)[1])
            out.append((queue, task_id, entry["value"]))
    return out


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=[s.name for s in SNAPSHOTS])
async def test_every_go_written_task_reads_back_field_by_field(
    snapshot: GoSnapshot, aio_redis: aioredis.Redis, raw_redis: redis.Redis
) -> None:
    snapshot.load(raw_redis)
    inspector = Inspector(aio_redis, ManualClock(snapshot.taken_at))

    for queue, task_id, record in task_records(snapshot):
        task = await inspector.get_task_info(queue, task_id)
        assert_matches(snapshot, task, record)

        group = record.get("group", "")
        listed = await inspector.list_tasks(queue, task.state, group=group, page_size=100)
        same = [t for t in listed if t.id == task_id]
        if in_group_or_container(snapshot, queue, task, group):
            assert same == [task] or task.state is TaskState.ACTIVE
        else:
            assert same == [], "a task staged for aggregation is not listed in its group"


def in_group_or_container(snapshot: GoSnapshot, queue: str, task: TaskInfo, group: str) -> bool:
    name = f"asynq:{{{queue}}}:g:{group}" if group else f"asynq:{{{queue}}}:{task.state.value}"
    values = snapshot.keys.get(name, {"value": []})["value"]
    members = [v["member"] if isinstance(v, dict) else v for v in values]
    return task.id in [snapshot.real(m) for m in members]


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=[s.name for s in SNAPSHOTS])
async def test_queue_counts_match_the_go_written_containers(
    snapshot: GoSnapshot, aio_redis: aioredis.Redis, raw_redis: redis.Redis
) -> None:
    snapshot.load(raw_redis)
    inspector = Inspector(aio_redis, ManualClock(snapshot.taken_at))

    for queue in await inspector.queues():
        info = await inspector.queue_info(queue)
        for state in ("pending", "active", "scheduled", "retry", "archived", "completed"):
            container = snapshot.keys.get(f"asynq:{{{queue}}}:{state}")
            assert info.count(TaskState(state)) == (len(container["value"]) if container else 0)
        counter = snapshot.keys.get(f"asynq:{{{queue}}}:processed")
        assert info.processed_total == (int(counter["value"]) if counter else 0)


@pytest.mark.parametrize(
    "snapshot",
    [s for s in SNAPSHOTS if "asynq:servers" in s.keys or "asynq:schedulers" in s.keys],
    ids=lambda s: s.name,
)
async def test_go_heartbeats_list_servers_workers_and_scheduler_entries(
    snapshot: GoSnapshot, aio_redis: aioredis.Redis, raw_redis: redis.Redis
) -> None:
    snapshot.load(raw_redis)
    inspector = Inspector(aio_redis, ManualClock(snapshot.taken_at))

    servers = await inspector.servers()
    entries = await inspector.scheduler_entries()

    for name, entry in snapshot.keys.items():
        if name.startswith("asynq:servers:{"):
            decoded = entry["value"]["decoded"]
            [server] = [s for s in servers if s.id == snapshot.real(decoded["server_id"])]
            assert server.concurrency == decoded["concurrency"]
            assert dict(server.queues) == decoded["queues"]
            workers_key = name.replace("asynq:servers:", "asynq:workers:")
            workers = snapshot.keys.get(workers_key, {"value": {}})["value"]
            assert sorted(w.task_id for w in server.active_workers) == sorted(
                snapshot.real(task_id) for task_id in workers
            )
        if name.startswith("asynq:schedulers:{"):
            for blob in entry["value"]:
                decoded = blob["decoded"]
                [listed] = [e for e in entries if e.id == snapshot.real(decoded["id"])]
                assert (listed.spec, listed.task_type) == (decoded["spec"], decoded["task_type"])
                assert list(listed.options) == decoded["enqueue_options"]
                assert (listed.prev_enqueue is None) == (
                    decoded["prev_enqueue_time"]["seconds"] == -62_135_596_800
                )
