"""The Redis side of the inspector: reads and administrative writes on asynq's key space.

Each per-queue operation is one Lua script (``scripts/inspect_*.lua``); the global keys
(servers, workers, schedulers), which live in other Cluster slots, are read with single-key
commands. Script return codes become the typed errors of :mod:`asyncq.errors` in
:func:`_check` and nowhere else, and no redis-py exception leaves this module. Whether a
queue exists is checked by the caller, :class:`~asyncq.inspector.Inspector`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import redis.asyncio as aioredis
from google.protobuf.message import DecodeError, Message

from asyncq import proto
from asyncq.clock import SYSTEM_CLOCK, Clock
from asyncq.errors import (
    BrokerError,
    QueueNotEmptyError,
    QueueStateError,
    TaskNotFoundError,
    TaskStateError,
)
from asyncq.inspection_types import (
    DailyStats,
    GroupInfo,
    QueueInfo,
    SchedulerEnqueueEvent,
    SchedulerEntryInfo,
    ServerInfo,
    WorkerInfo,
)
from asyncq.proto import TaskMessage
from asyncq.redis import keys
from asyncq.redis.scripts import Script, redis_errors_translated
from asyncq.task import TaskInfo, TaskState

M = TypeVar("M", bound=Message)

logger = logging.getLogger("asyncq.inspector")

ARCHIVE_MAX_SIZE = 10_000
ARCHIVE_MAX_AGE_DAYS = 90
STATS_TTL_DAYS = 90
MEMORY_SAMPLE_SIZE = 20
MEMORY_GROUP_SAMPLE_SIZE = 5
DAY = 86_400
_STATE_NAMES = {s.value for s in TaskState}

_HELPERS = ("inspect",)

QUEUE_STATS = Script("inspect_queue_stats")
MEMORY_USAGE = Script("inspect_memory_usage")
GET_TASK = Script("inspect_get_task")
LIST_TASKS = Script("inspect_list_tasks")
RUN_TASK = Script("inspect_run_task", libraries=_HELPERS)
RUN_ALL = Script("inspect_run_all", libraries=_HELPERS)
ARCHIVE_TASK = Script("inspect_archive_task", libraries=_HELPERS)
ARCHIVE_ALL = Script("inspect_archive_all", libraries=_HELPERS)
DELETE_TASK = Script("inspect_delete_task", libraries=_HELPERS)
DELETE_ALL = Script("inspect_delete_all", libraries=_HELPERS)
UPDATE_PAYLOAD = Script("inspect_update_payload")
REMOVE_QUEUE = Script("inspect_remove_queue", libraries=_HELPERS)

_NOT_FOUND = (TaskNotFoundError, 'There is no task "{task_id}" in queue "{queue}".')
_INCONSISTENT = (
    BrokerError,
    'Task "{task_id}" of queue "{queue}" is not in the container its state names; '
    "delete it or let a server recover it.",
)
_FAILURES: dict[Script, dict[int, tuple[type[Exception], str]]] = {
    RUN_TASK: {
        0: _NOT_FOUND,
        -1: (TaskStateError, 'Task "{task_id}" is running; it cannot be run again.'),
        -2: (TaskStateError, 'Task "{task_id}" is already pending.'),
        -3: _INCONSISTENT,
    },
    ARCHIVE_TASK: {
        0: _NOT_FOUND,
        -1: (TaskStateError, 'Task "{task_id}" is already archived.'),
        -2: (
            TaskStateError,
            'Task "{task_id}" is running; cancel it instead of archiving it.',
        ),
        -3: _INCONSISTENT,
    },
    DELETE_TASK: {
        0: _NOT_FOUND,
        -1: (TaskStateError, 'Task "{task_id}" is running; cancel it instead of deleting it.'),
    },
    UPDATE_PAYLOAD: {
        0: _NOT_FOUND,
        -1: (
            TaskStateError,
            'Task "{task_id}" is not scheduled; only a scheduled task\'s payload can change.',
        ),
        -2: (TaskStateError, 'Task "{task_id}" kept changing while its payload was updated.'),
    },
    GET_TASK: {0: _NOT_FOUND},
    REMOVE_QUEUE: {
        -1: (
            QueueNotEmptyError,
            'Queue "{queue}" still holds tasks; delete them first or remove it with force.',
        ),
        -2: (
            QueueStateError,
            'Queue "{queue}" has running tasks; wait for them or cancel them, then retry.',
        ),
    },
}


_CONTAINERS = {
    TaskState.PENDING: keys.pending_key,
    TaskState.ACTIVE: keys.active_key,
    TaskState.SCHEDULED: keys.scheduled_key,
    TaskState.RETRY: keys.retry_key,
    TaskState.ARCHIVED: keys.archived_key,
    TaskState.COMPLETED: keys.completed_key,
}


def container_key(queue: str, state: TaskState, group: str = "") -> str:
    """The key of the list or sorted set that holds ``queue``'s tasks in ``state``."""
    if state is TaskState.AGGREGATING:
        return keys.group_key(queue, group)
    return _CONTAINERS[state](queue)


def container_kind(state: TaskState) -> str:
    return "list" if state in (TaskState.PENDING, TaskState.ACTIVE) else "zset"


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def as_bytes(value: object) -> bytes:
    """A reply of a binary connection as bytes (redis-py types replies loosely)."""
    return value if isinstance(value, bytes) else str(value).encode()


class RedisAdmin:
    """Inspector reads and writes on one binary (``decode_responses=False``) connection."""

    def __init__(self, client: aioredis.Redis, clock: Clock = SYSTEM_CLOCK) -> None:
        self.client = client
        self.clock = clock

    async def _run(self, script: Script, keys: list[str], args: list[Any], **names: str) -> Any:
        reply = await script(self.client, keys, args)
        _check(script, reply, names)
        return reply

    # --- queues ------------------------------------------------------------------------

    async def queues(self) -> list[str]:
        with redis_errors_translated("listing queues"):
            members = await self.client.smembers(keys.ALL_QUEUES)
        return sorted(text(m) for m in members)

    async def queue_exists(self, queue: str) -> bool:
        with redis_errors_translated("looking up a queue"):
            return bool(await self.client.sismember(keys.ALL_QUEUES, queue))

    async def queue_info(self, queue: str) -> QueueInfo:
        """Counts, counters, latency and the memory estimate of one queue."""
        now = self.clock.now()
        stats = await self._run(
            QUEUE_STATS,
            keys=[
                keys.pending_key(queue), keys.active_key(queue), keys.scheduled_key(queue),
                keys.retry_key(queue), keys.archived_key(queue), keys.completed_key(queue),
                keys.processed_key(queue, now), keys.failed_key(queue, now),
                keys.processed_total_key(queue), keys.failed_total_key(queue),
                keys.paused_key(queue), keys.groups_key(queue),
            ],
            args=[keys.group_key_prefix(queue), keys.task_key_prefix(queue)],
        )  # fmt: skip
        memory = await self.memory_usage(queue)

        counts = [int(v) for v in stats]
        pending, active, scheduled, retry, archived, completed = counts[:6]
        pending_since_ns, groups, aggregating = counts[11:14]
        latency = max(0.0, now - pending_since_ns / 1e9) if pending_since_ns else 0.0
        return QueueInfo(
            queue=queue,
            size=pending + active + scheduled + retry + archived + completed + aggregating,
            groups=groups,
            latency=timedelta(seconds=latency),
            memory_usage=memory,
            pending=pending,
            active=active,
            scheduled=scheduled,
            retry=retry,
            archived=archived,
            completed=completed,
            aggregating=aggregating,
            processed=counts[6],
            failed=counts[7],
            processed_total=counts[8],
            failed_total=counts[9],
            paused=bool(counts[10]),
            timestamp=datetime.fromtimestamp(now, UTC),
        )

    async def memory_usage(self, queue: str) -> int:
        """asynq's sampled estimate of the bytes the queue's keys and task records use."""
        estimate = await self._run(
            MEMORY_USAGE,
            keys=[
                keys.active_key(queue), keys.pending_key(queue), keys.scheduled_key(queue),
                keys.retry_key(queue), keys.archived_key(queue), keys.completed_key(queue),
                keys.groups_key(queue),
            ],
            args=[
                keys.task_key_prefix(queue), MEMORY_SAMPLE_SIZE, MEMORY_GROUP_SAMPLE_SIZE,
                keys.group_key_prefix(queue),
            ],
        )  # fmt: skip
        return int(estimate)

    async def history(self, queue: str, days: int) -> list[DailyStats]:
        """Processed and failed counts per UTC day, today first."""
        now = self.clock.now()
        instants = [now - i * DAY for i in range(days)]
        names: list[str] = []
        for when in instants:
            names += [keys.processed_key(queue, when), keys.failed_key(queue, when)]
        with redis_errors_translated("reading daily statistics"):
            values = await self.client.mget(names)

        return [
            DailyStats(
                queue=queue,
                date=datetime.fromtimestamp(when, UTC).date(),
                processed=int(values[2 * i] or 0),
                failed=int(values[2 * i + 1] or 0),
            )
            for i, when in enumerate(instants)
        ]

    async def groups(self, queue: str) -> list[GroupInfo]:
        with redis_errors_translated("listing groups"):
            names = sorted(text(g) for g in await self.client.smembers(keys.groups_key(queue)))
            async with self.client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.zcard(keys.group_key(queue, name))
                sizes = await pipe.execute()
        return [GroupInfo(group=n, size=int(size)) for n, size in zip(names, sizes, strict=True)]

    async def pause(self, queue: str) -> None:
        with redis_errors_translated("pausing a queue"):
            paused = await self.client.setnx(keys.paused_key(queue), int(self.clock.now()))
        if not paused:
            raise QueueStateError(f'Queue "{queue}" is already paused.')
        logger.info("Paused queue queue=%s.", queue)

    async def unpause(self, queue: str) -> None:
        with redis_errors_translated("unpausing a queue"):
            deleted = await self.client.delete(keys.paused_key(queue))
        if not deleted:
            raise QueueStateError(f'Queue "{queue}" is not paused.')
        logger.info("Unpaused queue queue=%s.", queue)

    async def remove_queue(self, queue: str, force: bool) -> None:
        """Delete the queue with all it owns; see ``inspect_remove_queue.lua``."""
        now = self.clock.now()
        daily: list[str] = []
        for day in range(-1, STATS_TTL_DAYS + 2):
            when = now - day * DAY
            daily += [keys.processed_key(queue, when), keys.failed_key(queue, when)]

        await self._run(
            REMOVE_QUEUE,
            keys=[
                keys.pending_key(queue), keys.active_key(queue), keys.scheduled_key(queue),
                keys.retry_key(queue), keys.archived_key(queue), keys.lease_key(queue),
                keys.completed_key(queue), keys.groups_key(queue),
                keys.aggregation_sets_key(queue), keys.paused_key(queue),
                keys.processed_total_key(queue), keys.failed_total_key(queue), *daily,
            ],
            args=["1" if force else "0", keys.task_key_prefix(queue), keys.group_key_prefix(queue)],
            queue=queue,
        )  # fmt: skip
        with redis_errors_translated("unregistering a queue"):
            await self.client.srem(keys.ALL_QUEUES, queue)
        logger.info("Removed queue queue=%s force=%s.", queue, force)

    # --- tasks -------------------------------------------------------------------------

    async def get_task(self, queue: str, task_id: str) -> TaskInfo:
        msg, state, result, score = await self._run(
            GET_TASK,
            keys=[keys.task_key(queue, task_id)],
            args=[task_id, keys.queue_prefix(queue)],
            queue=queue,
            task_id=task_id,
        )
        message = _decoded(TaskMessage, msg)
        if message is None or text(state) not in _STATE_NAMES:
            raise BrokerError(
                f'Task "{task_id}" of queue "{queue}" has a record that cannot be read '
                f"(state {text(state)!r}); delete it."
            )
        parsed = TaskState(text(state))
        when = float(score) if score else None
        if parsed is TaskState.PENDING:
            when = self.clock.now()
        return TaskInfo.from_message(message, parsed, next_process_at=when, result=bytes(result))

    async def list_tasks(
        self, queue: str, state: TaskState, start: int, stop: int, group: str = ""
    ) -> list[TaskInfo]:
        """Tasks at positions ``start..stop`` (inclusive) of the state's container."""
        reply = await self._run(
            LIST_TASKS,
            keys=[container_key(queue, state, group), keys.lease_key(queue)],
            args=[
                container_kind(state), start, stop, keys.task_key_prefix(queue),
                "1" if state is TaskState.ACTIVE else "0",
            ],
        )  # fmt: skip
        now = self.clock.now()
        return [_listed(state, queue, reply[i : i + 4], now) for i in range(0, len(reply), 4)]

    async def run_task(self, queue: str, task_id: str) -> None:
        await self._run(
            RUN_TASK,
            keys=[keys.task_key(queue, task_id), keys.pending_key(queue), keys.groups_key(queue)],
            args=[task_id, keys.queue_prefix(queue), keys.group_key_prefix(queue), self._now_ns()],
            queue=queue,
            task_id=task_id,
        )
        logger.info("Moved task to pending queue=%s task_id=%s.", queue, task_id)

    async def archive_task(self, queue: str, task_id: str) -> None:
        now = int(self.clock.now())
        await self._run(
            ARCHIVE_TASK,
            keys=[
                keys.task_key(queue, task_id), keys.archived_key(queue),
                keys.groups_key(queue), keys.pending_key(queue),
            ],
            args=[
                task_id, now, _archive_cutoff(now), ARCHIVE_MAX_SIZE,
                keys.queue_prefix(queue), keys.group_key_prefix(queue),
                keys.task_key_prefix(queue),
            ],
            queue=queue,
            task_id=task_id,
        )  # fmt: skip
        logger.info("Archived task queue=%s task_id=%s.", queue, task_id)

    async def delete_task(self, queue: str, task_id: str) -> None:
        await self._run(
            DELETE_TASK,
            keys=[keys.task_key(queue, task_id), keys.groups_key(queue)],
            args=[task_id, keys.queue_prefix(queue), keys.group_key_prefix(queue)],
            queue=queue,
            task_id=task_id,
        )
        logger.info("Deleted task queue=%s task_id=%s.", queue, task_id)

    async def run_all(self, queue: str, state: TaskState, group: str = "") -> int:
        moved = int(
            await self._run(
                RUN_ALL,
                keys=[
                    container_key(queue, state, group), keys.pending_key(queue),
                    keys.groups_key(queue),
                ],
                args=[keys.task_key_prefix(queue), self._now_ns(), group],
            )
        )  # fmt: skip
        logger.info("Moved tasks to pending queue=%s state=%s count=%d.", queue, state, moved)
        return moved

    async def archive_all(self, queue: str, state: TaskState, group: str = "") -> int:
        now = int(self.clock.now())
        archived = int(
            await self._run(
                ARCHIVE_ALL,
                keys=[
                    container_key(queue, state, group), keys.archived_key(queue),
                    keys.groups_key(queue),
                ],
                args=[
                    container_kind(state), now, _archive_cutoff(now), ARCHIVE_MAX_SIZE,
                    keys.task_key_prefix(queue), group,
                ],
            )
        )  # fmt: skip
        logger.info("Archived tasks queue=%s state=%s count=%d.", queue, state, archived)
        return archived

    async def delete_all(self, queue: str, state: TaskState, group: str = "") -> int:
        deleted = int(
            await self._run(
                DELETE_ALL,
                keys=[container_key(queue, state, group), keys.groups_key(queue)],
                args=[container_kind(state), keys.task_key_prefix(queue), group],
            )
        )
        logger.info("Deleted tasks queue=%s state=%s count=%d.", queue, state, deleted)
        return deleted

    async def update_task_payload(self, queue: str, task_id: str, payload: bytes) -> TaskInfo:
        """Replace the payload of a scheduled task; a concurrent change makes it try again."""
        task_key = keys.task_key(queue, task_id)
        for attempt in range(3):
            with redis_errors_translated("reading a task"):
                current = as_bytes(await self.client.hget(task_key, "msg") or b"")
            msg = TaskMessage.FromString(current)
            msg.payload = payload
            reply = await UPDATE_PAYLOAD(
                self.client, [task_key], [current, msg.SerializeToString()]
            )
            if reply != -2 or attempt == 2:
                _check(UPDATE_PAYLOAD, reply, {"queue": queue, "task_id": task_id})
                break
        logger.info("Updated task payload queue=%s task_id=%s.", queue, task_id)
        return await self.get_task(queue, task_id)

    async def cancel(self, task_id: str) -> int:
        """Ask every server to cancel the task; return how many servers heard it."""
        with redis_errors_translated("publishing a cancellation"):
            listeners = await self.client.publish(keys.CANCEL_CHANNEL, task_id)
        logger.info("Published cancellation task_id=%s listeners=%d.", task_id, listeners)
        return int(listeners)

    async def redis_info(self) -> dict[str, Any]:
        """Redis' own INFO fields (version, memory, clients), for dashboards."""
        with redis_errors_translated("reading Redis INFO"):
            info: dict[str, Any] = await self.client.info()
        return info

    # --- servers and schedulers ---------------------------------------------------------

    async def servers(self) -> list[ServerInfo]:
        """Live servers with the tasks their workers run, joined on the server ID."""
        server_keys = await self._live_members(keys.ALL_SERVERS)
        worker_keys = await self._live_members(keys.ALL_WORKERS)
        with redis_errors_translated("reading server heartbeats"):
            async with self.client.pipeline(transaction=False) as pipe:
                for key in server_keys:
                    pipe.get(key)
                for key in worker_keys:
                    pipe.hvals(key)
                replies = await pipe.execute()

        workers: dict[str, list[WorkerInfo]] = {}
        for blobs in replies[len(server_keys) :]:
            for blob in blobs:
                worker = _decoded(proto.WorkerInfo, blob)
                if worker is not None:
                    workers.setdefault(worker.server_id, []).append(WorkerInfo.from_proto(worker))
        servers = [_decoded(proto.ServerInfo, blob) for blob in replies[: len(server_keys)]]
        views = [ServerInfo.from_proto(s, workers.get(s.server_id, [])) for s in servers if s]
        return sorted(views, key=lambda v: (v.host, v.pid, v.id))

    async def scheduler_entries(self) -> list[SchedulerEntryInfo]:
        """Entries of every live scheduler, sorted by spec as asynq's CLI lists them."""
        entry_keys = await self._live_members(keys.ALL_SCHEDULERS)
        with redis_errors_translated("reading scheduler entries"):
            async with self.client.pipeline(transaction=False) as pipe:
                for key in entry_keys:
                    pipe.lrange(key, 0, -1)
                lists = await pipe.execute()

        entries = [_decoded(proto.SchedulerEntry, as_bytes(b)) for blobs in lists for b in blobs]
        views = [SchedulerEntryInfo.from_proto(e) for e in entries if e is not None]
        return sorted(views, key=lambda v: (v.spec, v.id))

    async def scheduler_events(
        self, entry_id: str, start: int, stop: int
    ) -> list[SchedulerEnqueueEvent]:
        """One page of an entry's enqueue history, newest first."""
        with redis_errors_translated("reading scheduler history"):
            members = await self.client.zrevrange(keys.scheduler_history_key(entry_id), start, stop)
        events = [_decoded(proto.SchedulerEnqueueEvent, as_bytes(m)) for m in members]
        return [SchedulerEnqueueEvent.from_proto(e) for e in events if e is not None]

    async def _live_members(self, registry: str) -> list[str]:
        """Members of a heartbeat registry that have not expired; expired ones are pruned."""
        now = int(self.clock.now())
        with redis_errors_translated("reading a heartbeat registry"):
            await self.client.zremrangebyscore(registry, "-inf", now - 1)
            members = await self.client.zrangebyscore(registry, now, "+inf")
        return [text(as_bytes(m)) for m in members]

    def _now_ns(self) -> int:
        return int(self.clock.now() * 1_000_000_000)


def _check(script: Script, reply: Any, names: dict[str, str]) -> None:
    """Raise the error that ``script``'s return code stands for, if it stands for one."""
    if not isinstance(reply, int):
        return
    failure = _FAILURES.get(script, {}).get(reply)
    if failure is not None:
        error, message = failure
        raise error(message.format(**names))


UNREADABLE_MESSAGE = "asyncq: the stored task message cannot be decoded"


def _listed(state: TaskState, queue: str, row: Sequence[bytes], now: float) -> TaskInfo:
    """One listed task from its {id, msg, result, score} row. A message that cannot be
    decoded is listed with an empty type and an error saying so (Go skips it), so an
    operator can see the task and delete it."""
    task_id, msg, result, score = row
    message = _decoded(TaskMessage, msg) if msg else None
    if message is None:
        message = TaskMessage(id=text(task_id), queue=queue, error_msg=UNREADABLE_MESSAGE)
    orphaned = state is TaskState.ACTIVE and bool(score) and float(score) <= now
    when: float | None = None
    if state in (TaskState.SCHEDULED, TaskState.RETRY) and score:
        when = float(score)
    elif state is TaskState.PENDING:
        when = now
    return TaskInfo.from_message(
        message,
        state,
        next_process_at=when,
        result=bytes(result),
        is_orphaned=orphaned,
    )


def _decoded(message_type: type[M], blob: bytes | None) -> M | None:
    """The message in ``blob``, or None when the key vanished or holds something else."""
    if blob is None:
        return None
    try:
        return message_type.FromString(blob)
    except DecodeError:
        logger.warning("Skipped an undecodable %s record.", message_type.__name__)
        return None


def _archive_cutoff(now: int) -> int:
    cutoff = datetime.fromtimestamp(now, UTC) - timedelta(days=ARCHIVE_MAX_AGE_DAYS)
    return int(cutoff.timestamp())
