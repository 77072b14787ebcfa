"""Waiting for a task inside Redis and leasing it in the same round trip leaves the state a
plain dequeue leaves, and nothing at all when no task can be leased."""

from __future__ import annotations

import asyncio

import redis
from broker_state import dump, message
from conftest import NOW

from asyncq.redis.broker import RedisBroker

NOW_S = int(NOW)


async def test_a_task_pushed_while_waiting_is_leased_as_dequeue_leases_it(
    broker: RedisBroker, raw_redis: redis.Redis, redis_url: str
) -> None:
    msg = message()
    plain = RedisBroker.from_url(redis_url, clock=broker.clock)
    await plain.enqueue(msg)
    (expected,) = await plain.dequeue(["default"], 5)
    leased_by_dequeue = dump(raw_redis)
    raw_redis.flushdb()

    waiting = asyncio.create_task(broker.dequeue_when_ready("default", 5, 5.0))
    await asyncio.sleep(0.1)
    await plain.enqueue(msg)
    leased = await waiting
    await plain.close()

    assert leased == [expected]
    assert dump(raw_redis) == leased_by_dequeue
    assert leased_by_dequeue["asynq:{default}:lease"] == [(msg.id, NOW_S + 30)]


async def test_a_task_stored_without_a_wakeup_is_leased_too(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msg = message()
    waiting = asyncio.create_task(broker.dequeue_when_ready("default", 1, 5.0))
    await asyncio.sleep(0.1)
    raw_redis.hset(f"asynq:{{default}}:t:{msg.id}", mapping={"msg": msg.SerializeToString()})
    raw_redis.hset(f"asynq:{{default}}:t:{msg.id}", "state", "pending")
    raw_redis.lpush("asynq:{default}:pending", msg.id)

    leased = await waiting

    assert [d.message for d in leased] == [msg]
    assert raw_redis.lrange("asynq:{default}:active", 0, -1) == [msg.id.encode()]


async def test_the_oldest_tasks_are_leased_and_the_rest_keep_their_order(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msgs = [message() for _ in range(4)]
    for msg in msgs:
        await broker.enqueue(msg)

    leased = await broker.dequeue_when_ready("default", 2, 1.0)

    assert [d.message for d in leased] == msgs[:2]
    assert dump(raw_redis)["asynq:{default}:pending"] == [msgs[3].id, msgs[2].id]


async def test_nothing_arriving_within_the_wait_changes_nothing(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    await broker.schedule(message(), NOW_S + 60)
    before = dump(raw_redis)

    leased = await broker.dequeue_when_ready("default", 3, 0.1)

    assert leased == []
    assert dump(raw_redis) == before


async def test_a_paused_queue_with_tasks_is_left_as_it_was(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msgs = [message() for _ in range(3)]
    for msg in msgs:
        await broker.enqueue(msg)
    raw_redis.set("asynq:{default}:paused", NOW_S)
    before = dump(raw_redis)

    leased = await broker.dequeue_when_ready("default", 3, 1.0)

    assert leased is None
    assert dump(raw_redis) == before
