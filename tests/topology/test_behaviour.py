"""The behaviour suite, run against a single Redis and against a three-master Redis Cluster.

Every test takes ``topology_url`` and so runs twice; what a user sees must not depend on
the deployment.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from worker.helpers import wait_for

from asyncq.client import Client
from asyncq.context import ActiveTask
from asyncq.errors import DuplicateTaskError, SkipRetry, TaskNotFoundError
from asyncq.inspector import Inspector
from asyncq.redis import keys
from asyncq.redis.broker import BrokerSettings, RedisBroker
from asyncq.redis.connection import connect
from asyncq.scheduler import Scheduler, SchedulerConfig
from asyncq.task import Task, TaskOptions, TaskState

from .helpers import keys_by_node, running_server, text


@pytest.fixture
async def client(topology_url: str) -> AsyncIterator[Client]:
    made = Client.from_url(topology_url)
    yield made
    await made.close()


@pytest.fixture
async def inspector(topology_url: str) -> AsyncIterator[Inspector]:
    made = Inspector.from_url(topology_url)
    yield made
    await made.close()


async def test_every_enqueue_form_stores_its_tasks_and_keeps_a_queue_in_one_slot(
    client: Client, inspector: Inspector, topology_url: str
) -> None:
    await client.enqueue(Task("plain"), queue="mail")
    await client.enqueue(Task("unique", b"1"), queue="mail", unique=60)
    await client.enqueue(Task("later"), queue="mail", process_in=3600)
    await client.enqueue(Task("grouped"), queue="reports", group="daily")
    batch = [Task("batch", bytes([i])) for i in range(3)]
    await client.enqueue_many(batch, queue="bulk")

    with pytest.raises(DuplicateTaskError):
        await client.enqueue(Task("unique", b"1"), queue="mail", unique=60)
    assert sorted(await inspector.queues()) == ["bulk", "mail", "reports"]
    assert len(await inspector.list_tasks("mail", TaskState.PENDING)) == 2
    assert [t.type for t in await inspector.list_tasks("mail", TaskState.SCHEDULED)] == ["later"]
    grouped = await inspector.list_tasks("reports", TaskState.AGGREGATING, group="daily")
    assert [t.type for t in grouped] == ["grouped"]
    assert (await inspector.queue_info("bulk")).pending == 3

    redis = connect(topology_url)
    stored = await keys_by_node(redis)
    await redis.aclose()
    for queue in ("mail", "reports", "bulk"):
        queue_keys = {k for node in stored.values() for k in node if f"{{{queue}}}" in k}
        holders = [node for node, node_keys in stored.items() if queue_keys & node_keys]
        assert len(queue_keys) >= 2
        assert len({key_slot(k.encode()) for k in queue_keys}) == 1
        assert len(holders) == 1


async def test_a_worker_takes_tasks_to_success_retry_and_archive(
    client: Client, inspector: Inspector, topology_url: str
) -> None:
    attempts: list[tuple[str, int]] = []

    async def handler(task: ActiveTask) -> None:
        attempts.append((task.type, task.retry_count))
        if task.type == "flaky" and task.retry_count == 0:
            raise RuntimeError("first attempt fails")
        if task.type == "broken":
            raise SkipRetry("cannot be done")

    async with running_server(topology_url, handler, queues={"a": 1, "b": 1}):
        await client.enqueue(Task("fine"), queue="a")
        await client.enqueue(Task("flaky"), queue="b")
        await client.enqueue(Task("broken"), queue="a")
        await wait_for(lambda: len(attempts) == 4)
        await wait_for(lambda: _archived_count(inspector, "a", 1))

    assert sorted(attempts) == [("broken", 0), ("fine", 0), ("flaky", 0), ("flaky", 1)]
    archived = await inspector.list_tasks("a", TaskState.ARCHIVED)
    assert [(t.type, t.last_err) for t in archived] == [("broken", "SkipRetry: cannot be done")]
    b = await inspector.queue_info("b")
    assert (b.size, b.processed_total, b.failed_total) == (0, 2, 1)


async def _archived_count(inspector: Inspector, queue: str, count: int) -> bool:
    return (await inspector.queue_info(queue)).archived == count


async def test_a_scheduled_task_is_forwarded_and_run_when_due(
    client: Client, topology_url: str
) -> None:
    ran: list[str] = []

    async def handler(task: ActiveTask) -> None:
        ran.append(task.id)

    async with running_server(topology_url, handler):
        info = await client.enqueue(Task("later"), process_in=2)
        await asyncio.sleep(0.5)
        assert ran == []
        await wait_for(lambda: ran == [info.id])


async def test_a_task_whose_lease_expired_is_recovered_and_run_again(
    client: Client, topology_url: str
) -> None:
    dead_worker = RedisBroker.from_url(topology_url, BrokerSettings(lease_duration=1))
    info = await client.enqueue(Task("orphan"))
    assert [d.message.id for d in await dead_worker.dequeue(["default"], 1)] == [info.id]
    await dead_worker.close()
    seen: list[int] = []

    async def handler(task: ActiveTask) -> None:
        seen.append(task.retry_count)

    async with running_server(topology_url, handler, recoverer_cutoff=0.1):
        await wait_for(lambda: seen == [1])


async def test_a_paused_queue_starts_nothing_but_still_takes_tasks(
    client: Client, inspector: Inspector, topology_url: str
) -> None:
    ran: list[str] = []

    async def handler(task: ActiveTask) -> None:
        ran.append(task.id)

    await client.enqueue(Task("first"))
    await inspector.pause_queue("default")
    async with running_server(topology_url, handler):
        info = await client.enqueue(Task("while paused"))
        await asyncio.sleep(0.5)
        assert ran == []
        assert (await inspector.queue_info("default")).pending == 2

        await inspector.unpause_queue("default")
        await wait_for(lambda: len(ran) == 2)
    assert info.id in ran


async def test_a_cancel_published_on_asynq_cancel_stops_the_running_task(
    client: Client, inspector: Inspector, topology_url: str
) -> None:
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(30)

    async with running_server(topology_url, handler):
        info = await client.enqueue(Task("long"), max_retry=0)
        await asyncio.wait_for(started.wait(), 10)
        redis = connect(topology_url)
        await wait_for(lambda: _cancelled(redis, inspector, info.id))
        await redis.aclose()

    archived = await inspector.get_task_info("default", info.id)
    assert (archived.state, archived.last_err) == (TaskState.ARCHIVED, "context canceled")


async def _cancelled(redis: object, inspector: Inspector, task_id: str) -> bool:
    await redis.publish(keys.CANCEL_CHANNEL, task_id)  # type: ignore[attr-defined]
    await asyncio.sleep(0.1)
    return (await inspector.queue_info("default")).archived == 1


async def test_the_inspector_lists_runs_and_deletes_tasks(
    client: Client, inspector: Inspector
) -> None:
    run_me = await client.enqueue(Task("run me"), queue="ops", process_in=3600)
    drop_me = await client.enqueue(Task("drop me"), queue="ops", process_in=3600)

    assert await inspector.queues() == ["ops"]
    listed = await inspector.list_tasks("ops", TaskState.SCHEDULED)
    assert sorted(t.id for t in listed) == sorted([run_me.id, drop_me.id])
    await inspector.run_task("ops", run_me.id)
    await inspector.delete_task("ops", drop_me.id)

    assert [t.id for t in await inspector.list_tasks("ops", TaskState.PENDING)] == [run_me.id]
    assert await inspector.list_tasks("ops", TaskState.SCHEDULED) == []
    with pytest.raises(TaskNotFoundError):
        await inspector.get_task_info("ops", drop_me.id)


async def test_two_schedulers_fire_each_tick_once(topology_url: str) -> None:
    schedulers = [Scheduler(topology_url, SchedulerConfig(heartbeat_interval=1)) for _ in "ab"]
    for scheduler in schedulers:
        scheduler.register("@every 1s", Task("cron:tick"))
        await scheduler.start()
    await asyncio.sleep(2.6)
    for scheduler in schedulers:
        await scheduler.shutdown()

    redis = connect(topology_url)
    task_ids = await redis.lrange(keys.pending_key("default"), 0, -1)
    seconds = [
        int(text(await redis.hget(keys.task_key("default", text(t)), "pending_since"))) // 10**9
        for t in task_ids
    ]
    await redis.aclose()
    assert 2 <= len(seconds) <= 3
    assert len(set(seconds)) == len(seconds)


async def test_a_running_server_is_listed_with_its_queues(
    inspector: Inspector, topology_url: str
) -> None:
    async def handler(task: ActiveTask) -> None:
        pass

    async with running_server(topology_url, handler, queues={"a": 2, "b": 1}) as server:
        await wait_for(lambda: _listed(inspector, server.server_id))
        [listed] = await inspector.servers()

    assert dict(listed.queues) == {"a": 2, "b": 1}
    assert listed.status == "active"


async def _listed(inspector: Inspector, server_id: str) -> bool:
    return [s.id for s in await inspector.servers()] == [server_id]


async def test_the_inspector_names_the_slot_and_node_of_a_queue_on_a_cluster(
    cluster_url: str,
) -> None:
    inspector = Inspector.from_url(cluster_url)
    slot = await inspector.cluster_key_slot("mail")
    nodes = await inspector.cluster_nodes("mail")
    await inspector.close()

    client = connect(cluster_url)
    assert isinstance(client, RedisCluster)
    await client.initialize()
    owner = client.get_node_from_key(keys.pending_key("mail"))
    await client.aclose()
    assert slot == key_slot(b"asynq:{mail}:pending")
    assert [node.address for node in nodes] == [f"{owner.host}:{owner.port}"]
    assert len(nodes[0].id) == 40


async def test_concurrent_and_batched_enqueues_share_pipelines_even_after_a_script_flush(
    client: Client, inspector: Inspector, topology_url: str
) -> None:
    queues = [f"q{i}" for i in range(6)]
    redis = connect(topology_url)
    await client.enqueue(Task("warm-up"), queue="q0")
    await redis.script_flush()

    await asyncio.gather(*(client.enqueue(Task("one"), queue=q) for q in queues for _ in "ab"))
    spread = [Task("many", options=TaskOptions(queue=queues[i % 6])) for i in range(30)]
    outcome = await client.enqueue_many(spread)
    await redis.aclose()

    assert all(not isinstance(result, Exception) for result in outcome)
    sizes = {q: (await inspector.queue_info(q)).pending for q in queues}
    assert sizes == {"q0": 8, "q1": 7, "q2": 7, "q3": 7, "q4": 7, "q5": 7}
    assert sorted(await inspector.queues()) == queues


async def test_a_scheduler_borrows_a_cluster_client_and_leaves_it_open(cluster_url: str) -> None:
    client = connect(cluster_url)
    await client.flushall(target_nodes=RedisCluster.PRIMARIES)
    scheduler = Scheduler(client, SchedulerConfig(heartbeat_interval=1))
    scheduler.register("@every 1s", Task("cron:tick"), queue="cron")

    await scheduler.start()
    await wait_for(lambda: _pending(client, "cron"), timeout=5)
    await scheduler.shutdown()

    assert await client.ping()
    await client.aclose()


async def _pending(client: object, queue: str) -> bool:
    return bool(await client.llen(keys.pending_key(queue)))  # type: ignore[attr-defined]
