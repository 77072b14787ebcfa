"""Write task records exactly as Go asynq's scripts leave them, for inspector tests.

The inspector must read what any producer wrote, so these helpers write the protocol's
records directly instead of going through asyncq's own client.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from asyncq.proto import TaskMessage
from asyncq.redis import keys
from asyncq.redis.admin import container_key
from asyncq.task import TaskState


def message(queue: str = "default", task_type: str = "email:send", **fields: object) -> TaskMessage:
    """A task message with asynq's defaults (25 retries, 30-minute timeout)."""
    defaults: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "type": task_type,
        "payload": b'{"user_id":42}',
        "queue": queue,
        "retry": 25,
        "timeout": 1800,
    }
    return TaskMessage(**{**defaults, **fields})


async def put_task(
    client: aioredis.Redis,
    msg: TaskMessage,
    state: TaskState,
    *,
    score: float = 0,
    group: str = "",
    pending_since_ns: int | None = None,
) -> str:
    """Store ``msg`` in ``state`` with the fields and container Go would write; return its ID."""
    queue, task_id = msg.queue, msg.id
    fields: dict[str, bytes | str | int] = {"msg": msg.SerializeToString(), "state": state.value}
    if msg.unique_key:
        fields["unique_key"] = msg.unique_key
    if group:
        fields["group"] = group
    if pending_since_ns is not None:
        fields["pending_since"] = pending_since_ns
    await client.sadd(keys.ALL_QUEUES, queue)
    await client.hset(keys.task_key(queue, task_id), mapping=fields)

    if state is TaskState.PENDING:
        await client.lpush(keys.pending_key(queue), task_id)
    elif state is TaskState.ACTIVE:
        await client.lpush(keys.active_key(queue), task_id)
        await client.zadd(keys.lease_key(queue), {task_id: score})
    elif state is TaskState.AGGREGATING:
        await client.zadd(keys.group_key(queue, group), {task_id: score})
        await client.sadd(keys.groups_key(queue), group)
    else:
        await client.zadd(container_key(queue, state), {task_id: score})
    return task_id


async def put_many(
    client: aioredis.Redis, state: TaskState, count: int, prefix: str, first_score: float
) -> None:
    """Store ``count`` tasks named ``<prefix>-00000``... in a sorted-set state, in one round trip.

    Their scores rise by one second from ``first_score``, so their order is their name order.
    """
    async with client.pipeline(transaction=False) as pipe:
        for i in range(count):
            msg = message(id=f"{prefix}-{i:05d}")
            record = {"msg": msg.SerializeToString(), "state": state.value}
            pipe.hset(keys.task_key(msg.queue, msg.id), mapping=record)
            pipe.zadd(container_key(msg.queue, state), {msg.id: first_score + i})
        pipe.sadd(keys.ALL_QUEUES, "default")
        await pipe.execute()


async def snapshot(client: aioredis.Redis) -> dict[str, object]:
    """Every key with its value, for asserting the whole Redis state at once."""
    state: dict[str, object] = {}
    for raw in sorted(await client.keys("*")):
        key = raw.decode()
        kind = (await client.type(key)).decode()
        if kind == "string":
            state[key] = await client.get(key)
        elif kind == "hash":
            state[key] = await client.hgetall(key)
        elif kind == "list":
            state[key] = await client.lrange(key, 0, -1)
        elif kind == "set":
            state[key] = sorted(await client.smembers(key))
        elif kind == "zset":
            state[key] = await client.zrange(key, 0, -1, withscores=True)
    return state


def run_seed(url: str, write: Callable[[aioredis.Redis], Awaitable[Any]]) -> Any:
    """Run an async seeding function on its own connection, from synchronous tests."""

    async def run() -> Any:
        client = aioredis.Redis.from_url(url)
        try:
            return await write(client)
        finally:
            await client.aclose()

    return asyncio.run(run())


def pending(queue: str = "default", **fields: Any) -> Callable[[aioredis.Redis], Awaitable[str]]:
    """A seeding function that stores one pending task and returns its ID."""

    async def write(client: aioredis.Redis) -> str:
        return await put_task(client, message(queue=queue, **fields), TaskState.PENDING)

    return write
