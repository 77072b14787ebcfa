"""The batch scripts that finish many succeeded tasks at once leave, key by key and TTL by
TTL, the state that finishing the same tasks one call at a time leaves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import redis
from broker_state import dump, message
from conftest import NOW

from asyncq.errors import BrokerError, TaskNotActiveError
from asyncq.proto import TaskMessage
from asyncq.redis import keys
from asyncq.redis.broker import MAX_INT64, RedisBroker

NOW_S = int(NOW)
DAY = "2027-01-15"
Finish = Callable[[RedisBroker, list[TaskMessage]], Awaitable[list[BaseException | None]]]


def lock(payload: bytes, queue: str = "default") -> str:
    return keys.unique_key(queue, "email:send", payload)


def fixed_messages() -> list[TaskMessage]:
    """Every case a batch meets, with fixed IDs so that two runs can be compared."""
    return [
        message(task_id="plain"),
        message(task_id="locked", payload=b"1", unique_key=lock(b"1")),
        message(task_id="kept", retention=3600),
        message(task_id="kept-locked", retention=600, payload=b"2", unique_key=lock(b"2")),
        message(queue="critical", task_id="other-queue"),
        message(queue="critical", task_id="other-kept", retention=60),
        message(task_id="lock-taken", payload=b"3", unique_key=lock(b"3")),
        message(task_id="lease-lost"),
        message(task_id="kept-twice", retention=60),
        message(task_id="never-leased"),
    ]


async def prepare(broker: RedisBroker, raw_redis: redis.Redis) -> list[TaskMessage]:
    """Lease all but the last message, then break some of them as a real fleet would."""
    msgs = fixed_messages()
    for msg in msgs[:-1]:
        await broker.enqueue(msg, 60 if msg.unique_key else None)
    taken = await broker.dequeue(["default", "critical"], len(msgs))
    assert len(taken) == len(msgs) - 1
    raw_redis.set(lock(b"3"), "someone-else")
    raw_redis.zrem("asynq:{default}:lease", "lease-lost")
    raw_redis.zadd("asynq:{default}:completed", {"kept-twice": NOW_S})
    return msgs


async def one_by_one(broker: RedisBroker, msgs: list[TaskMessage]) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = []
    for msg in msgs:
        try:
            if msg.retention > 0:
                await broker.mark_as_complete(msg)
            else:
                await broker.done(msg)
        except BrokerError as exc:
            outcomes.append(exc)
        else:
            outcomes.append(None)
    return outcomes


async def batched(broker: RedisBroker, msgs: list[TaskMessage]) -> list[BaseException | None]:
    return await broker.succeed_many(msgs)


async def run(
    broker: RedisBroker, raw_redis: redis.Redis, finish: Finish
) -> tuple[list[str], dict[str, object], dict[str, int]]:
    """Outcomes (as text), the whole db and every TTL after finishing the fixed tasks."""
    raw_redis.flushdb()
    msgs = await prepare(broker, raw_redis)
    outcomes = await finish(broker, msgs)
    ttls = {key.decode(): raw_redis.ttl(key) for key in raw_redis.keys("*")}
    return [repr(outcome) for outcome in outcomes], dump(raw_redis), ttls


def kinds(outcomes: Sequence[BaseException | None]) -> list[str]:
    return [type(outcome).__name__ for outcome in outcomes]


async def test_a_batch_leaves_the_state_that_single_calls_leave(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    single = await run(broker, raw_redis, one_by_one)
    batch = await run(broker, raw_redis, batched)

    assert batch == single


async def test_a_batch_reports_each_task_and_writes_what_finishing_it_writes(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    raw_redis.flushdb()
    msgs = await prepare(broker, raw_redis)

    outcomes = await broker.succeed_many(msgs)

    assert kinds(outcomes) == [
        *["NoneType"] * 7,
        "TaskNotActiveError",
        "BrokerError",
        "TaskNotActiveError",
    ]
    assert "Task kept-twice is already in asynq:{default}:completed." in str(outcomes[8])
    state = dump(raw_redis)
    assert state["asynq:{default}:completed"] == [
        ("kept-twice", NOW_S),
        ("kept-locked", NOW_S + 600),
        ("kept", NOW_S + 3600),
    ]
    assert state["asynq:{critical}:completed"] == [("other-kept", NOW_S + 60)]
    assert state["asynq:{default}:t:kept"]["state"] == "completed"
    assert state["asynq:{default}:t:kept"]["msg"].completed_at == NOW_S
    assert "asynq:{default}:t:plain" not in state
    assert "asynq:{critical}:t:other-queue" not in state
    assert lock(b"1") not in state and lock(b"2") not in state
    assert state[lock(b"3")] == "someone-else"
    assert state["asynq:{default}:active"] == ["kept-twice", "lease-lost"]
    assert state["asynq:{default}:lease"] == [("kept-twice", NOW_S + 30)]
    assert state[f"asynq:{{default}}:processed:{DAY}"] == "5"
    assert state["asynq:{default}:processed"] == "5"
    assert state[f"asynq:{{critical}}:processed:{DAY}"] == "2"
    assert raw_redis.ttl(f"asynq:{{default}}:processed:{DAY}") > 89 * 24 * 3600


async def test_done_many_deletes_even_the_tasks_with_a_retention(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    raw_redis.flushdb()
    msgs = await prepare(broker, raw_redis)

    outcomes = await broker.done_many(msgs[:4])

    assert outcomes == [None] * 4
    state = dump(raw_redis)
    assert "asynq:{default}:t:kept" not in state
    assert state["asynq:{default}:completed"] == [("kept-twice", NOW_S)]
    assert state["asynq:{default}:processed"] == "4"


async def test_the_processed_total_restarts_at_one_inside_a_batch_as_between_calls(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    async def near_the_wrap(finish: Finish) -> object:
        async def finishing(broker: RedisBroker, msgs: list[TaskMessage]) -> list[object]:
            raw_redis.set("asynq:{default}:processed", MAX_INT64 - 1)
            return list(await finish(broker, msgs))

        return await run(broker, raw_redis, finishing)

    single = await near_the_wrap(one_by_one)
    batch = await near_the_wrap(batched)

    assert batch == single
    assert int(raw_redis.get("asynq:{default}:processed") or 0) <= 5


async def test_a_lost_task_hash_is_reported_and_its_lease_left_alone(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    raw_redis.flushdb()
    first, second = message(), message(retention=60)
    for msg in (first, second):
        await broker.enqueue(msg)
    await broker.dequeue(["default"], 2)
    raw_redis.delete(keys.task_key("default", first.id), keys.task_key("default", second.id))
    before = dump(raw_redis)

    outcomes = await broker.succeed_many([first, second])

    assert [type(outcome) for outcome in outcomes] == [TaskNotActiveError] * 2
    assert dump(raw_redis) == before
