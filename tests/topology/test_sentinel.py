"""A worker behind Sentinel keeps processing through a forced failover, losing no task."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis
from worker.helpers import wait_for

from asyncq.client import Client
from asyncq.context import ActiveTask
from asyncq.devserver import RedisSentinelProcesses
from asyncq.inspector import Inspector
from asyncq.task import Task

from .helpers import running_server


@pytest.fixture
def sentinels() -> Iterator[RedisSentinelProcesses]:
    processes = RedisSentinelProcesses().start()
    yield processes
    processes.stop()


def sentinel_url(processes: RedisSentinelProcesses) -> str:
    hosts = ",".join(f"{host}:{port}" for host, port in processes.sentinel_addresses)
    return f"redis-sentinel://{hosts}/0?master={processes.master_name}"


def force_failover(processes: RedisSentinelProcesses, timeout: float = 20.0) -> None:
    """SENTINEL FAILOVER, repeated until the sentinel knows the replica; then wait for it."""
    sentinel = redis.Redis(port=processes.sentinels[0].port)
    give_up = time.monotonic() + timeout
    while True:
        try:
            sentinel.sentinel_failover(processes.master_name)
            break
        except redis.ResponseError:
            if time.monotonic() > give_up:
                raise
            time.sleep(0.2)
    while _master_port(sentinel, processes.master_name) != processes.replica.port:
        if time.monotonic() > give_up:
            raise AssertionError("the sentinels did not promote the replica")
        time.sleep(0.1)
    sentinel.close()


def _master_port(sentinel: redis.Redis, name: str) -> int:
    host_port = sentinel.sentinel_get_master_addr_by_name(name)
    assert isinstance(host_port, tuple)
    return int(host_port[1])


def replicated(processes: RedisSentinelProcesses) -> None:
    """Wait until the queue is drained and the replica has every write (WAIT counts from this
    connection's last write, hence the marker). Redis replicates asynchronously, so a write
    the replica has not received when it is promoted is lost, and a task finished just
    before the failover would run again (asyncq delivers at least once)."""
    master = redis.Redis(port=processes.master.port)
    give_up = time.monotonic() + 10
    while master.llen("asynq:{default}:active") or master.llen("asynq:{default}:pending"):
        assert time.monotonic() < give_up, "the worker did not finish the tasks"
        time.sleep(0.05)
    master.set("test:replication-marker", 1)
    assert master.wait(1, 5000) == 1
    master.close()


async def test_a_worker_keeps_processing_through_a_forced_failover(
    sentinels: RedisSentinelProcesses,
) -> None:
    url = sentinel_url(sentinels)
    done: set[str] = set()

    async def handler(task: ActiveTask) -> None:
        await asyncio.sleep(0.02)
        done.add(task.id)

    client = Client.from_url(url)
    async with running_server(url, handler, concurrency=2):
        before = [(await client.enqueue(Task("before"))).id for _ in range(20)]
        await wait_for(lambda: done >= set(before))
        await asyncio.to_thread(replicated, sentinels)
        await asyncio.to_thread(force_failover, sentinels)
        after = [(await client.enqueue(Task("after"))).id for _ in range(20)]
        await wait_for(lambda: done >= {*before, *after}, timeout=20)

    inspector = Inspector.from_url(url)
    info = await inspector.queue_info("default")
    await inspector.close()
    await client.close()
    assert (info.pending, info.active, info.retry, info.archived) == (0, 0, 0, 0)
