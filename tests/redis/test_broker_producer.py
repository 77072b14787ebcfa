"""The producer side of the Redis broker (enqueue, schedule, group, batch), state key by key."""

from __future__ import annotations

import asyncio

import redis
from broker_state import dump, message, pending_hash
from conftest import NOW

from asyncq.clock import ManualClock
from asyncq.devserver import free_port
from asyncq.errors import (
    BrokerUnavailableError,
    ConfigError,
    DuplicateTaskError,
    TaskIDConflictError,
)
from asyncq.redis import keys
from asyncq.redis.broker import RedisBroker

NOW_NS = 1_800_000_000_250_000_000
UNIQUE = keys.unique_key("default", "email:send", b'{"user_id":42}')


async def test_enqueue_stores_a_pending_task_and_registers_its_queue(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msg = message()

    await broker.enqueue(msg)

    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:pending": [msg.id],
        f"asynq:{{default}}:t:{msg.id}": pending_hash(msg, NOW_NS),
    }


async def test_new_tasks_are_pushed_on_the_left_so_the_oldest_is_dequeued_first(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    first, second = message(), message()

    await broker.enqueue(first)
    await broker.enqueue(second)

    assert dump(raw_redis)["asynq:{default}:pending"] == [second.id, first.id]


async def test_enqueue_wakes_idle_workers_through_the_wakeup_channel(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    listener = raw_redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(keys.WAKEUP_CHANNEL)

    await broker.enqueue(message(queue="critical"))

    received = [listener.get_message(timeout=0.5) for _ in range(2)]
    listener.close()
    assert [(m["channel"], m["data"]) for m in received if m] == [(b"asyncq:wakeup", b"critical")]


async def test_a_taken_task_id_is_refused_and_nothing_is_written(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    await broker.enqueue(message(task_id="order-123"))
    before = dump(raw_redis)

    try:
        await broker.enqueue(message(task_id="order-123", payload=b"other"))
        raise AssertionError("the second enqueue should have been refused")
    except TaskIDConflictError as refused:
        assert str(refused) == "task ID conflicts with another task"

    assert dump(raw_redis) == before


async def test_a_unique_task_takes_its_lock_for_the_given_ttl(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msg = message(unique_key=UNIQUE)

    await broker.enqueue(msg, unique_ttl=3600)

    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:pending": [msg.id],
        f"asynq:{{default}}:t:{msg.id}": pending_hash(msg, NOW_NS, unique_key=UNIQUE),
        UNIQUE: msg.id,
    }
    assert raw_redis.ttl(UNIQUE) == 3600


async def test_a_duplicate_of_a_locked_task_is_refused_and_nothing_is_written(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    await broker.enqueue(message(unique_key=UNIQUE), unique_ttl=3600)
    before = dump(raw_redis)

    try:
        await broker.enqueue(message(unique_key=UNIQUE), unique_ttl=3600)
        raise AssertionError("the duplicate should have been refused")
    except DuplicateTaskError as refused:
        assert str(refused) == "task already exists"

    assert dump(raw_redis) == before


async def test_a_unique_task_with_a_taken_id_leaves_no_lock_behind(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    await broker.enqueue(message(task_id="order-123", payload=b"first"))
    before = dump(raw_redis)

    try:
        await broker.enqueue(message(task_id="order-123", unique_key=UNIQUE), unique_ttl=60)
        raise AssertionError("the enqueue should have been refused")
    except TaskIDConflictError:
        pass

    assert dump(raw_redis) == before
    assert not raw_redis.exists(UNIQUE)


async def test_a_queue_removed_by_an_operator_reappears_on_the_next_enqueue(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    await broker.enqueue(message())
    raw_redis.srem("asynq:queues", "default")

    await broker.enqueue(message())

    assert dump(raw_redis)["asynq:queues"] == ["default"]


async def test_schedule_stores_the_task_until_its_time_and_keeps_its_group(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msg = message(group_key="batch")

    await broker.schedule(msg, process_at=int(NOW) + 300)

    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:scheduled": [(msg.id, int(NOW) + 300)],
        f"asynq:{{default}}:t:{msg.id}": {"msg": msg, "state": "scheduled", "group": "batch"},
    }


async def test_schedule_without_group_writes_no_group_field(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msg = message()

    await broker.schedule(msg, process_at=int(NOW) + 5)

    assert dump(raw_redis)[f"asynq:{{default}}:t:{msg.id}"] == {"msg": msg, "state": "scheduled"}


async def test_a_unique_scheduled_task_holds_its_lock_and_duplicates_are_refused(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msg = message(unique_key=UNIQUE)

    await broker.schedule(msg, process_at=int(NOW) + 300, unique_ttl=900)
    before = dump(raw_redis)
    try:
        await broker.schedule(message(unique_key=UNIQUE), int(NOW) + 300, unique_ttl=900)
        raise AssertionError("the duplicate should have been refused")
    except DuplicateTaskError:
        pass

    assert (
        before
        == dump(raw_redis)
        == {
            "asynq:queues": ["default"],
            "asynq:{default}:scheduled": [(msg.id, int(NOW) + 300)],
            f"asynq:{{default}}:t:{msg.id}": {
                "msg": msg,
                "state": "scheduled",
                "unique_key": UNIQUE,
            },
            UNIQUE: msg.id,
        }
    )
    assert raw_redis.ttl(UNIQUE) == 900


async def test_add_to_group_stores_an_aggregating_task_and_lists_its_group(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msg = message(group_key="user42")

    await broker.add_to_group(msg, "user42")

    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:g:user42": [(msg.id, int(NOW))],
        "asynq:{default}:groups": ["user42"],
        f"asynq:{{default}}:t:{msg.id}": {"msg": msg, "state": "aggregating", "group": "user42"},
    }


async def test_a_unique_grouped_task_takes_the_lock_and_its_hash_names_it(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msg = message(group_key="g1", unique_key=UNIQUE)

    await broker.add_to_group(msg, "g1", unique_ttl=120)
    try:
        await broker.add_to_group(message(group_key="g1", unique_key=UNIQUE), "g1", 120)
        raise AssertionError("the duplicate should have been refused")
    except DuplicateTaskError:
        pass

    state = dump(raw_redis)
    assert state[f"asynq:{{default}}:t:{msg.id}"] == {
        "msg": msg,
        "state": "aggregating",
        "group": "g1",
        "unique_key": UNIQUE,
    }
    assert state["asynq:{default}:g:g1"] == [(msg.id, int(NOW))]
    assert (state[UNIQUE], raw_redis.ttl(UNIQUE)) == (msg.id, 120)


async def test_a_batch_leaves_the_state_that_one_enqueue_per_task_leaves(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msgs = [message(queue=q) for q in ("default", "critical", "default", "low", "default")]

    outcome = await broker.enqueue_batch(msgs)
    batched = dump(raw_redis)
    raw_redis.flushall()
    for msg in msgs:
        await broker.enqueue(msg)

    assert list(outcome.enqueued) == [True] * 5
    assert batched == dump(raw_redis)
    assert batched["asynq:{default}:pending"] == [msgs[4].id, msgs[2].id, msgs[0].id]


async def test_a_batch_reports_taken_ids_per_task_and_stores_the_rest(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    await broker.enqueue(message(task_id="taken", payload=b"original"))
    fresh = message()

    outcome = await broker.enqueue_batch([message(task_id="taken", payload=b"new"), fresh])

    state = dump(raw_redis)
    assert list(outcome.enqueued) == [False, True]
    assert state["asynq:{default}:pending"] == [fresh.id, "taken"]
    assert state["asynq:{default}:t:taken"]["msg"].payload == b"original"


async def test_a_batch_larger_than_one_script_call_is_split_and_stored_whole(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msgs = [message(task_id=f"t{i}") for i in range(2500)]

    outcome = await broker.enqueue_batch(msgs)

    assert all(outcome.enqueued)
    assert raw_redis.llen("asynq:{default}:pending") == 2500
    assert raw_redis.lindex("asynq:{default}:pending", -1) == b"t0"


async def test_a_lock_ttl_that_is_not_whole_seconds_is_refused_before_writing(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    try:
        await broker.enqueue(message(unique_key=UNIQUE), unique_ttl=1.5)  # type: ignore[arg-type]
        raise AssertionError("a fractional TTL should have been refused")
    except ConfigError as refused:
        assert "whole number of seconds" in str(refused)

    assert dump(raw_redis) == {}


async def test_an_unreachable_redis_is_reported_as_broker_unavailable() -> None:
    broker = RedisBroker.from_url(f"redis://127.0.0.1:{free_port()}/0", clock=ManualClock(NOW))

    try:
        await broker.enqueue(message())
        raise AssertionError("the enqueue should have failed")
    except BrokerUnavailableError as failed:
        assert "Lost the connection to Redis while running the enqueue script" in str(failed)
    finally:
        await broker.close()


async def test_concurrent_enqueues_each_get_their_own_outcome(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    await broker.enqueue(message(task_id="taken"))
    msgs = [message(task_id=f"c{i}") for i in range(50)] + [message(task_id="taken")]

    outcomes = await asyncio.gather(*(broker.enqueue(m) for m in msgs), return_exceptions=True)

    assert outcomes[:50] == [None] * 50
    assert isinstance(outcomes[50], TaskIDConflictError)
    assert raw_redis.llen("asynq:{default}:pending") == 51
