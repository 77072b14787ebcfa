"""Servers, their workers and scheduler entries as the inspector reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import redis.asyncio as aioredis
from google.protobuf.timestamp_pb2 import Timestamp

from asyncq.clock import ManualClock
from asyncq.inspector import Inspector
from asyncq.proto import SchedulerEnqueueEvent, SchedulerEntry, ServerInfo, WorkerInfo
from asyncq.redis import keys

GO_ZERO = Timestamp(seconds=-62_135_596_800)


def stamp(unix: int) -> Timestamp:
    return Timestamp(seconds=unix)


async def put_server(client: aioredis.Redis, server_id: str, expires: int, tasks: int) -> None:
    """A heartbeat as a Go server writes it, running ``tasks`` tasks."""
    server_key = keys.server_info_key("vm", 7, server_id)
    workers_key = keys.workers_key("vm", 7, server_id)
    info = ServerInfo(
        host="vm", pid=7, server_id=server_id, concurrency=4, queues={"default": 1},
        status="active", start_time=stamp(expires - 100), active_worker_count=tasks,
    )  # fmt: skip
    await client.zadd(keys.ALL_SERVERS, {server_key: expires})
    await client.zadd(keys.ALL_WORKERS, {workers_key: expires})
    await client.set(server_key, info.SerializeToString())
    for i in range(tasks):
        worker = WorkerInfo(
            host="vm", pid=7, server_id=server_id, task_id=f"{server_id}-t{i}",
            task_type="email:send", queue="default", start_time=stamp(expires - 50 + i),
            deadline=stamp(expires + 1800),
        )  # fmt: skip
        await client.hset(workers_key, worker.task_id, worker.SerializeToString())


async def test_live_servers_are_listed_with_their_running_tasks(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    now = int(clock.now())
    await put_server(aio_redis, "alive", expires=now + 10, tasks=2)
    await put_server(aio_redis, "dead", expires=now - 5, tasks=1)

    servers = await inspector.servers()

    assert [s.id for s in servers] == ["alive"]
    alive = servers[0]
    assert (alive.host, alive.pid, alive.concurrency, alive.status) == ("vm", 7, 4, "active")
    assert dict(alive.queues) == {"default": 1}
    assert [w.task_id for w in alive.active_workers] == ["alive-t0", "alive-t1"]
    assert alive.active_workers[0].started == datetime.fromtimestamp(now - 40, UTC)
    assert await aio_redis.zcard(keys.ALL_SERVERS) == 1


async def test_scheduler_entries_parse_go_options_and_a_go_zero_prev_time(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    now = int(clock.now())
    entries_key = keys.scheduler_entries_key("vm:9:sched")
    entry = SchedulerEntry(
        id="entry-1", spec="@every 30s", task_type="report", task_payload=b"{}",
        enqueue_options=['Queue("critical")', "MaxRetry(3)", 'TaskID("x")', "Bogus(1)"],
        next_enqueue_time=stamp(now + 30), prev_enqueue_time=GO_ZERO,
    )  # fmt: skip
    await aio_redis.zadd(keys.ALL_SCHEDULERS, {entries_key: now + 20})
    await aio_redis.lpush(entries_key, entry.SerializeToString())

    [listed] = await inspector.scheduler_entries()

    assert (listed.id, listed.spec, listed.task_type) == ("entry-1", "@every 30s", "report")
    assert listed.prev_enqueue is None
    assert listed.next_enqueue == datetime.fromtimestamp(now + 30, UTC)
    assert listed.options[:2] == ('Queue("critical")', "MaxRetry(3)")
    assert (listed.task_options.queue, listed.task_options.max_retry) == ("critical", 3)


async def test_enqueue_events_are_paged_newest_first(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    now = int(clock.now())
    history = keys.scheduler_history_key("entry-1")
    for i in range(5):
        event = SchedulerEnqueueEvent(task_id=f"t{i}", enqueue_time=stamp(now + i))
        await aio_redis.zadd(history, {event.SerializeToString(): now + i})

    first = await inspector.list_scheduler_enqueue_events("entry-1", page_size=2)
    last = await inspector.list_scheduler_enqueue_events("entry-1", page=3, page_size=2)

    assert [e.task_id for e in first] == ["t4", "t3"]
    assert [(e.task_id, e.enqueued_at) for e in last] == [("t0", datetime.fromtimestamp(now, UTC))]
