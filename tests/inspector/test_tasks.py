"""Reading and acting on single tasks and whole states through the inspector."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from asyncq.clock import ManualClock
from asyncq.errors import BrokerError, ConfigError, TaskNotFoundError, TaskStateError
from asyncq.inspector import Inspector
from asyncq.redis import keys
from asyncq.redis.admin import UPDATE_PAYLOAD
from asyncq.task import TaskState
from inspector.seeding import message, put_many, put_task


def at(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


async def test_pending_tasks_are_listed_in_the_order_they_will_run(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    ids = [await put_task(aio_redis, message(), TaskState.PENDING) for _ in range(5)]

    first = await inspector.list_tasks("default", "pending", page_size=2)
    last = await inspector.list_tasks("default", TaskState.PENDING, page=3, page_size=2)

    assert [t.id for t in first] == ids[:2]
    assert [t.id for t in last] == ids[4:]
    assert all(t.next_process_at == at(clock.now()) for t in first)


async def test_a_queue_of_ten_thousand_tasks_is_paged_in_the_right_slices(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    now = clock.now()
    await put_many(aio_redis, TaskState.SCHEDULED, 10_000, "task", first_score=now)

    middle = await inspector.list_tasks("default", "scheduled", page=7, page_size=100)
    last = await inspector.list_tasks("default", "scheduled", page=40, page_size=250)
    beyond = await inspector.list_tasks("default", "scheduled", page=41, page_size=250)

    assert [t.id for t in middle] == [f"task-{i:05d}" for i in range(600, 700)]
    assert [t.id for t in last] == [f"task-{i:05d}" for i in range(9_750, 10_000)]
    assert last[0].next_process_at == at(now + 9_750)
    assert beyond == []


async def test_zset_states_are_listed_by_ascending_score(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    now = clock.now()
    late = await put_task(aio_redis, message(), TaskState.RETRY, score=now + 50)
    soon = await put_task(aio_redis, message(), TaskState.RETRY, score=now + 5)

    tasks = await inspector.list_tasks("default", "retry")

    assert [(t.id, t.next_process_at) for t in tasks] == [
        (soon, at(now + 5)),
        (late, at(now + 50)),
    ]


async def test_active_tasks_whose_lease_ran_out_are_flagged_orphaned(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    now = clock.now()
    lost = await put_task(aio_redis, message(), TaskState.ACTIVE, score=now - 1)
    alive = await put_task(aio_redis, message(), TaskState.ACTIVE, score=now + 30)

    tasks = await inspector.list_tasks("default", "active")

    assert [(t.id, t.is_orphaned) for t in tasks] == [(lost, True), (alive, False)]


async def test_listing_skips_a_task_whose_record_vanished(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    gone = await put_task(aio_redis, message(), TaskState.PENDING)
    kept = await put_task(aio_redis, message(), TaskState.PENDING)
    await aio_redis.delete(keys.task_key("default", gone))

    tasks = await inspector.list_tasks("default", "pending")

    assert [t.id for t in tasks] == [kept]


async def test_aggregating_tasks_are_listed_per_group(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    mine = await put_task(aio_redis, message(group_key="g1"), TaskState.AGGREGATING, group="g1")
    await put_task(aio_redis, message(group_key="g2"), TaskState.AGGREGATING, group="g2")

    tasks = await inspector.list_tasks("default", "aggregating", group="g1")

    assert [(t.id, t.group) for t in tasks] == [(mine, "g1")]
    with pytest.raises(ConfigError, match="name the group"):
        await inspector.list_tasks("default", "aggregating")


async def test_task_info_includes_the_result_and_the_due_time(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    due = clock.now() + 90
    task_id = await put_task(
        aio_redis, message(retried=2, error_msg="boom", last_failed_at=int(clock.now())),
        TaskState.RETRY, score=due,
    )  # fmt: skip
    await aio_redis.hset(keys.task_key("default", task_id), "result", b"\x00\x01")

    info = await inspector.get_task_info("default", task_id)

    assert (info.state, info.retried, info.last_err) == (TaskState.RETRY, 2, "boom")
    assert info.next_process_at == at(due)
    assert info.last_failed_at == at(clock.now())
    assert info.result == b"\x00\x01"
    with pytest.raises(TaskNotFoundError, match='no task "missing" in queue "default"'):
        await inspector.get_task_info("default", "missing")


async def test_running_a_retry_task_makes_it_pending_with_pending_since(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    task_id = await put_task(aio_redis, message(), TaskState.RETRY, score=clock.now() + 60)

    await inspector.run_task("default", task_id)

    record = await aio_redis.hgetall(keys.task_key("default", task_id))
    assert record[b"state"] == b"pending"
    assert int(record[b"pending_since"]) == int(clock.now() * 1e9)
    assert await aio_redis.lrange(keys.pending_key("default"), 0, -1) == [task_id.encode()]
    assert await aio_redis.zcard(keys.retry_key("default")) == 0


async def test_running_a_pending_or_active_task_is_refused(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    pending = await put_task(aio_redis, message(), TaskState.PENDING)
    active = await put_task(aio_redis, message(), TaskState.ACTIVE, score=clock.now() + 30)

    with pytest.raises(TaskStateError, match="already pending"):
        await inspector.run_task("default", pending)
    with pytest.raises(TaskStateError, match="is running"):
        await inspector.run_task("default", active)


async def test_running_the_last_task_of_a_group_forgets_the_group(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    task_id = await put_task(aio_redis, message(), TaskState.AGGREGATING, group="g")

    await inspector.run_task("default", task_id)

    assert await aio_redis.smembers(keys.groups_key("default")) == set()
    assert await aio_redis.llen(keys.pending_key("default")) == 1


async def test_archiving_a_pending_task_keeps_its_message(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    msg = message()
    task_id = await put_task(aio_redis, msg, TaskState.PENDING)

    await inspector.archive_task("default", task_id)

    record = await aio_redis.hgetall(keys.task_key("default", task_id))
    assert record[b"state"] == b"archived"
    assert record[b"msg"] == msg.SerializeToString()
    assert await aio_redis.zscore(keys.archived_key("default"), task_id) == int(clock.now())
    assert await aio_redis.llen(keys.pending_key("default")) == 0
    with pytest.raises(TaskStateError, match="already archived"):
        await inspector.archive_task("default", task_id)


async def test_the_archive_keeps_exactly_ten_thousand_and_deletes_what_it_trims(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    await put_many(aio_redis, TaskState.ARCHIVED, 10_000, "old", clock.now() - 10_000)
    newest = await put_task(aio_redis, message(), TaskState.PENDING)

    await inspector.archive_task("default", newest)

    assert await aio_redis.zcard(keys.archived_key("default")) == 10_000
    assert await aio_redis.zscore(keys.archived_key("default"), "old-00000") is None
    assert not await aio_redis.exists(keys.task_key("default", "old-00000"))
    assert await aio_redis.exists(keys.task_key("default", "old-00001"))


async def test_archive_entries_older_than_ninety_days_are_dropped_with_their_records(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    ancient = await put_task(
        aio_redis, message(), TaskState.ARCHIVED, score=clock.now() - 91 * 86_400
    )
    await put_task(aio_redis, message(), TaskState.PENDING)

    archived = await inspector.archive_all_tasks("default", "pending")

    assert archived == 1
    assert await aio_redis.zscore(keys.archived_key("default"), ancient) is None
    assert not await aio_redis.exists(keys.task_key("default", ancient))


async def test_deleting_a_task_releases_the_lock_it_holds(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    unique = keys.unique_key("default", "email:send", b"x")
    task_id = await put_task(
        aio_redis, message(payload=b"x", unique_key=unique), TaskState.SCHEDULED,
        score=clock.now() + 3600,
    )  # fmt: skip
    await aio_redis.set(unique, task_id, ex=3720)

    await inspector.delete_task("default", task_id)

    assert not await aio_redis.exists(unique)
    assert not await aio_redis.exists(keys.task_key("default", task_id))
    assert await aio_redis.zcard(keys.scheduled_key("default")) == 0


async def test_an_active_task_cannot_be_deleted_or_archived(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    task_id = await put_task(aio_redis, message(), TaskState.ACTIVE, score=clock.now() + 30)

    with pytest.raises(TaskStateError, match="cancel it instead"):
        await inspector.delete_task("default", task_id)
    with pytest.raises(TaskStateError, match="cancel it instead"):
        await inspector.archive_task("default", task_id)
    assert await aio_redis.exists(keys.task_key("default", task_id))


async def test_run_all_moves_a_whole_state_to_pending(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    first = await put_task(aio_redis, message(), TaskState.ARCHIVED, score=clock.now() - 9)
    second = await put_task(aio_redis, message(), TaskState.ARCHIVED, score=clock.now())

    moved = await inspector.run_all_tasks("default", "archived")

    assert moved == 2
    pending = await inspector.list_tasks("default", "pending")
    assert [t.id for t in pending] == [first, second]
    assert await aio_redis.exists(keys.archived_key("default")) == 0


async def test_delete_all_removes_records_and_releases_locks(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    unique = keys.unique_key("default", "email:send", b"y")
    locked = await put_task(aio_redis, message(payload=b"y", unique_key=unique), TaskState.PENDING)
    await aio_redis.set(unique, locked)
    other = await put_task(aio_redis, message(), TaskState.PENDING)

    deleted = await inspector.delete_all_tasks("default", "pending")

    assert deleted == 2
    assert not await aio_redis.exists(unique, keys.task_key("default", other))
    assert not await aio_redis.exists(keys.pending_key("default"))


async def test_archive_all_of_a_group_empties_and_forgets_it(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    for _ in range(3):
        await put_task(aio_redis, message(), TaskState.AGGREGATING, group="g")

    archived = await inspector.archive_all_tasks("default", "aggregating", group="g")

    assert archived == 3
    assert await aio_redis.zcard(keys.archived_key("default")) == 3
    assert await inspector.groups("default") == []


async def test_operations_refuse_states_they_do_not_apply_to(inspector: Inspector) -> None:
    with pytest.raises(ConfigError, match="does not apply to active"):
        await inspector.delete_all_tasks("default", "active")
    with pytest.raises(ConfigError, match="does not apply to pending"):
        await inspector.run_all_tasks("default", "pending")
    with pytest.raises(ConfigError, match='"done" is not a task state'):
        await inspector.list_tasks("default", "done")


async def test_a_scheduled_task_gets_a_new_payload_and_keeps_the_rest(
    inspector: Inspector, aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    task_id = await put_task(aio_redis, message(retry=3), TaskState.SCHEDULED, score=clock.now())

    info = await inspector.update_task_payload("default", task_id, b'{"user_id":7}')

    assert (info.payload, info.max_retry, info.state) == (b'{"user_id":7}', 3, TaskState.SCHEDULED)
    pending = await put_task(aio_redis, message(), TaskState.PENDING)
    with pytest.raises(TaskStateError, match="not scheduled"):
        await inspector.update_task_payload("default", pending, b"")


async def test_cancel_publishes_the_task_id(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    async with aio_redis.pubsub() as pubsub:
        await pubsub.subscribe(keys.CANCEL_CHANNEL)
        await pubsub.get_message(timeout=1)

        listeners = await inspector.cancel_processing("task-1")
        received = await pubsub.get_message(timeout=2)

    assert listeners == 1
    assert received is not None
    assert received["data"] == b"task-1"


async def test_an_unreadable_record_is_listed_with_the_reason_and_named_when_fetched(
    inspector: Inspector, aio_redis: aioredis.Redis
) -> None:
    broken = await put_task(aio_redis, message(), TaskState.PENDING)
    kept = await put_task(aio_redis, message(), TaskState.PENDING)
    await aio_redis.hset(keys.task_key("default", broken), "msg", b"\xff\xff\xff")

    listed = await inspector.list_tasks("default", "pending")

    assert (listed[1].id, listed[1].type) == (kept, "email:send")
    assert (listed[0].id, listed[0].type) == (broken, "")
    assert "cannot be decoded" in listed[0].last_err
    with pytest.raises(BrokerError, match="cannot be read"):
        await inspector.get_task_info("default", broken)


async def test_a_payload_update_is_refused_when_the_message_changed_since_it_was_read(
    aio_redis: aioredis.Redis, clock: ManualClock
) -> None:
    msg = message()
    task_id = await put_task(aio_redis, msg, TaskState.SCHEDULED, score=clock.now())
    task_key = keys.task_key("default", task_id)
    replacement = message(id=task_id, payload=b"new").SerializeToString()

    stale = await UPDATE_PAYLOAD(aio_redis, [task_key], [b"what was read earlier", replacement])
    fresh = await UPDATE_PAYLOAD(aio_redis, [task_key], [msg.SerializeToString(), replacement])

    assert (stale, fresh) == (-2, 1)
    assert await aio_redis.hget(task_key, "msg") == replacement
