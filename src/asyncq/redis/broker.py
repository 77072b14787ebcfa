"""The Redis implementation of :class:`asyncq.broker.Broker`.

Each method builds the keys and arguments of one script (``scripts/*.lua``) in the order
its header gives, through the typed wrappers of :mod:`asyncq.redis.scripts`, which also
turn return codes into typed errors and redis-py errors into
:class:`~asyncq.errors.BrokerError`. The steps that asynq's Go server performs before a
script (counting a retry, recording the error) happen here, so a worker only says what
happened.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from google.protobuf.message import DecodeError

from asyncq.broker import BatchOutcome, Dequeued
from asyncq.clock import SYSTEM_CLOCK, Clock
from asyncq.errors import ConfigError
from asyncq.proto import TaskMessage
from asyncq.redis import finish_batch, keys
from asyncq.redis import task_scripts as scripts
from asyncq.redis.connection import RedisConfig, connect, is_cluster
from asyncq.redis.group_ops import GroupOperations
from asyncq.redis.lane import Lane
from asyncq.redis.presence_ops import PresenceOperations
from asyncq.redis.scripts import (
    Call,
    CallBatcher,
    first_error,
    redis_errors_translated,
    run_pipeline,
)
from asyncq.redis.values import (
    chunks_by_queue,
    copy_message,
    counter_keys,
    lock_ttl,
    unique_lock,
    unix_ns,
)

logger = logging.getLogger("asyncq.broker")

MAX_INT64 = 9223372036854775807
DAY_S = 24 * 60 * 60


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """The protocol's constants, adjustable for tests and special deployments.

    lease_duration: seconds a dequeue or heartbeat leases a task for (default 30). Every
        server sharing a queue must use the same value: any recoverer reclaims a task whose
        lease ended more than this long ago.
    archive_max_size: most tasks an archive keeps per queue (default 10,000).
    archive_max_age_days: archived tasks older than this are deleted (default 90).
    stats_ttl_days: lifetime of a daily processed/failed counter (default 90).
    forward_batch_size: due tasks moved per script call by the forwarder (default 100).
    per_queue_dequeue: dequeue one queue per script call, as Redis Cluster requires when the
        queues live in different slots (default off: all queues in one call). A broker on a
        cluster client always does.
    """

    lease_duration: float = 30.0
    archive_max_size: int = 10_000
    archive_max_age_days: int = 90
    stats_ttl_days: int = 90
    forward_batch_size: int = 100
    per_queue_dequeue: bool = False

    def __post_init__(self) -> None:
        if self.lease_duration < 1:
            raise ConfigError(
                f"lease_duration must be at least 1 s, got {self.lease_duration}; "
                "the default is 30 s."
            )
        if self.archive_max_size < 1 or self.forward_batch_size < 1:
            raise ConfigError("archive_max_size and forward_batch_size must be at least 1.")


class RedisBroker(GroupOperations, PresenceOperations):
    """Every broker operation as one Redis round trip (or one pipeline).

    The producer and worker operations are here; the group operations come from
    :class:`~asyncq.redis.group_ops.GroupOperations` and the heartbeat records and pub/sub
    from :class:`~asyncq.redis.presence_ops.PresenceOperations`.

    On a Redis Cluster client (``cluster`` is then true) a script may touch one slot only:
    the queue is registered in ``asynq:queues`` by a command of its own before each enqueue
    script instead of inside it, and dequeue runs one script per queue.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        settings: BrokerSettings | None = None,
        clock: Clock = SYSTEM_CLOCK,
        owns_client: bool = True,
    ) -> None:
        self.client = client
        self.settings = settings or BrokerSettings()
        self.clock = clock
        self.lease_duration = self.settings.lease_duration
        self._owns_client = owns_client
        self._calls = CallBatcher(client)
        self.cluster = is_cluster(client)
        self._primed = Lane(client) if Lane.usable(client) else None

    @classmethod
    def from_url(
        cls,
        url: str | RedisConfig,
        settings: BrokerSettings | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> RedisBroker:
        """A broker with a client of its own, closed by :meth:`close`."""
        return cls(connect(url), settings, clock, owns_client=True)

    # --- producer side -----------------------------------------------------------------

    async def publish_queue(self, queue: str) -> None:
        with redis_errors_translated(f"registering queue {queue!r}"):
            await self.client.sadd(keys.ALL_QUEUES, queue)

    async def _queues_key(self, queue: str, first_key: str) -> str:
        """The ``queues_key`` an enqueue script gets: ``asynq:queues`` on a single node.

        On a cluster the queue is registered here first, and the script gets its first key
        again, which tells it to leave ``asynq:queues`` alone.
        """
        if not self.cluster:
            return keys.ALL_QUEUES
        await self.publish_queue(queue)
        return first_key

    async def enqueue(self, msg: TaskMessage, unique_ttl: int | None = None) -> None:
        q = msg.queue
        task_key = keys.task_key(q, msg.id)
        await self._run(
            scripts.enqueue(
                task_key=task_key,
                pending_key=keys.pending_key(q),
                queues_key=await self._queues_key(q, task_key),
                unique_key=unique_lock(msg, unique_ttl),
                msg=msg.SerializeToString(),
                task_id=msg.id,
                now_ns=unix_ns(self.clock.now()),
                queue=q,
                wakeup_channel=keys.WAKEUP_CHANNEL,
                lock_ttl=lock_ttl(unique_ttl),
            )
        )

    async def schedule(
        self, msg: TaskMessage, process_at: int, unique_ttl: int | None = None
    ) -> None:
        q = msg.queue
        task_key = keys.task_key(q, msg.id)
        await self._run(
            scripts.schedule(
                task_key=task_key,
                scheduled_key=keys.scheduled_key(q),
                queues_key=await self._queues_key(q, task_key),
                unique_key=unique_lock(msg, unique_ttl),
                msg=msg.SerializeToString(),
                process_at=int(process_at),
                task_id=msg.id,
                queue=q,
                group=msg.group_key,
                lock_ttl=lock_ttl(unique_ttl),
            )
        )

    async def add_to_group(
        self, msg: TaskMessage, group: str, unique_ttl: int | None = None
    ) -> None:
        q = msg.queue
        task_key = keys.task_key(q, msg.id)
        await self._run(
            scripts.add_to_group(
                task_key=task_key,
                group_key=keys.group_key(q, group),
                groups_key=keys.groups_key(q),
                queues_key=await self._queues_key(q, task_key),
                unique_key=unique_lock(msg, unique_ttl),
                msg=msg.SerializeToString(),
                task_id=msg.id,
                now=int(self.clock.now()),
                group=group,
                queue=q,
                lock_ttl=lock_ttl(unique_ttl),
            )
        )

    async def enqueue_batch(self, msgs: Sequence[TaskMessage]) -> BatchOutcome:
        """One script call per queue (chunks of at most 1,000 tasks), all in one pipeline."""
        now_ns = unix_ns(self.clock.now())
        chunks = chunks_by_queue(msgs, 1000)
        queues_keys = {
            queue: await self._queues_key(queue, keys.pending_key(queue)) for queue, _ in chunks
        }
        calls = [
            scripts.enqueue_batch(
                pending_key=keys.pending_key(queue),
                queues_key=queues_keys[queue],
                task_keys=[keys.task_key(queue, msgs[i].id) for i in chunk],
                now_ns=now_ns,
                queue=queue,
                wakeup_channel=keys.WAKEUP_CHANNEL,
                entries=[v for i in chunk for v in (msgs[i].id, msgs[i].SerializeToString())],
            )
            for queue, chunk in chunks
        ]

        replies = await run_pipeline(self.client, calls, "enqueuing a batch of tasks")
        first_error(replies)
        enqueued = [False] * len(msgs)
        for (_, chunk), reply in zip(chunks, replies, strict=True):
            for index, stored in zip(chunk, reply, strict=True):
                enqueued[index] = stored == 1
        return BatchOutcome(enqueued)

    # --- worker side -------------------------------------------------------------------

    async def dequeue(self, queues: Sequence[str], limit: int) -> list[Dequeued]:
        if limit < 1 or not queues:
            return []
        lease_expires_at = int(self.clock.now() + self.lease_duration)
        if not (self.settings.per_queue_dequeue or self.cluster):
            return await self._dequeue_from(queues, limit, lease_expires_at)
        leased: list[Dequeued] = []
        for queue in queues:
            leased += await self._dequeue_from([queue], limit - len(leased), lease_expires_at)
            if len(leased) >= limit:
                break
        return leased

    async def _dequeue_from(
        self, queues: Sequence[str], limit: int, lease_expires_at: int
    ) -> list[Dequeued]:
        reply = await self._run(_dequeue_call(queues, limit, lease_expires_at))
        return _leased(queues, reply, lease_expires_at)

    async def dequeue_when_ready(
        self, queue: str, limit: int, wait: float
    ) -> list[Dequeued] | None:
        """Wait up to ``wait`` seconds for a task in ``queue``, then lease up to ``limit``.

        One round trip on a connection of its own: BLMOVE from the pending list onto its own
        tail (which leaves the list as it was) blocks until the list holds a task, and the
        dequeue script sent behind it runs the moment it returns. An idle worker thus
        starts a task as soon as any producer, Go asynq's included, pushes one, without a
        wake-up message and a second round trip. Returns [] when nothing came within
        ``wait``, and None when the queue holds tasks that cannot be leased (it is paused)
        or this client cannot wait so (Redis Cluster).
        """
        if self._primed is None:
            return None
        lease_expires_at = int(self.clock.now() + self.lease_duration)
        pending = keys.pending_key(queue)
        call = _dequeue_call([queue], limit, lease_expires_at)
        with redis_errors_translated(f"waiting for tasks in queue {queue!r}"):
            arrived, reply = await self._primed.send(
                [["BLMOVE", pending, pending, "RIGHT", "RIGHT", wait], call.command()], wait
            )
        if isinstance(reply, Exception):
            return await self.dequeue([queue], limit) if arrived is not None else []
        if arrived is not None and not reply:
            return None
        return _leased([queue], call.outcome_or_raise(reply), lease_expires_at)

    async def done(self, msg: TaskMessage) -> None:
        await self._run(self._done_call(msg))

    async def done_many(self, msgs: Sequence[TaskMessage]) -> list[BaseException | None]:
        """One done_batch call per queue, all in one pipeline; each task's outcome on its own."""
        return await self._finish_many(msgs, keep_completed=False)

    async def succeed_many(self, msgs: Sequence[TaskMessage]) -> list[BaseException | None]:
        """Like :meth:`done_many`, but a task with a retention is kept as completed."""
        return await self._finish_many(msgs, keep_completed=True)

    async def _finish_many(
        self, msgs: Sequence[TaskMessage], keep_completed: bool
    ) -> list[BaseException | None]:
        now = self.clock.now()
        counting = finish_batch.Counting(now, self._stats_expire_at(now), MAX_INT64)
        batches = finish_batch.batches(msgs, counting, keep_completed)
        replies = await self._calls.outcomes([batch.call for batch in batches])
        return finish_batch.outcomes(msgs, batches, replies)

    def _done_call(self, msg: TaskMessage) -> Call:
        q, now = msg.queue, self.clock.now()
        return scripts.done(
            active_key=keys.active_key(q),
            lease_key=keys.lease_key(q),
            task_key=keys.task_key(q, msg.id),
            processed_day_key=keys.processed_key(q, now),
            processed_total_key=keys.processed_total_key(q),
            unique_key=msg.unique_key or None,
            task_id=msg.id,
            stats_expire_at=self._stats_expire_at(now),
            max_int64=MAX_INT64,
        )

    async def mark_as_complete(self, msg: TaskMessage) -> None:
        q, now = msg.queue, self.clock.now()
        completed = copy_message(msg)
        completed.completed_at = int(now)
        await self._run(
            scripts.mark_as_complete(
                active_key=keys.active_key(q),
                lease_key=keys.lease_key(q),
                completed_key=keys.completed_key(q),
                task_key=keys.task_key(q, msg.id),
                processed_day_key=keys.processed_key(q, now),
                processed_total_key=keys.processed_total_key(q),
                unique_key=msg.unique_key or None,
                task_id=msg.id,
                stats_expire_at=self._stats_expire_at(now),
                expire_at=int(now) + msg.retention,
                msg=completed.SerializeToString(),
                max_int64=MAX_INT64,
            )
        )

    async def requeue(self, msg: TaskMessage) -> None:
        q = msg.queue
        await self._run(
            scripts.requeue(
                active_key=keys.active_key(q),
                lease_key=keys.lease_key(q),
                pending_key=keys.pending_key(q),
                task_key=keys.task_key(q, msg.id),
                task_id=msg.id,
                now_ns=unix_ns(self.clock.now()),
                queue=q,
                wakeup_channel=keys.WAKEUP_CHANNEL,
            )
        )

    async def retry(self, msg: TaskMessage, retry_at: float, error: str, is_failure: bool) -> None:
        q, now = msg.queue, self.clock.now()
        failed = copy_message(msg)
        if is_failure:
            failed.retried += 1
        failed.error_msg = error
        failed.last_failed_at = int(now)
        await self._run(
            scripts.retry(
                task_key=keys.task_key(q, msg.id),
                active_key=keys.active_key(q),
                lease_key=keys.lease_key(q),
                retry_key=keys.retry_key(q),
                **counter_keys(q, now),
                task_id=msg.id,
                msg=failed.SerializeToString(),
                retry_at=int(retry_at),
                stats_expire_at=self._stats_expire_at(now),
                is_failure=is_failure,
                max_int64=MAX_INT64,
            )
        )

    async def archive(self, msg: TaskMessage, error: str) -> None:
        failed = copy_message(msg)
        failed.error_msg = error
        failed.last_failed_at = int(self.clock.now())
        await self._archive(msg.queue, msg.id, failed.SerializeToString(), "")

    async def archive_corrupt(self, queue: str, task_id: str, reason: str) -> None:
        await self._archive(queue, task_id, b"", reason)
        logger.warning(
            "Archived a task whose message cannot be decoded: queue=%s task_id=%s reason=%s",
            queue,
            task_id,
            reason,
        )

    async def _archive(self, queue: str, task_id: str, msg: bytes, decode_error: str) -> None:
        now = self.clock.now()
        await self._run(
            scripts.archive(
                task_key=keys.task_key(queue, task_id),
                active_key=keys.active_key(queue),
                lease_key=keys.lease_key(queue),
                archived_key=keys.archived_key(queue),
                **counter_keys(queue, now),
                task_id=task_id,
                msg=msg,
                now=int(now),
                cutoff=int(now) - self.settings.archive_max_age_days * DAY_S,
                max_size=self.settings.archive_max_size,
                stats_expire_at=self._stats_expire_at(now),
                max_int64=MAX_INT64,
                task_key_prefix=keys.task_key_prefix(queue),
                decode_error=decode_error,
            )
        )

    def _stats_expire_at(self, now: float) -> int:
        return int(now) + self.settings.stats_ttl_days * DAY_S

    async def extend_leases(self, queue: str, task_ids: Sequence[str]) -> float:
        expires_at = int(self.clock.now() + self.lease_duration)
        if task_ids:
            with redis_errors_translated(f"extending leases in queue {queue!r}"):
                await self.client.zadd(
                    keys.lease_key(queue), dict.fromkeys(task_ids, expires_at), xx=True
                )
        return float(expires_at)

    async def forward_if_ready(self, queues: Sequence[str]) -> int:
        moved = 0
        for queue in queues:
            for source_key in (keys.scheduled_key(queue), keys.retry_key(queue)):
                moved += await self._forward_all(queue, source_key)
        return moved

    async def _forward_all(self, queue: str, source_key: str) -> int:
        moved = 0
        limit = self.settings.forward_batch_size
        while True:
            now = self.clock.now()
            batch = await self._run(
                scripts.forward(
                    source_key=source_key,
                    pending_key=keys.pending_key(queue),
                    groups_key=keys.groups_key(queue),
                    now=int(now),
                    task_key_prefix=keys.task_key_prefix(queue),
                    now_ns=unix_ns(now),
                    group_key_prefix=keys.group_key_prefix(queue),
                    limit=limit,
                    queue=queue,
                    wakeup_channel=keys.WAKEUP_CHANNEL,
                )
            )
            moved += int(batch)
            if batch < limit:
                return moved

    async def delete_expired_completed(self, queue: str, batch_size: int) -> int:
        deleted = 0
        while True:
            batch = await self._run(
                scripts.delete_expired_completed(
                    completed_key=keys.completed_key(queue),
                    now=int(self.clock.now()),
                    task_key_prefix=keys.task_key_prefix(queue),
                    batch_size=batch_size,
                )
            )
            deleted += int(batch)
            if batch < batch_size:
                return deleted

    async def list_lease_expired(self, queues: Sequence[str], cutoff: float) -> list[TaskMessage]:
        expired: list[TaskMessage] = []
        for queue in queues:
            found = await self._run(
                scripts.list_lease_expired(
                    lease_key=keys.lease_key(queue),
                    active_key=keys.active_key(queue),
                    cutoff=int(cutoff),
                    task_key_prefix=keys.task_key_prefix(queue),
                )
            )
            for i in range(0, len(found), 2):
                task_id, raw = found[i].decode(), found[i + 1]
                leased = _decoded(queue, task_id, raw, 0)
                if leased.decode_error is None:
                    expired.append(leased.message)
                else:
                    await self.archive_corrupt(queue, task_id, leased.decode_error)
        return expired

    async def write_result(self, queue: str, task_id: str, data: bytes) -> int:
        written = await self._run(
            scripts.write_result(task_key=keys.task_key(queue, task_id), result=data)
        )
        return int(written)

    # --- connection --------------------------------------------------------------------

    async def _run(self, call: Call) -> Any:
        """Run one script call; calls made at the same moment share a round trip."""
        return await self._calls.run(call)

    async def ping(self) -> None:
        with redis_errors_translated("pinging Redis"):
            await self.client.ping()

    async def close(self) -> None:
        if self._owns_client:
            with redis_errors_translated("closing the Redis connection"):
                await self.client.aclose()


def _dequeue_call(queues: Sequence[str], limit: int, lease_expires_at: int) -> Call:
    queue_keys = [
        key
        for q in queues
        for key in (keys.pending_key(q), keys.paused_key(q), keys.active_key(q), keys.lease_key(q))
    ]
    return scripts.dequeue(
        queue_keys=queue_keys,
        lease_expires_at=lease_expires_at,
        limit=limit,
        task_key_prefixes=[keys.task_key_prefix(q) for q in queues],
    )


def _leased(queues: Sequence[str], reply: Any, lease_expires_at: float) -> list[Dequeued]:
    """The tasks a dequeue reply lists as (queue position, ID, msg) triples, flattened."""
    leased: list[Dequeued] = []
    for i in range(0, len(reply), 3):
        queue, task_id, raw = queues[int(reply[i]) - 1], reply[i + 1].decode(), reply[i + 2]
        if raw is None:
            logger.warning(
                "Dropped task id=%s from queue %s: its ID was pending but its task hash "
                "is gone, so there is nothing to run.",
                task_id, queue,
            )  # fmt: skip
            continue
        leased.append(_decoded(queue, task_id, raw, lease_expires_at))
    return leased


def _decoded(queue: str, task_id: str, raw: bytes, lease_expires_at: float) -> Dequeued:
    """The leased task, or a Dequeued that says why its message cannot be used."""
    if not raw:
        reason = "the task hash has no msg field"
        return Dequeued(TaskMessage(id=task_id, queue=queue), lease_expires_at, raw, reason)
    try:
        message = TaskMessage.FromString(raw)
    except DecodeError as exc:
        reason = f"the stored message is not a valid TaskMessage ({exc})"
    else:
        if message.id == task_id and message.queue == queue:
            return Dequeued(message, lease_expires_at, raw)
        reason = (
            f"the stored message belongs to task {message.id!r} in queue {message.queue!r}, "
            f"not to task {task_id!r} in queue {queue!r}"
        )
    return Dequeued(TaskMessage(id=task_id, queue=queue), lease_expires_at, raw, reason)
