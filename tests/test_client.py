"""The client: asynq's option rules, the three enqueue paths, refusals and batches."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from asyncq.client import Client, SyncClient
from asyncq.clock import ManualClock
from asyncq.errors import ConfigError, DuplicateTaskError, TaskIDConflictError
from asyncq.proto import TaskMessage
from asyncq.redis.broker import RedisBroker
from asyncq.task import Task, TaskOptions, TaskState

NOW = 1_800_000_000.5


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def client(
    raw_redis: redis.Redis, redis_url: str, clock: ManualClock
) -> AsyncIterator[Client]:
    async with Client(RedisBroker.from_url(redis_url, clock=clock), owns_broker=True) as made:
        yield made


def stored(raw_redis: redis.Redis, queue: str, task_id: str) -> TaskMessage:
    raw = raw_redis.hget(f"asynq:{{{queue}}}:t:{task_id}", "msg")
    assert raw is not None, f"task {task_id} is not stored in queue {queue}"
    return TaskMessage.FromString(raw)


async def test_a_task_without_options_gets_asynqs_defaults(
    client: Client, raw_redis: redis.Redis
) -> None:
    info = await client.enqueue(Task("email:send", b'{"to":"a@b.c"}', {"trace": "t1"}))

    assert (info.queue, info.state, info.max_retry, info.timeout) == (
        "default",
        TaskState.PENDING,
        25,
        timedelta(minutes=30),
    )
    assert info.next_process_at == datetime.fromtimestamp(NOW, UTC)
    assert info.deadline is None
    assert stored(raw_redis, "default", info.id) == TaskMessage(
        type="email:send",
        payload=b'{"to":"a@b.c"}',
        headers={"trace": "t1"},
        id=info.id,
        queue="default",
        retry=25,
        timeout=1800,
    )
    assert raw_redis.smembers("asynq:queues") == {b"default"}


async def test_call_options_override_the_tasks_own_options(
    client: Client, raw_redis: redis.Redis
) -> None:
    task = Task("report", b"", options=TaskOptions(queue="low", max_retry=3, retention=60))

    info = await client.enqueue(task, queue="critical", task_id="r-1")

    assert (info.queue, info.id, info.max_retry, info.retention) == (
        "critical",
        "r-1",
        3,
        timedelta(seconds=60),
    )
    assert stored(raw_redis, "critical", "r-1").retention == 60


async def test_a_deadline_alone_leaves_the_timeout_unset(
    client: Client, raw_redis: redis.Redis
) -> None:
    deadline = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    info = await client.enqueue(Task("t"), deadline=deadline)

    msg = stored(raw_redis, "default", info.id)
    assert (msg.timeout, msg.deadline) == (0, int(deadline.timestamp()))


async def test_a_timeout_under_one_second_is_stored_as_one_second_not_lost(
    client: Client, raw_redis: redis.Redis
) -> None:
    info = await client.enqueue(Task("t"), timeout=0.3)

    assert stored(raw_redis, "default", info.id).timeout == 1


async def test_a_negative_max_retry_becomes_zero(client: Client, raw_redis: redis.Redis) -> None:
    info = await client.enqueue(Task("t"), max_retry=-3)

    assert info.max_retry == 0
    assert stored(raw_redis, "default", info.id).retry == 0


async def test_a_task_due_later_is_scheduled_at_whole_seconds(
    client: Client, raw_redis: redis.Redis
) -> None:
    info = await client.enqueue(Task("t"), process_in=timedelta(minutes=5))

    assert info.state is TaskState.SCHEDULED
    assert info.next_process_at == datetime.fromtimestamp(NOW + 300, UTC)
    assert raw_redis.zrange("asynq:{default}:scheduled", 0, -1, withscores=True) == [
        (info.id.encode(), int(NOW) + 300)
    ]


async def test_a_process_time_in_the_past_enqueues_at_once(client: Client) -> None:
    info = await client.enqueue(Task("t"), process_at=datetime(2020, 1, 1, tzinfo=UTC))

    assert info.state is TaskState.PENDING
    assert info.next_process_at == datetime.fromtimestamp(NOW, UTC)


async def test_a_scheduled_unique_task_holds_its_lock_for_the_wait_plus_the_ttl(
    client: Client, raw_redis: redis.Redis
) -> None:
    await client.enqueue(Task("later", b"\xcc"), unique=600, process_in=300)

    (lock,) = raw_redis.keys("asynq:{default}:unique:*")
    assert lock == b"asynq:{default}:unique:later:a2e970f170961ce879190d64982c94ec"
    assert raw_redis.ttl(lock) == 900


async def test_a_grouped_task_waits_in_its_group_without_a_due_time(
    client: Client, raw_redis: redis.Redis
) -> None:
    info = await client.enqueue(Task("notify"), group="user42")

    assert (info.state, info.group, info.next_process_at) == (
        TaskState.AGGREGATING,
        "user42",
        None,
    )
    assert raw_redis.zrange("asynq:{default}:g:user42", 0, -1) == [info.id.encode()]


async def test_a_grouped_task_due_later_keeps_its_group_for_aggregation(
    client: Client, raw_redis: redis.Redis
) -> None:
    info = await client.enqueue(Task("notify"), group="user42", process_in=60)

    assert info.state is TaskState.SCHEDULED
    assert raw_redis.hget(f"asynq:{{default}}:t:{info.id}", "group") == b"user42"


async def test_a_duplicate_and_a_taken_id_are_refused_with_asynqs_messages(
    client: Client,
) -> None:
    await client.enqueue(Task("dedupe", b"\xaa"), unique=timedelta(hours=1))
    await client.enqueue(Task("order"), task_id="order-123")

    with pytest.raises(DuplicateTaskError, match=r"^task already exists$"):
        await client.enqueue(Task("dedupe", b"\xaa"), unique=timedelta(hours=1))
    with pytest.raises(TaskIDConflictError, match=r"^task ID conflicts with another task$"):
        await client.enqueue(Task("order", b"2"), task_id="order-123")


async def test_a_nil_payload_and_an_empty_payload_have_different_locks(
    client: Client, raw_redis: redis.Redis
) -> None:
    await client.enqueue(Task("noop", None), unique=60)
    await client.enqueue(Task("noop", b""), unique=60)

    assert sorted(raw_redis.keys("asynq:{default}:unique:*")) == [
        b"asynq:{default}:unique:noop:",
        b"asynq:{default}:unique:noop:d41d8cd98f00b204e9800998ecf8427e",
    ]


@pytest.mark.parametrize(
    ("task", "options", "message"),
    [
        (Task("  "), {}, "task typename cannot be empty"),
        (Task("t"), {"queue": " "}, "queue name must contain one or more characters"),
        (Task("t"), {"task_id": ""}, "task ID cannot be empty"),
        (Task("t"), {"group": " "}, "group key cannot be empty"),
        (Task("t"), {"unique": 0.5}, "Unique TTL cannot be less than 1s"),
        (Task("t"), {"timeout": -1}, "timeout cannot be negative"),
        (Task("t"), {"process_at": NOW, "process_in": 5}, "not both"),
        (Task("t"), {"deadline": datetime(2030, 1, 1)}, "has no time zone"),
        (Task("t"), {"priority": 1}, "Unknown task option 'priority'"),
    ],
)
async def test_invalid_options_are_refused_before_anything_is_stored(
    client: Client, raw_redis: redis.Redis, task: Task, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        await client.enqueue(task, **options)

    assert raw_redis.keys("*") == []


async def test_enqueue_many_stores_every_kind_and_reports_refusals_in_order(
    client: Client, raw_redis: redis.Redis
) -> None:
    await client.enqueue(Task("old"), task_id="taken")
    tasks = [
        Task("a"),
        Task("b", options=TaskOptions(task_id="taken")),
        Task("c", options=TaskOptions(process_in=60)),
        Task("d", options=TaskOptions(group="g")),
        Task("e", b"x", options=TaskOptions(unique=60)),
        Task("e", b"x", options=TaskOptions(unique=60)),
        Task("f", options=TaskOptions(queue="low")),
    ]

    results = await client.enqueue_many(tasks)

    assert [type(r).__name__ for r in results] == [
        "TaskInfo",
        "TaskIDConflictError",
        "TaskInfo",
        "TaskInfo",
        "TaskInfo",
        "DuplicateTaskError",
        "TaskInfo",
    ]
    assert raw_redis.llen("asynq:{default}:pending") == 3
    assert raw_redis.zcard("asynq:{default}:scheduled") == 1
    assert raw_redis.zcard("asynq:{default}:g:g") == 1
    assert raw_redis.llen("asynq:{low}:pending") == 1
    assert raw_redis.smembers("asynq:queues") == {b"default", b"low"}


async def test_a_borrowed_broker_stays_open_after_the_client_closes(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    broker = RedisBroker.from_url(redis_url)

    async with Client(broker) as client:
        await client.enqueue(Task("t"))
    await broker.ping()

    await broker.close()
    assert raw_redis.llen("asynq:{default}:pending") == 1


def test_the_sync_client_enqueues_from_plain_threads(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    with SyncClient.from_url(redis_url) as client:
        threads = [
            threading.Thread(target=lambda: client.enqueue(Task("web"), queue="web"))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results = client.enqueue_many([Task("batch") for _ in range(5)], queue="web")

    assert all(not isinstance(r, Exception) for r in results)
    assert raw_redis.llen("asynq:{web}:pending") == 13
    client.close()


def test_the_sync_client_raises_the_same_errors(redis_url: str, raw_redis: redis.Redis) -> None:
    with SyncClient(redis_url) as client:
        client.enqueue(Task("t"), task_id="once")

        with pytest.raises(TaskIDConflictError):
            client.enqueue(Task("t"), task_id="once")
