"""The uniqueness lock of a grouped task goes with the task: deleted or aggregated, the same
task can be enqueued again at once, and no lock is left behind in Redis.

asynq never releases these locks (protocol 8.2 item 14); asyncq writes ``unique_key`` into
the hash of a unique grouped task, as for any other unique task, so every delete path and
the aggregation that consumes the task release it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis
import redis.asyncio as aioredis
from worker.helpers import running_server, wait_for

from asyncq.client import Client
from asyncq.context import ActiveTask
from asyncq.errors import DuplicateTaskError
from asyncq.inspector import Inspector
from asyncq.redis import keys
from asyncq.redis.broker import RedisBroker
from asyncq.task import Task, TaskState

Q = "mail"
TASK = Task("x", b"u")
LOCK = keys.unique_key(Q, "x", b"u")

Removal = Callable[[Inspector, str], Awaitable[object]]


async def delete_one(inspector: Inspector, task_id: str) -> None:
    await inspector.delete_task(Q, task_id)


async def delete_the_group(inspector: Inspector, task_id: str) -> None:
    assert await inspector.delete_all_tasks(Q, "aggregating", group="g") == 1


async def remove_the_queue(inspector: Inspector, task_id: str) -> None:
    await inspector.delete_queue(Q, force=True)


REMOVALS = [delete_one, delete_the_group, remove_the_queue]


@pytest.fixture
async def client(redis_url: str, raw_redis: redis.Redis) -> AsyncIterator[Client]:
    """A client on a flushed db (``raw_redis`` flushes it)."""
    async with Client.from_url(redis_url) as made:
        yield made


async def enqueue_unique(client: Client) -> str:
    info = await client.enqueue(TASK, queue=Q, unique=3600, group="g")
    assert info.state is TaskState.AGGREGATING
    return info.id


def queue_keys(raw_redis: redis.Redis) -> list[str]:
    return sorted(k.decode() for k in raw_redis.keys(f"asynq:{{{Q}}}:*"))


async def test_a_unique_grouped_task_is_stored_with_the_lock_it_holds(
    client: Client, raw_redis: redis.Redis
) -> None:
    task_id = await enqueue_unique(client)

    task_key = keys.task_key(Q, task_id)
    assert queue_keys(raw_redis) == sorted(
        [f"asynq:{{{Q}}}:g:g", f"asynq:{{{Q}}}:groups", task_key, LOCK]
    )
    assert raw_redis.hget(task_key, "unique_key") == LOCK.encode()
    assert raw_redis.get(LOCK) == task_id.encode()
    assert 3590 <= raw_redis.ttl(LOCK) <= 3600


@pytest.mark.parametrize("removal", REMOVALS)
async def test_each_inspector_delete_leaves_no_key_of_the_task_and_frees_its_lock(
    removal: Removal, client: Client, raw_redis: redis.Redis, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue_unique(client)

    await removal(Inspector(aio_redis), task_id)

    assert queue_keys(raw_redis) == []
    again = await enqueue_unique(client)
    assert again != task_id
    assert raw_redis.get(LOCK) == again.encode()


@pytest.mark.parametrize("removal", REMOVALS)
async def test_a_delete_leaves_a_lock_that_another_task_took_over(
    removal: Removal, client: Client, raw_redis: redis.Redis, aio_redis: aioredis.Redis
) -> None:
    task_id = await enqueue_unique(client)
    raw_redis.set(LOCK, "another-task", ex=60)

    await removal(Inspector(aio_redis), task_id)

    assert queue_keys(raw_redis) == [LOCK]
    assert raw_redis.get(LOCK) == b"another-task"


async def test_the_tasks_an_aggregation_consumed_can_be_enqueued_again_at_once(
    client: Client, redis_url: str, raw_redis: redis.Redis
) -> None:
    first = await enqueue_unique(client)
    handled: list[tuple[str, bytes | None]] = []

    async def handler(task: ActiveTask) -> None:
        handled.append((task.type, task.payload))

    def digest(group: str, tasks: list[Task]) -> Task:
        return Task("digest", b"\n".join(t.payload or b"" for t in tasks))

    broker = RedisBroker.from_url(redis_url)
    async with running_server(
        broker, handler, queues={Q: 1}, group_aggregator=digest, group_grace_period=1
    ):
        await wait_for(lambda: bool(handled), timeout=10)
    await broker.close()

    assert handled == [("digest", b"u")]
    assert not raw_redis.exists(LOCK, keys.task_key(Q, first))
    again = await enqueue_unique(client)
    assert raw_redis.get(LOCK) == again.encode()


async def test_a_second_enqueue_is_still_refused_while_the_grouped_task_waits(
    client: Client, raw_redis: redis.Redis
) -> None:
    task_id = await enqueue_unique(client)

    with pytest.raises(DuplicateTaskError):
        await enqueue_unique(client)

    assert raw_redis.get(LOCK) == task_id.encode()
