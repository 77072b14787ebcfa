"""The scheduler's records in Redis, behind one small class.

What Go asynq's tools read, written exactly as Go writes it:

* ``asynq:schedulers`` (ZSET of entries keys, score = expiry) and
  ``asynq:schedulers:{<scheduler ID>}`` (LIST of ``SchedulerEntry``), so that ``asynq cron
  ls`` and the web UI list the entries;
* ``asynq:scheduler_history:<entry ID>`` (ZSET of ``SchedulerEnqueueEvent``, at most 1000).

What only asyncq schedulers read:

* ``asynq:{Q}:scheduler_fired`` (HASH entry ID -> newest handled tick, in the entry's queue
  slot): the per-fire lock and the durable "last fired" record in one, see
  ``schedule_fire.lua``;
* ``asynq:scheduler_publisher`` (STRING with a TTL): the lease naming the one scheduler
  that publishes the entries list;
* ``asynq:scheduler_instances`` (ZSET of scheduler IDs, score = expiry): which schedulers
  are alive, so that the last one to stop clears the shared history.

Every method raises :class:`~asyncq.errors.BrokerError` when Redis fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

import redis.asyncio as aioredis

from asyncq.proto import SchedulerEnqueueEvent, SchedulerEntry, TaskMessage
from asyncq.redis import keys
from asyncq.redis.scripts import Arg, Script, redis_errors_translated

MAX_HISTORY_EVENTS = 1000

PUBLISHER_LEASE_KEY = "asynq:scheduler_publisher"
SCHEDULER_INSTANCES_KEY = "asynq:scheduler_instances"


def scheduler_fired_key(queue: str) -> str:
    """The HASH of newest handled ticks of the entries that enqueue into ``queue``."""
    return f"{keys.queue_prefix(queue)}scheduler_fired"


class FireResult(IntEnum):
    """What ``schedule_fire.lua`` did with a tick."""

    ENQUEUED = 1
    ALREADY_HANDLED = 0
    TOO_LATE = -1
    TASK_ID_CONFLICT = -2
    DUPLICATE_TASK = -3
    SKIPPED = 2


class FireMode(StrEnum):
    """How ``schedule_fire.lua`` treats a tick that no scheduler has handled yet."""

    FIRE = "fire"
    """Enqueue, unless the tick lags Redis time by more than the allowed lateness."""
    CATCH_UP = "catch_up"
    """Enqueue however late the tick is: the run-once of missed ticks."""
    SKIP = "skip"
    """Record the tick as handled without enqueuing: skipping missed ticks."""


@dataclass(frozen=True, slots=True)
class FireRequest:
    """One tick of one entry and the task it enqueues.

    state: ``pending``, ``scheduled`` or ``aggregating``, as the client would choose.
    unique_ttl: the uniqueness lock's lifetime in whole seconds, or ``None`` for no lock.
    """

    entry_id: str
    tick: int
    message: TaskMessage
    state: str = "pending"
    process_at: int = 0
    unique_ttl: int | None = None


@dataclass(frozen=True, slots=True)
class FireOutcome:
    result: FireResult
    redis_time: float
    """Redis TIME when the script ran, Unix seconds with microseconds."""


_FIRE = Script("schedule_fire")
_LEASE = Script("schedule_lease")
_WRITE_ENTRIES = Script("schedule_write_entries")
_RECORD_EVENT = Script("schedule_record_event")


class ScheduleStore:
    """Reads and writes the scheduler's records on one binary redis-py client."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    # --- firing ------------------------------------------------------------------------

    async def fire(self, request: FireRequest, mode: FireMode, max_lateness: float) -> FireOutcome:
        """Handle one tick atomically: see ``schedule_fire.lua`` for every outcome."""
        msg = request.message
        script_keys = [
            scheduler_fired_key(msg.queue),
            keys.task_key(msg.queue, msg.id),
            self._target_key(request),
            keys.groups_key(msg.queue),
        ]
        if request.unique_ttl is not None:
            script_keys.append(msg.unique_key)
        args: list[Arg] = [
            request.entry_id,
            request.tick,
            mode,
            int(max_lateness),
            request.state,
            msg.SerializeToString(),
            msg.id,
            request.process_at,
            msg.group_key,
            request.unique_ttl or 0,
            msg.queue,
            keys.WAKEUP_CHANNEL,
        ]
        code, seconds, micros = await _FIRE(self.client, script_keys, args)
        return FireOutcome(FireResult(int(code)), int(seconds) + int(micros) / 1e6)

    @staticmethod
    def _target_key(request: FireRequest) -> str:
        queue = request.message.queue
        if request.state == "scheduled":
            return keys.scheduled_key(queue)
        if request.state == "aggregating":
            return keys.group_key(queue, request.message.group_key)
        return keys.pending_key(queue)

    async def last_fired(self, queue: str, entry_id: str) -> int | None:
        """The newest tick any scheduler has handled for the entry, or None if none has."""
        with redis_errors_translated("reading the last fired tick of a scheduler entry"):
            raw = await self.client.hget(scheduler_fired_key(queue), entry_id)
        return int(raw) if raw is not None else None

    async def publish_queue(self, queue: str) -> None:
        """Register ``queue`` in ``asynq:queues``, as every producer does before enqueuing."""
        with redis_errors_translated(f"registering queue {queue!r}"):
            await self.client.sadd(keys.ALL_QUEUES, queue)

    async def record_event(self, entry_id: str, task_id: str, enqueued_at: float) -> None:
        """Add an enqueue event to the entry's history, keeping the newest 1000."""
        event = SchedulerEnqueueEvent(task_id=task_id)
        event.enqueue_time.FromNanoseconds(round(enqueued_at * 1e9))
        args: list[Arg] = [int(enqueued_at), event.SerializeToString(), MAX_HISTORY_EVENTS]
        await _RECORD_EVENT(self.client, [keys.scheduler_history_key(entry_id)], args)

    async def clear_history(self, entry_ids: Sequence[str]) -> None:
        if not entry_ids:
            return
        with redis_errors_translated("deleting scheduler history"):
            await self.client.delete(*(keys.scheduler_history_key(e) for e in entry_ids))

    # --- publishing --------------------------------------------------------------------

    async def hold_publisher_lease(self, scheduler_id: str, ttl: float) -> bool:
        """Take or renew the publisher lease; False when another scheduler holds it."""
        reply = await _LEASE(self.client, [PUBLISHER_LEASE_KEY], [scheduler_id, int(ttl * 1000)])
        return bool(reply)

    async def release_publisher_lease(self, scheduler_id: str) -> None:
        await _LEASE(self.client, [PUBLISHER_LEASE_KEY], [scheduler_id, 0])

    async def write_entries(
        self, scheduler_id: str, entries: Sequence[SchedulerEntry], ttl: int, now: float
    ) -> None:
        """Publish the entries list (soonest first in ``entries``) for ``ttl`` seconds."""
        entries_key = keys.scheduler_entries_key(scheduler_id)
        with redis_errors_translated("registering the scheduler"):
            await self.client.zadd(keys.ALL_SCHEDULERS, {entries_key: int(now) + ttl})
        args: list[Arg] = [ttl, *(entry.SerializeToString() for entry in entries)]
        await _WRITE_ENTRIES(self.client, [entries_key], args)

    async def clear_entries(self, scheduler_id: str) -> None:
        entries_key = keys.scheduler_entries_key(scheduler_id)
        with redis_errors_translated("removing the scheduler's entries"):
            await self.client.zrem(keys.ALL_SCHEDULERS, entries_key)
            await self.client.delete(entries_key)

    # --- liveness ----------------------------------------------------------------------

    async def beat(self, scheduler_id: str, ttl: float, now: float) -> None:
        """Mark this scheduler alive until ``now + ttl``."""
        with redis_errors_translated("recording the scheduler's heartbeat"):
            await self.client.zadd(SCHEDULER_INSTANCES_KEY, {scheduler_id: now + ttl})

    async def leave(self, scheduler_id: str, now: float) -> int:
        """Mark this scheduler gone; return how many other schedulers are still alive."""
        with redis_errors_translated("removing the scheduler's heartbeat"):
            await self.client.zrem(SCHEDULER_INSTANCES_KEY, scheduler_id)
            await self.client.zremrangebyscore(SCHEDULER_INSTANCES_KEY, "-inf", now)
            return int(await self.client.zcard(SCHEDULER_INSTANCES_KEY))
