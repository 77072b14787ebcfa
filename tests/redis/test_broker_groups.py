"""Groups, server state and pub/sub of the Redis broker, key by key."""

from __future__ import annotations

import asyncio

import pytest
import redis
from broker_state import dump, message, pending_hash
from conftest import NOW

from asyncq.clock import ManualClock
from asyncq.errors import DuplicateTaskError
from asyncq.proto import ServerInfo, TaskMessage, WorkerInfo
from asyncq.redis import keys
from asyncq.redis.broker import RedisBroker

NOW_S = int(NOW)
NOW_NS = 1_800_000_000_250_000_000


async def grouped(broker: RedisBroker, clock: ManualClock, *ages: int) -> list[TaskMessage]:
    """Tasks added to group g1 of queue default, ``ages`` seconds ago (oldest first)."""
    msgs = []
    start = clock.now()
    for age in ages:
        clock.set(start - age)
        msg = message(group_key="g1", payload=f"{age}".encode())
        await broker.add_to_group(msg, "g1")
        msgs.append(msg)
    clock.set(start)
    return msgs


async def test_a_group_is_not_aggregated_while_tasks_keep_arriving(
    broker: RedisBroker, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    await grouped(broker, clock, 30, 5)
    before = dump(raw_redis)

    set_id = await broker.aggregation_check(
        "default", "g1", grace_period=10, max_delay=0, max_size=0
    )

    assert set_id is None
    assert dump(raw_redis) == before


async def test_a_quiet_group_moves_whole_into_a_new_set_and_leaves_the_groups_list(
    broker: RedisBroker, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    msgs = await grouped(broker, clock, 30, 20)

    set_id = await broker.aggregation_check(
        "default", "g1", grace_period=10, max_delay=0, max_size=0
    )

    assert set_id is not None
    set_key = keys.aggregation_set_key("default", "g1", set_id)
    state = dump(raw_redis)
    assert state[set_key] == [(msgs[0].id, NOW_S - 30), (msgs[1].id, NOW_S - 20)]
    assert state["asynq:{default}:aggregation_sets"] == [(set_key, NOW_S + 120)]
    assert "asynq:{default}:g:g1" not in state
    assert "asynq:{default}:groups" not in state


async def test_a_full_group_gives_max_size_tasks_and_keeps_the_rest_listed(
    broker: RedisBroker, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    msgs = await grouped(broker, clock, 3, 2, 1)

    set_id = await broker.aggregation_check(
        "default", "g1", grace_period=60, max_delay=0, max_size=2
    )

    assert set_id is not None
    state = dump(raw_redis)
    assert [m for m, _ in state[keys.aggregation_set_key("default", "g1", set_id)]] == [
        msgs[0].id,
        msgs[1].id,
    ]
    assert state["asynq:{default}:g:g1"] == [(msgs[2].id, NOW_S - 1)]
    assert state["asynq:{default}:groups"] == ["g1"]


async def test_a_group_whose_oldest_task_waited_max_delay_is_aggregated(
    broker: RedisBroker, clock: ManualClock
) -> None:
    await grouped(broker, clock, 100, 1)

    set_id = await broker.aggregation_check(
        "default", "g1", grace_period=60, max_delay=90, max_size=0
    )

    assert set_id is not None


async def test_an_aggregation_set_is_read_in_order_with_its_deadline_then_deleted(
    broker: RedisBroker, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    msgs = await grouped(broker, clock, 30, 20)
    set_id = await broker.aggregation_check("default", "g1", 10, 0, 0)
    assert set_id is not None

    messages, deadline = await broker.read_aggregation_set("default", "g1", set_id)
    await broker.delete_aggregation_set("default", "g1", set_id)

    assert (messages, deadline) == (msgs, NOW_S + 120)
    assert dump(raw_redis) == {"asynq:queues": ["default"]}


async def test_a_stale_set_returns_to_its_group_and_the_group_is_listed_again(
    broker: RedisBroker, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    msgs = await grouped(broker, clock, 30, 20)
    set_id = await broker.aggregation_check("default", "g1", 10, 0, 0)
    assert set_id is not None
    clock.advance(121)

    await broker.reclaim_stale_aggregation_sets("default")

    state = dump(raw_redis)
    assert state["asynq:{default}:g:g1"] == [(msgs[0].id, NOW_S - 30), (msgs[1].id, NOW_S - 20)]
    assert state["asynq:{default}:groups"] == ["g1"]
    assert "asynq:{default}:aggregation_sets" not in state
    assert await broker.list_groups("default") == ["g1"]


async def unique_in_group(broker: RedisBroker, payload: bytes) -> TaskMessage:
    """A task of group g1 holding the uniqueness lock of its type and payload for an hour."""
    unique = keys.unique_key("default", "email:send", payload)
    msg = message(group_key="g1", payload=payload, unique_key=unique)
    await broker.add_to_group(msg, "g1", unique_ttl=3600)
    return msg


async def test_a_unique_grouped_task_names_its_lock_in_its_hash(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msg = await unique_in_group(broker, b"u")

    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:g:g1": [(msg.id, NOW_S)],
        "asynq:{default}:groups": ["g1"],
        f"asynq:{{default}}:t:{msg.id}": {
            "msg": msg,
            "state": "aggregating",
            "group": "g1",
            "unique_key": msg.unique_key,
        },
        msg.unique_key: msg.id,
    }
    assert raw_redis.ttl(msg.unique_key) == 3600


async def test_a_committed_aggregation_releases_the_locks_its_members_hold(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    first, second = await unique_in_group(broker, b"u1"), await unique_in_group(broker, b"u2")
    plain = message(group_key="g1", payload=b"p")
    await broker.add_to_group(plain, "g1")
    raw_redis.set(second.unique_key, "another-task")
    set_id = await broker.aggregation_check("default", "g1", 0, 0, 0)
    assert set_id is not None
    made = message(type="email:digest", payload=b"all")

    committed = await broker.commit_aggregation(made, "g1", set_id)

    assert committed
    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:pending": [made.id],
        f"asynq:{{default}}:t:{made.id}": pending_hash(made, NOW_NS),
        second.unique_key: "another-task",
    }
    assert not raw_redis.exists(first.unique_key)


async def test_a_refused_aggregation_keeps_the_locks_of_its_members(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    member = await unique_in_group(broker, b"u")
    set_id = await broker.aggregation_check("default", "g1", 0, 0, 0)
    assert set_id is not None
    made = message(type="email:digest", payload=b"all", unique_key="asynq:{default}:unique:d")
    raw_redis.set("asynq:{default}:unique:d", "holder")
    before = dump(raw_redis)

    with pytest.raises(DuplicateTaskError):
        await broker.commit_aggregation(made, "g1", set_id, unique_ttl=60)

    assert dump(raw_redis) == before
    assert raw_redis.get(member.unique_key) == member.id.encode()


async def test_server_state_is_listed_and_written_with_its_ttl(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    info = ServerInfo(host="web-1", pid=42, server_id="s1", concurrency=4, status="active")
    worker = WorkerInfo(host="web-1", pid=42, server_id="s1", task_id="t1", queue="default")

    await broker.write_server_state(info, [worker], ttl=10)

    server_key, workers_key = "asynq:servers:{web-1:42:s1}", "asynq:workers:{web-1:42:s1}"
    assert raw_redis.zrange("asynq:servers", 0, -1, withscores=True) == [
        (server_key.encode(), NOW_S + 10)
    ]
    assert raw_redis.zrange("asynq:workers", 0, -1, withscores=True) == [
        (workers_key.encode(), NOW_S + 10)
    ]
    assert ServerInfo.FromString(raw_redis.get(server_key) or b"") == info
    assert raw_redis.hgetall(workers_key) == {b"t1": worker.SerializeToString()}
    assert raw_redis.ttl(server_key) == raw_redis.ttl(workers_key) == 10


async def test_clearing_server_state_removes_every_trace(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    info = ServerInfo(host="web-1", pid=42, server_id="s1")
    await broker.write_server_state(info, [WorkerInfo(task_id="t1")], ttl=10)

    await broker.clear_server_state("web-1", 42, "s1")

    assert dump(raw_redis) == {}


async def test_write_server_state_loads_its_script_again_after_a_script_flush(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    info = ServerInfo(host="h", pid=1, server_id="s")
    await broker.write_server_state(info, [], ttl=10)
    raw_redis.script_flush()

    await broker.write_server_state(info, [WorkerInfo(task_id="t2")], ttl=10)

    assert raw_redis.hkeys("asynq:workers:{h:1:s}") == [b"t2"]


async def test_listen_yields_cancellations_and_wakeups_as_text(broker: RedisBroker) -> None:
    received: list[tuple[str, str]] = []

    async def collect() -> None:
        async for channel, text in broker.listen([keys.CANCEL_CHANNEL, keys.WAKEUP_CHANNEL]):
            received.append((channel, text))
            if len(received) == 2:
                return

    listener = asyncio.create_task(collect())
    while not (await broker.client.pubsub_numsub(keys.CANCEL_CHANNEL))[0][1]:
        await asyncio.sleep(0.01)
    await broker.publish_cancel("task-7")
    await broker.enqueue(message(queue="low"))
    await asyncio.wait_for(listener, timeout=5)

    assert received == [("asynq:cancel", "task-7"), ("asyncq:wakeup", "low")]


async def test_a_message_that_is_not_text_is_skipped_and_the_next_one_still_arrives(
    broker: RedisBroker, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[tuple[str, str]] = []

    async def collect() -> None:
        async for channel, text in broker.listen([keys.CANCEL_CHANNEL]):
            received.append((channel, text))
            return

    listener = asyncio.create_task(collect())
    while not (await broker.client.pubsub_numsub(keys.CANCEL_CHANNEL))[0][1]:
        await asyncio.sleep(0.01)
    await broker.client.publish(keys.CANCEL_CHANNEL, b"\xff")
    await broker.publish_cancel("task-8")
    await asyncio.wait_for(listener, timeout=5)

    assert received == [("asynq:cancel", "task-8")]
    assert "is not UTF-8 text" in caplog.text
