"""Group aggregation: when a group is ready, what one aggregated task holds, and crashes.

Most tests drive the aggregator's check by hand on a broker with a manual clock, so the
grace period and the maximum delay are crossed without sleeping. The crash test runs this
file as a worker process (see ``main`` at the bottom) and kills it mid-aggregation.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from asyncq.client import Client, prepare
from asyncq.clock import ManualClock
from asyncq.context import ActiveTask
from asyncq.errors import ConfigError
from asyncq.redis.broker import RedisBroker
from asyncq.server import Server, ServerConfig
from asyncq.task import Task, TaskOptions
from asyncq.worker.aggregator import (
    Aggregator,
    AggregatorParams,
    GroupAggregator,
    UnservedGroupsWatch,
    UnservedGroupsWatchParams,
)
from asyncq.worker.outcomes import OutcomeParams, Outcomes
from asyncq.worker.policy import default_retry_delay
from asyncq.worker.recoverer import Recoverer, RecovererParams
from asyncq.worker.syncer import Syncer, SyncerParams
from worker.helpers import counter, running_server, stored_message, task_hash, wait_for

T0 = 1_800_000_000.0


def joined(group: str, tasks: list[Task]) -> Task:
    """The aggregator of the tests: payloads joined by newlines into one task."""
    return Task(f"digest:{group}", b"\n".join(t.payload or b"" for t in tasks))


async def failing(group: str, tasks: list[Task]) -> Task:
    raise RuntimeError("the digest service is down")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def timed_broker(
    aio_redis: aioredis.Redis, redis_url: str, clock: ManualClock
) -> AsyncIterator[RedisBroker]:
    """A broker on a flushed Redis whose time moves only when the test moves it."""
    made = RedisBroker.from_url(redis_url, clock=clock)
    yield made
    await made.close()


def aggregator(
    broker: RedisBroker,
    aggregate: GroupAggregator = joined,
    queues: tuple[str, ...] = ("default",),
    **settings: Any,
) -> Aggregator:
    return Aggregator(AggregatorParams(broker, queues, aggregate, **settings))


async def add(client: Client, payload: bytes, group: str = "g", **options: object) -> str:
    info = await client.enqueue(Task("notify", payload), group=group, **options)
    return info.id


async def pending_messages(redis: aioredis.Redis, queue: str = "default") -> list[Task]:
    """The pending tasks of ``queue``, oldest first, as (type, payload) tasks."""
    ids = reversed(await members(redis, f"asynq:{{{queue}}}:pending"))
    msgs = [await stored_message(redis, queue, task_id) for task_id in ids]
    return [Task(msg.type, msg.payload) for msg in msgs]


async def members(redis: aioredis.Redis, key: str) -> list[str]:
    """The members of a list (left to right) or a sorted set (by score), as text."""
    is_list = await redis.type(key) == b"list"
    found: Any = await (redis.lrange(key, 0, -1) if is_list else redis.zrange(key, 0, -1))
    return [member.decode() for member in found]


async def group_keys(redis: aioredis.Redis, queue: str = "default") -> list[str]:
    """Every group, aggregation-set and groups key of ``queue``."""
    found: list[Any] = await redis.keys(f"asynq:{{{queue}}}:g:*")
    for key in (f"asynq:{{{queue}}}:groups", f"asynq:{{{queue}}}:aggregation_sets"):
        if await redis.exists(key):
            found.append(key.encode())
    return sorted(k.decode() for k in found)


async def has_pending(redis: aioredis.Redis, count: int) -> bool:
    return await redis.llen("asynq:{default}:pending") == count


async def processed(redis: aioredis.Redis) -> bool:
    return await counter(redis, "asynq:{default}:processed") > 0


# --- when a group is ready ------------------------------------------------------------------


async def test_three_tasks_of_a_full_group_become_one_task_with_all_payloads_in_order(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    client = Client(timed_broker)
    ids = []
    for payload in (b"m1", b"m2", b"m3"):
        ids.append(await add(client, payload))
        clock.advance(1)

    await aggregator(timed_broker, grace_period=1, max_size=3).check()

    assert await pending_messages(aio_redis) == [Task("digest:g", b"m1\nm2\nm3")]
    assert await group_keys(aio_redis) == []
    for task_id in ids:
        assert await task_hash(aio_redis, "default", task_id) == {}


async def test_a_group_is_aggregated_once_no_task_joined_it_for_the_grace_period(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    client = Client(timed_broker)
    check = aggregator(timed_broker, grace_period=5).check
    await add(client, b"a")
    clock.advance(3)
    await add(client, b"b")

    clock.advance(4)
    await check()
    assert await aio_redis.zcard("asynq:{default}:g:g") == 2

    clock.advance(1)
    await check()
    assert await pending_messages(aio_redis) == [Task("digest:g", b"a\nb")]


async def test_max_delay_aggregates_a_group_that_never_goes_quiet(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    client = Client(timed_broker)
    check = aggregator(timed_broker, grace_period=5, max_delay=10).check
    for payload in (b"a", b"b", b"c"):
        await add(client, payload)
        clock.advance(3)
        await check()
    await add(client, b"d")
    assert await aio_redis.zcard("asynq:{default}:g:g") == 4

    clock.advance(1)
    await check()
    assert await pending_messages(aio_redis) == [Task("digest:g", b"a\nb\nc\nd")]


async def test_max_size_takes_the_oldest_tasks_and_leaves_the_rest_in_the_group(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    client = Client(timed_broker)
    for payload in (b"1", b"2", b"3", b"4"):
        await add(client, payload)
        clock.advance(1)

    await aggregator(timed_broker, grace_period=60, max_size=3).check()

    assert await pending_messages(aio_redis) == [Task("digest:g", b"1\n2\n3")]
    assert await aio_redis.zcard("asynq:{default}:g:g") == 1
    assert await aio_redis.smembers("asynq:{default}:groups") == {b"g"}


async def test_the_aggregated_task_lands_in_the_groups_queue_whatever_queue_it_names(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    client = Client(timed_broker)
    await add(client, b"x", queue="batch")

    def to_elsewhere(group: str, tasks: list[Task]) -> Task:
        return Task("digest", b"x", options=TaskOptions(queue="elsewhere", max_retry=2))

    await aggregator(timed_broker, to_elsewhere, ("batch",), grace_period=1, max_size=1).check()

    [task_id] = await members(aio_redis, "asynq:{batch}:pending")
    msg = await stored_message(aio_redis, "batch", task_id)
    assert (msg.queue, msg.retry, msg.group_key) == ("batch", 2, "")
    assert await aio_redis.exists("asynq:{elsewhere}:pending") == 0


async def test_an_aggregated_task_due_later_is_scheduled(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    client = Client(timed_broker)
    await add(client, b"x")

    async def later(group: str, tasks: list[Task]) -> Task:
        return Task("digest", b"x", options=TaskOptions(process_in=60))

    await aggregator(timed_broker, later, grace_period=1, max_size=1).check()

    [task_id] = await members(aio_redis, "asynq:{default}:scheduled")
    assert await aio_redis.zscore("asynq:{default}:scheduled", task_id) == T0 + 60
    assert (await task_hash(aio_redis, "default", task_id))[b"state"] == b"scheduled"
    assert await aio_redis.llen("asynq:{default}:pending") == 0


# --- grouped tasks that wait elsewhere first --------------------------------------------------


async def test_a_scheduled_grouped_task_returns_to_its_group_when_due(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    client = Client(timed_broker)
    task_id = await add(client, b"later", process_in=30)
    assert (await task_hash(aio_redis, "default", task_id))[b"group"] == b"g"

    clock.advance(31)
    await timed_broker.forward_if_ready(["default"])

    assert await aio_redis.zscore("asynq:{default}:g:g", task_id) == int(T0 + 31)
    assert await aio_redis.smembers("asynq:{default}:groups") == {b"g"}
    assert (await task_hash(aio_redis, "default", task_id))[b"state"] == b"aggregating"
    clock.advance(1)
    await aggregator(timed_broker, grace_period=1).check()
    assert await pending_messages(aio_redis) == [Task("digest:g", b"later")]


# --- failures: the tasks are never lost and never aggregated twice ----------------------------


async def test_a_failing_aggregator_leaves_the_set_for_the_recoverer_and_names_the_group(
    timed_broker: RedisBroker,
    aio_redis: aioredis.Redis,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(timed_broker)
    ids = {await add(client, payload) for payload in (b"a", b"b")}
    clock.advance(2)

    with caplog.at_level(logging.WARNING, logger="asyncq.aggregator"):
        await aggregator(timed_broker, failing, grace_period=1).check()

    [warning] = [r for r in caplog.records if r.name == "asyncq.aggregator"]
    assert "group=g" in warning.getMessage()
    assert "the digest service is down" in warning.getMessage()
    [set_key] = await members(aio_redis, "asynq:{default}:aggregation_sets")
    assert set(await members(aio_redis, set_key)) == ids
    assert await aio_redis.exists("asynq:{default}:g:g", "asynq:{default}:groups") == 0


async def test_the_recoverer_returns_a_stale_set_to_its_group_and_lists_the_group_again(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    client = Client(timed_broker)
    ids = set()
    for payload in (b"a", b"b"):
        ids.add(await add(client, payload))
        clock.advance(2)
    await aggregator(timed_broker, failing, grace_period=1).check()

    clock.advance(121)
    await recoverer(timed_broker).step()

    assert set(await members(aio_redis, "asynq:{default}:g:g")) == ids
    assert await aio_redis.smembers("asynq:{default}:groups") == {b"g"}
    assert await aio_redis.zcard("asynq:{default}:aggregation_sets") == 0
    await aggregator(timed_broker, grace_period=1).check()
    assert await pending_messages(aio_redis) == [Task("digest:g", b"a\nb")]


async def test_a_set_reclaimed_before_its_task_is_stored_stores_nothing(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    client = Client(timed_broker)
    await add(client, b"a")
    clock.advance(2)
    set_id = await timed_broker.aggregation_check("default", "g", 1, 0, 0)
    assert set_id is not None

    clock.advance(121)
    await timed_broker.reclaim_stale_aggregation_sets("default")
    late = prepare(Task("digest", b"late"), TaskOptions(task_id="late-id"), clock.now()).msg
    committed = await timed_broker.commit_aggregation(late, "g", set_id)

    assert committed is False
    assert await aio_redis.exists("asynq:{default}:t:late-id") == 0
    assert await aio_redis.llen("asynq:{default}:pending") == 0
    assert await aio_redis.zcard("asynq:{default}:g:g") == 1


async def test_a_taken_task_id_keeps_the_set_and_stores_nothing(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    client = Client(timed_broker)
    await client.enqueue(Task("other"), task_id="taken")
    await add(client, b"a")
    clock.advance(2)

    def with_taken_id(group: str, tasks: list[Task]) -> Task:
        return Task("digest", b"", options=TaskOptions(task_id="taken"))

    await aggregator(timed_broker, with_taken_id, grace_period=1).check()

    assert await members(aio_redis, "asynq:{default}:pending") == ["taken"]
    assert await aio_redis.zcard("asynq:{default}:aggregation_sets") == 1


async def test_group_members_whose_task_is_gone_are_dropped_without_calling_the_aggregator(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    task_id = await add(Client(timed_broker), b"a")
    await aio_redis.delete(f"asynq:{{default}}:t:{task_id}")
    clock.advance(2)

    await aggregator(timed_broker, failing, grace_period=1).check()

    assert await group_keys(aio_redis) == []
    assert await aio_redis.llen("asynq:{default}:pending") == 0


async def test_a_killed_worker_leaves_a_set_that_a_new_worker_aggregates_exactly_once(
    aio_redis: aioredis.Redis, redis_url: str, tmp_path: Path
) -> None:
    marker = tmp_path / "aggregating"
    async with Client.from_url(redis_url) as client:
        for payload in (b"m1", b"m2", b"m3"):
            await add(client, payload)
    worker = subprocess.Popen(
        [sys.executable, __file__, redis_url, str(marker)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        await wait_for(marker.exists, timeout=20)
        [set_key] = await members(aio_redis, "asynq:{default}:aggregation_sets")
        assert await aio_redis.zcard(set_key) == 3
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()

    handled: list[Task] = []

    async def handler(task: ActiveTask) -> None:
        handled.append(Task(task.type, task.payload))

    broker = RedisBroker.from_url(redis_url, clock=AheadClock(200))
    settings = {"group_aggregator": joined, "group_grace_period": 1, "group_max_size": 3}
    async with running_server(broker, handler, **settings):
        await wait_for(lambda: processed(aio_redis), timeout=20)
    await broker.close()

    [digest] = handled  # tasks added within one second are ordered by ID, as in asynq
    assert digest.type == "digest:g"
    assert sorted((digest.payload or b"").split(b"\n")) == [b"m1", b"m2", b"m3"]
    assert await group_keys(aio_redis) == []
    assert await aio_redis.keys("asynq:{default}:t:*") == []


async def test_at_most_three_checks_run_at_once_and_no_group_is_aggregated_twice(
    timed_broker: RedisBroker,
    aio_redis: aioredis.Redis,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(timed_broker)
    for group in ("a", "b", "c", "d"):
        await add(client, group.encode(), group=group)
    clock.advance(2)
    release = asyncio.Event()
    started: list[str] = []

    async def slow(group: str, tasks: list[Task]) -> Task:
        started.append(group)
        await release.wait()
        return joined(group, tasks)

    component = aggregator(timed_broker, slow, grace_period=1)
    with caplog.at_level(logging.DEBUG, logger="asyncq.aggregator"):
        for running in (1, 2, 3):
            await component.step()
            await wait_for(lambda: len(started) == running)  # noqa: B023
        await component.step()

    assert started == ["a", "b", "c"]
    assert "Skipped an aggregation check: 3 checks are still running." in caplog.messages
    release.set()
    await wait_for(lambda: has_pending(aio_redis, 4))
    payloads = sorted(t.payload for t in await pending_messages(aio_redis))
    assert payloads == [b"a", b"b", b"c", b"d"]
    await component.shutdown()


async def test_shutdown_abandons_a_hung_check_and_leaves_its_set_for_the_recoverer(
    timed_broker: RedisBroker, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    await add(Client(timed_broker), b"a")
    clock.advance(2)
    started = asyncio.Event()

    async def hanging(group: str, tasks: list[Task]) -> Task:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("never returns")

    component = aggregator(
        timed_broker, hanging, grace_period=1, interval=0.05, shutdown_timeout=0.1
    )
    component.start()
    await asyncio.wait_for(started.wait(), 5)
    await component.shutdown()

    assert await aio_redis.zcard("asynq:{default}:aggregation_sets") == 1
    assert await aio_redis.llen("asynq:{default}:pending") == 0


# --- configuration and the warning of servers without an aggregator ---------------------------


def test_a_grace_period_under_one_second_is_refused() -> None:
    with pytest.raises(ConfigError, match="group_grace_period must be at least 1 second"):
        ServerConfig(group_aggregator=joined, group_grace_period=0.5)


async def test_a_server_without_aggregator_warns_once_that_groups_wait(
    broker: RedisBroker, caplog: pytest.LogCaptureFixture
) -> None:
    await add(Client(broker), b"a", group="digest")
    watch = UnservedGroupsWatch(UnservedGroupsWatchParams(broker, ["default"]))

    with caplog.at_level(logging.WARNING, logger="asyncq.group_watch"):
        await watch.step()
        await watch.step()

    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "groups: digest" in warning.getMessage()
    assert "no group aggregator" in warning.getMessage()


async def test_a_server_with_aggregator_aggregates_and_runs_the_task(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    await add(Client(broker), b"only")
    handled: list[Task] = []

    async def handler(task: ActiveTask) -> None:
        handled.append(Task(task.type, task.payload))

    async with running_server(broker, handler, group_aggregator=joined, group_grace_period=1):
        await wait_for(lambda: bool(handled), timeout=10)

    assert handled == [Task("digest:g", b"only")]


# --- helpers ----------------------------------------------------------------------------------


class AheadClock:
    """The wall clock moved ``seconds`` ahead: aggregation sets written now look stale."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def now(self) -> float:
        return time.time() + self._seconds


def recoverer(broker: RedisBroker) -> Recoverer:
    syncer = Syncer(SyncerParams(broker.clock))
    outcomes = Outcomes(
        OutcomeParams(broker, syncer, default_retry_delay, lambda e: True, None, logging.DEBUG)
    )
    return Recoverer(RecovererParams(broker, outcomes, ["default"]))


def main(url: str, marker: str) -> None:
    """A worker whose aggregator marks that it started and then blocks until killed."""

    def blocking(group: str, tasks: list[Task]) -> Task:
        Path(marker).write_text(group)
        time.sleep(600)
        return joined(group, tasks)

    config = ServerConfig(
        concurrency=1, group_aggregator=blocking, group_grace_period=1, group_max_size=3
    )
    Server(config, broker=RedisBroker.from_url(url)).run(lambda task: None)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
