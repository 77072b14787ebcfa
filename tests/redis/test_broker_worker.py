"""The worker side of the Redis broker: dequeue and every way a leased task ends, key by key."""

from __future__ import annotations

import re

import pytest
import redis
from broker_state import dump, message
from conftest import NOW

from asyncq.clock import ManualClock
from asyncq.errors import BrokerError, TaskNotActiveError
from asyncq.proto import TaskMessage
from asyncq.redis import keys
from asyncq.redis.broker import MAX_INT64, BrokerSettings, RedisBroker

NOW_S = int(NOW)
NOW_NS = 1_800_000_000_250_000_000
DAY = "2027-01-15"
STATS_EXPIRE_AT = NOW_S + 90 * 24 * 3600
UNIQUE = keys.unique_key("default", "email:send", b'{"user_id":42}')


async def leased(broker: RedisBroker, *msgs: TaskMessage) -> list[TaskMessage]:
    """Enqueue and dequeue ``msgs``; their messages as the worker holds them."""
    for msg in msgs:
        await broker.enqueue(msg, 60 if msg.unique_key else None)
    taken = await broker.dequeue(sorted({m.queue for m in msgs}), len(msgs))
    assert len(taken) == len(msgs)
    return [d.message for d in taken]


def active_hash(msg: TaskMessage, **extra: str) -> dict[str, object]:
    return {"msg": msg, "state": "active", **extra}


# --- dequeue ----------------------------------------------------------------------------------


async def test_dequeue_leases_the_oldest_pending_task(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    first, second = message(), message()
    await broker.enqueue(first)
    await broker.enqueue(second)

    (taken,) = await broker.dequeue(["default"], 1)

    assert (taken.message, taken.lease_expires_at, taken.decode_error) == (first, NOW_S + 30, None)
    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:pending": [second.id],
        "asynq:{default}:active": [first.id],
        "asynq:{default}:lease": [(first.id, NOW_S + 30)],
        f"asynq:{{default}}:t:{first.id}": active_hash(first),
        f"asynq:{{default}}:t:{second.id}": {
            "msg": second,
            "state": "pending",
            "pending_since": str(NOW_NS),
        },
    }


async def test_dequeue_tries_queues_in_order_and_never_leases_more_than_the_limit(
    broker: RedisBroker,
) -> None:
    critical = [message(queue="critical") for _ in range(2)]
    default = [message() for _ in range(2)]
    for msg in critical + default:
        await broker.enqueue(msg)

    taken = await broker.dequeue(["critical", "default"], 3)

    assert [d.message for d in taken] == [*critical, default[0]]


async def test_dequeue_skips_paused_queues_and_returns_nothing_when_all_are_empty(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    await broker.enqueue(message(queue="paused"))
    raw_redis.set("asynq:{paused}:paused", NOW_S)

    assert await broker.dequeue(["paused", "default"], 5) == []
    assert raw_redis.llen("asynq:{paused}:pending") == 1


async def test_dequeue_drops_a_pending_id_whose_hash_is_gone_with_a_warning(
    broker: RedisBroker, raw_redis: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    real = message()
    await broker.enqueue(real)
    raw_redis.lpush("asynq:{default}:pending", "ghost")

    taken = await broker.dequeue(["default"], 5)

    assert [d.message for d in taken] == [real]
    state = dump(raw_redis)
    assert state["asynq:{default}:active"] == [real.id]
    assert state["asynq:{default}:lease"] == [(real.id, NOW_S + 30)]
    assert "asynq:{default}:pending" not in state
    assert "Dropped task id=ghost from queue default" in caplog.text


async def test_a_task_hash_without_msg_is_leased_to_be_archived_with_the_reason(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    raw_redis.hset("asynq:{default}:t:no-msg", "state", "pending")
    raw_redis.lpush("asynq:{default}:pending", "no-msg")

    (taken,) = await broker.dequeue(["default"], 5)
    await broker.archive_corrupt("default", "no-msg", taken.decode_error or "")

    assert taken.decode_error == "the task hash has no msg field"
    assert raw_redis.hget("asynq:{default}:t:no-msg", "state") == b"archived"
    assert raw_redis.zscore("asynq:{default}:archived", "no-msg") == NOW_S


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xff\xff not protobuf", "not a valid TaskMessage"),
        (TaskMessage(id="someone-else", queue="default").SerializeToString(), "belongs to task"),
    ],
)
async def test_an_undecodable_task_is_leased_and_reported_with_its_raw_bytes(
    broker: RedisBroker, raw_redis: redis.Redis, raw: bytes, reason: str
) -> None:
    raw_redis.hset("asynq:{default}:t:bad", mapping={"msg": raw, "state": "pending"})
    raw_redis.lpush("asynq:{default}:pending", "bad")

    (taken,) = await broker.dequeue(["default"], 1)

    assert (taken.task_id, taken.queue, taken.raw) == ("bad", "default", raw)
    assert taken.decode_error is not None and reason in taken.decode_error
    assert raw_redis.zscore("asynq:{default}:lease", "bad") == NOW_S + 30


async def test_archive_corrupt_keeps_the_raw_bytes_and_the_reason_for_operators(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    raw_redis.hset("asynq:{default}:t:bad", mapping={"msg": b"\xff\xfe", "state": "pending"})
    raw_redis.lpush("asynq:{default}:pending", "bad")
    (taken,) = await broker.dequeue(["default"], 1)

    await broker.archive_corrupt("default", "bad", taken.decode_error or "")

    assert raw_redis.hgetall("asynq:{default}:t:bad") == {
        b"msg": b"\xff\xfe",
        b"state": b"archived",
        b"decode_error": (taken.decode_error or "").encode(),
    }
    assert raw_redis.zrange("asynq:{default}:archived", 0, -1, withscores=True) == [(b"bad", NOW_S)]
    assert raw_redis.llen("asynq:{default}:active") == raw_redis.zcard("asynq:{default}:lease") == 0
    assert raw_redis.get(f"asynq:{{default}}:failed:{DAY}") == b"1"


async def test_dequeue_one_queue_per_call_leaves_the_same_state(
    redis_url: str, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    broker = RedisBroker.from_url(redis_url, BrokerSettings(per_queue_dequeue=True), clock)
    msgs = [message(queue="a"), message(queue="b"), message(queue="b")]
    for msg in msgs:
        await broker.enqueue(msg)

    taken = await broker.dequeue(["b", "a"], 2)
    await broker.close()

    assert [d.message for d in taken] == [msgs[1], msgs[2]]
    assert raw_redis.lrange("asynq:{b}:active", 0, -1) == [msgs[2].id.encode(), msgs[1].id.encode()]
    assert raw_redis.llen("asynq:{a}:pending") == 1


# --- success ----------------------------------------------------------------------------------


async def test_done_deletes_the_task_counts_it_and_releases_its_lock(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message(unique_key=UNIQUE))

    await broker.done(msg)

    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        f"asynq:{{default}}:processed:{DAY}": "1",
        "asynq:{default}:processed": "1",
    }
    assert raw_redis.expiretime(f"asynq:{{default}}:processed:{DAY}") == STATS_EXPIRE_AT


async def test_done_keeps_a_lock_that_another_task_holds_now(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message(unique_key=UNIQUE))
    raw_redis.set(UNIQUE, "another-task")

    await broker.done(msg)

    assert raw_redis.get(UNIQUE) == b"another-task"


async def test_a_daily_counter_gets_its_expiry_only_when_created(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message())
    raw_redis.set(f"asynq:{{default}}:processed:{DAY}", 5)

    await broker.done(msg)

    assert raw_redis.get(f"asynq:{{default}}:processed:{DAY}") == b"6"
    assert raw_redis.ttl(f"asynq:{{default}}:processed:{DAY}") == -1


async def test_finishing_a_task_that_is_no_longer_leased_writes_nothing(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message())
    raw_redis.zrem("asynq:{default}:lease", msg.id)
    before = dump(raw_redis)

    for finish in (
        broker.done(msg),
        broker.mark_as_complete(msg),
        broker.requeue(msg),
        broker.retry(msg, NOW_S + 60, "boom", True),
        broker.archive(msg, "boom"),
    ):
        with pytest.raises(TaskNotActiveError, match=f"Task {msg.id} is not active"):
            await finish

    assert dump(raw_redis) == before


async def test_done_many_finishes_each_task_and_reports_the_ones_not_leased(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    first, second = await leased(broker, message(), message())
    stranger = message()

    outcomes = await broker.done_many([first, second, stranger])

    assert outcomes[:2] == [None, None]
    assert isinstance(outcomes[2], TaskNotActiveError)
    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        f"asynq:{{default}}:processed:{DAY}": "2",
        "asynq:{default}:processed": "2",
    }


async def test_mark_as_complete_keeps_the_task_for_its_retention(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message(retention=3600, unique_key=UNIQUE))

    await broker.mark_as_complete(msg)

    completed = TaskMessage()
    completed.CopyFrom(msg)
    completed.completed_at = NOW_S
    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:completed": [(msg.id, NOW_S + 3600)],
        f"asynq:{{default}}:t:{msg.id}": {
            "msg": completed,
            "state": "completed",
            "unique_key": UNIQUE,
        },
        f"asynq:{{default}}:processed:{DAY}": "1",
        "asynq:{default}:processed": "1",
    }


async def test_mark_as_complete_refuses_an_id_already_completed_and_writes_nothing(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message(retention=60))
    raw_redis.zadd("asynq:{default}:completed", {msg.id: 1})
    before = dump(raw_redis)

    with pytest.raises(BrokerError, match=re.escape("already in asynq:{default}:completed")):
        await broker.mark_as_complete(msg)

    assert dump(raw_redis) == before


# --- requeue, retry, archive ------------------------------------------------------------------


async def test_requeue_puts_the_task_next_in_line_and_counts_nothing(
    broker: RedisBroker, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    waiting = message()
    (msg,) = await leased(broker, message())
    await broker.enqueue(waiting)
    clock.advance(7)

    await broker.requeue(msg)

    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:pending": [waiting.id, msg.id],
        f"asynq:{{default}}:t:{msg.id}": {
            "msg": msg,
            "state": "pending",
            "pending_since": str(NOW_NS + 7_000_000_000),
        },
        f"asynq:{{default}}:t:{waiting.id}": {
            "msg": waiting,
            "state": "pending",
            "pending_since": str(NOW_NS),
        },
    }


async def test_a_failed_attempt_is_retried_later_counted_and_its_lock_kept(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message(unique_key=UNIQUE, retried=2))

    await broker.retry(msg, NOW + 45.9, "ValueError: bad id", is_failure=True)

    failed = TaskMessage()
    failed.CopyFrom(msg)
    failed.retried, failed.error_msg, failed.last_failed_at = 3, "ValueError: bad id", NOW_S
    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:retry": [(msg.id, NOW_S + 46)],
        f"asynq:{{default}}:t:{msg.id}": {"msg": failed, "state": "retry", "unique_key": UNIQUE},
        UNIQUE: msg.id,
        f"asynq:{{default}}:processed:{DAY}": "1",
        f"asynq:{{default}}:failed:{DAY}": "1",
        "asynq:{default}:processed": "1",
        "asynq:{default}:failed": "1",
    }
    assert raw_redis.expiretime(f"asynq:{{default}}:failed:{DAY}") == STATS_EXPIRE_AT


async def test_a_retry_that_is_not_a_failure_counts_nothing_and_keeps_the_retry_count(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message(retried=4))

    await broker.retry(msg, NOW + 10, "rate limited", is_failure=False)

    stored = TaskMessage.FromString(raw_redis.hget(f"asynq:{{default}}:t:{msg.id}", "msg") or b"")
    assert (stored.retried, stored.error_msg, stored.last_failed_at) == (4, "rate limited", NOW_S)
    assert not raw_redis.keys("asynq:{default}:processed*")
    assert not raw_redis.keys("asynq:{default}:failed*")


async def test_totals_restart_at_one_together_when_processed_reaches_max_int64(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message())
    raw_redis.set("asynq:{default}:processed", MAX_INT64)
    raw_redis.set("asynq:{default}:failed", 7)

    await broker.retry(msg, NOW + 10, "boom", is_failure=True)

    assert raw_redis.mget("asynq:{default}:processed", "asynq:{default}:failed") == [b"1", b"1"]


async def test_archive_records_the_error_without_counting_a_retry(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message(unique_key=UNIQUE, retried=25))

    await broker.archive(msg, "asynq: task lease expired")

    archived = TaskMessage()
    archived.CopyFrom(msg)
    archived.error_msg, archived.last_failed_at = "asynq: task lease expired", NOW_S
    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:archived": [(msg.id, NOW_S)],
        f"asynq:{{default}}:t:{msg.id}": {
            "msg": archived,
            "state": "archived",
            "unique_key": UNIQUE,
        },
        UNIQUE: msg.id,
        f"asynq:{{default}}:processed:{DAY}": "1",
        f"asynq:{{default}}:failed:{DAY}": "1",
        "asynq:{default}:processed": "1",
        "asynq:{default}:failed": "1",
    }


async def test_the_archive_keeps_exactly_its_cap_and_deletes_what_it_trims(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    for i in range(5):
        raw_redis.zadd("asynq:{default}:archived", {f"old{i}": NOW_S - 100 + i})
        raw_redis.hset(f"asynq:{{default}}:t:old{i}", "state", "archived")
    (msg,) = await leased(broker, message())

    await broker.archive(msg, "boom")

    assert raw_redis.zrange("asynq:{default}:archived", 0, -1) == [
        b"old1",
        b"old2",
        b"old3",
        b"old4",
        msg.id.encode(),
    ]
    assert not raw_redis.exists("asynq:{default}:t:old0")
    assert raw_redis.exists("asynq:{default}:t:old1")


async def test_archived_tasks_older_than_90_days_are_deleted_with_their_hashes(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    cutoff = NOW_S - 90 * 24 * 3600
    raw_redis.zadd("asynq:{default}:archived", {"ancient": cutoff, "recent": cutoff + 1})
    raw_redis.hset("asynq:{default}:t:ancient", "state", "archived")
    raw_redis.hset("asynq:{default}:t:recent", "state", "archived")
    (msg,) = await leased(broker, message())

    await broker.archive(msg, "boom")

    assert raw_redis.zrange("asynq:{default}:archived", 0, -1) == [b"recent", msg.id.encode()]
    assert raw_redis.exists("asynq:{default}:t:ancient", "asynq:{default}:t:recent") == 1


# --- leases, forwarding, clean-up --------------------------------------------------------------


async def test_extend_leases_moves_only_existing_leases_forward(
    broker: RedisBroker, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    (msg,) = await leased(broker, message())
    clock.advance(20)

    expires_at = await broker.extend_leases("default", [msg.id, "finished-meanwhile"])

    assert expires_at == NOW_S + 50
    assert raw_redis.zrange("asynq:{default}:lease", 0, -1, withscores=True) == [
        (msg.id.encode(), NOW_S + 50)
    ]


async def test_forward_moves_due_tasks_to_pending_or_back_to_their_group(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    due, later, grouped = message(), message(), message(group_key="g1")
    await broker.schedule(due, NOW_S)
    await broker.schedule(later, NOW_S + 1)
    await broker.schedule(grouped, NOW_S - 5)
    raw_redis.zadd("asynq:{default}:retry", {"ghost": NOW_S - 1})

    moved = await broker.forward_if_ready(["default"])

    assert moved == 3
    assert dump(raw_redis) == {
        "asynq:queues": ["default"],
        "asynq:{default}:pending": [due.id],
        "asynq:{default}:scheduled": [(later.id, NOW_S + 1)],
        "asynq:{default}:g:g1": [(grouped.id, NOW_S)],
        "asynq:{default}:groups": ["g1"],
        f"asynq:{{default}}:t:{due.id}": {
            "msg": due,
            "state": "pending",
            "pending_since": str(NOW_NS),
        },
        f"asynq:{{default}}:t:{later.id}": {"msg": later, "state": "scheduled"},
        f"asynq:{{default}}:t:{grouped.id}": {
            "msg": grouped,
            "state": "aggregating",
            "group": "g1",
        },
    }


async def test_forward_keeps_calling_until_every_due_task_moved(
    redis_url: str, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    broker = RedisBroker.from_url(redis_url, BrokerSettings(forward_batch_size=2), clock)
    for _ in range(5):
        (msg,) = await leased(broker, message())
        await broker.retry(msg, NOW_S, "boom", is_failure=True)

    moved = await broker.forward_if_ready(["default"])
    await broker.close()

    assert moved == 5
    assert raw_redis.llen("asynq:{default}:pending") == 5
    assert not raw_redis.exists("asynq:{default}:retry")


async def test_expired_completed_tasks_are_deleted_in_batches(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    for i in range(5):
        raw_redis.zadd("asynq:{default}:completed", {f"c{i}": NOW_S - 1 + i})
        raw_redis.hset(f"asynq:{{default}}:t:c{i}", "state", "completed")

    deleted = await broker.delete_expired_completed("default", batch_size=1)

    assert deleted == 2
    assert raw_redis.zrange("asynq:{default}:completed", 0, -1) == [b"c2", b"c3", b"c4"]
    assert sorted(raw_redis.keys("asynq:{default}:t:*")) == [
        b"asynq:{default}:t:c2",
        b"asynq:{default}:t:c3",
        b"asynq:{default}:t:c4",
    ]


async def test_lease_expired_tasks_are_listed_and_orphan_entries_removed(
    broker: RedisBroker, raw_redis: redis.Redis, clock: ManualClock
) -> None:
    expired, alive = await leased(broker, message(), message())
    raw_redis.zadd("asynq:{default}:lease", {alive.id: NOW_S + 100, "orphan": NOW_S})
    raw_redis.lpush("asynq:{default}:active", "orphan")
    clock.advance(60)

    found = await broker.list_lease_expired(["default"], cutoff=NOW + 30)

    assert found == [expired]
    assert raw_redis.zrange("asynq:{default}:lease", 0, -1) == [
        expired.id.encode(),
        alive.id.encode(),
    ]
    assert b"orphan" not in raw_redis.lrange("asynq:{default}:active", 0, -1)


async def test_an_undecodable_lease_expired_task_is_archived_not_returned(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    raw_redis.hset("asynq:{default}:t:bad", mapping={"msg": b"\xff\xff", "state": "active"})
    raw_redis.lpush("asynq:{default}:active", "bad")
    raw_redis.zadd("asynq:{default}:lease", {"bad": NOW_S - 60})

    assert await broker.list_lease_expired(["default"], cutoff=NOW) == []

    assert raw_redis.hget("asynq:{default}:t:bad", "state") == b"archived"
    assert raw_redis.hget("asynq:{default}:t:bad", "msg") == b"\xff\xff"


async def test_a_result_is_stored_on_its_task_and_refused_once_the_task_is_gone(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    (msg,) = await leased(broker, message())

    written = await broker.write_result("default", msg.id, b"\x00report")

    assert written == 7
    assert raw_redis.hget(f"asynq:{{default}}:t:{msg.id}", "result") == b"\x00report"
    with pytest.raises(BrokerError, match="no longer exists"):
        await broker.write_result("default", "gone", b"late")
    assert not raw_redis.exists("asynq:{default}:t:gone")
