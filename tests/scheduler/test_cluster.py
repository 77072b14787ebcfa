"""The scheduler's scripts on a Redis Cluster: every key of a call lives in one slot."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio.cluster import RedisCluster

from asyncq.devserver import RedisClusterProcesses
from asyncq.proto import SchedulerEntry, TaskMessage
from asyncq.redis import keys
from asyncq.redis.schedule_store import FireMode, FireRequest, FireResult, ScheduleStore


def cluster_port() -> int:
    """A free port low enough that its cluster bus port (+10000) is valid."""
    while True:
        port = random.randint(20_000, 55_000)
        with socket.socket() as probe, socket.socket() as bus:
            try:
                probe.bind(("127.0.0.1", port))
                bus.bind(("127.0.0.1", port + 10_000))
            except OSError:
                continue
        return port


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterProcesses]:
    processes = RedisClusterProcesses(masters=3)
    for node in processes.nodes:
        node.port = cluster_port()
    processes.start()
    yield processes
    processes.stop()


@pytest.fixture
async def cluster_client(cluster: RedisClusterProcesses) -> AsyncIterator[RedisCluster]:
    host, port = cluster.startup_nodes[0]
    client = RedisCluster(host=host, port=port)
    await client.initialize()
    yield client
    await client.aclose()


@pytest.mark.parametrize("queue", ["default", "critical", "reports"])
async def test_firing_a_tick_runs_in_the_queues_slot_and_is_still_once(
    cluster_client: RedisCluster, queue: str
) -> None:
    store = ScheduleStore(cluster_client)  # type: ignore[arg-type]
    tick = int(time.time())
    lock = keys.unique_key(queue, "cron:tick", None)
    msg = TaskMessage(type="cron:tick", id=f"{queue}-{tick}", queue=queue, unique_key=lock)
    request = FireRequest(f"entry-{queue}", tick, msg, unique_ttl=30)

    first = await store.fire(request, FireMode.FIRE, 60)
    again = await store.fire(request, FireMode.FIRE, 60)
    await store.publish_queue(queue)

    assert (first.result, again.result) == (FireResult.ENQUEUED, FireResult.ALREADY_HANDLED)
    assert await cluster_client.lrange(keys.pending_key(queue), 0, -1) == [msg.id.encode()]
    assert await cluster_client.get(lock) == msg.id.encode()
    assert queue.encode() in await cluster_client.smembers(keys.ALL_QUEUES)


async def test_entries_history_and_lease_work_on_a_cluster(cluster_client: RedisCluster) -> None:
    store = ScheduleStore(cluster_client)  # type: ignore[arg-type]

    assert await store.hold_publisher_lease("host:1:a", 5)
    await store.write_entries("host:1:a", [SchedulerEntry(id="e1")], ttl=20, now=time.time())
    await store.record_event("e1", "task-1", time.time())
    await store.beat("host:1:a", 10, time.time())

    assert await cluster_client.llen(keys.scheduler_entries_key("host:1:a")) == 1
    assert await cluster_client.zcard(keys.scheduler_history_key("e1")) == 1
    assert await store.leave("host:1:a", time.time()) == 0
    await store.clear_entries("host:1:a")
    await store.clear_history(["e1"])
    await store.release_publisher_lease("host:1:a")
    assert await cluster_client.exists(keys.scheduler_history_key("e1")) == 0
