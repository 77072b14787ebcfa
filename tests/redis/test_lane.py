"""The connection the broker keeps aside for its script calls: a killed connection, a
cancelled caller and concurrent callers all still get their own replies."""

from __future__ import annotations

import asyncio

import pytest
import redis
from broker_state import message

from asyncq.redis.broker import RedisBroker


def pending(raw_redis: redis.Redis) -> list[str]:
    return [v.decode() for v in raw_redis.lrange("asynq:{default}:pending", 0, -1)]


async def test_a_call_after_redis_dropped_the_connection_is_sent_again(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    first, second = message(), message()
    await broker.enqueue(first)
    raw_redis.client_kill_filter(_type="normal", skipme=True)

    await broker.enqueue(second)

    assert pending(raw_redis) == [second.id, first.id]


async def test_a_cancelled_call_leaves_no_reply_behind_for_the_next_one(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    first = message()
    await broker.enqueue(first)
    raw_redis.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    held = asyncio.create_task(broker.enqueue(message(task_id="held")))
    await asyncio.sleep(0.05)

    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held
    taken = await broker.dequeue(["default"], 5)

    assert taken[0].message == first
    assert [d.message.id for d in taken[1:]] in ([], ["held"])


async def test_calls_made_together_each_get_their_own_reply(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    msgs = [message() for _ in range(50)]

    await asyncio.gather(*(broker.enqueue(msg) for msg in msgs))
    taken = await broker.dequeue(["default"], 50)

    assert sorted(d.message.id for d in taken) == sorted(msg.id for msg in msgs)
    assert pending(raw_redis) == []
