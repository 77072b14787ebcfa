"""The client: puts tasks into queues, one at a time or many in one round trip.

:class:`Client` is asyncio-native; :class:`SyncClient` offers the same calls to plain
code (web apps, legacy schedulers) by running a private event loop in a background thread.

Options are resolved as asynq does: the task's own options first, the call's options over
them; queue ``default``, 25 retries and a 30-minute timeout unless a timeout or deadline
is given. A task due later is *scheduled*, a task with a group waits in that group for
aggregation, any other is *pending* at once.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from asyncq.broker import Broker
from asyncq.clock import Clock
from asyncq.errors import ConfigError, EnqueueError, TaskIDConflictError
from asyncq.naming import checked_queue_name
from asyncq.proto import TaskMessage
from asyncq.redis import keys
from asyncq.redis.broker import BrokerSettings, RedisBroker
from asyncq.redis.connection import RedisConfig
from asyncq.task import (
    DEFAULT_MAX_RETRY,
    DEFAULT_QUEUE,
    DEFAULT_TIMEOUT_S,
    Task,
    TaskInfo,
    TaskOptions,
    TaskState,
    seconds,
    unix_seconds,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A task turned into the message to store and the way to store it."""

    msg: TaskMessage
    state: TaskState
    now: float
    process_at: float
    unique_ttl: int | None

    def info(self) -> TaskInfo:
        """What Enqueue returns: pending tasks are due now, grouped ones have no due time."""
        due = {TaskState.PENDING: self.now, TaskState.SCHEDULED: self.process_at}.get(self.state)
        return TaskInfo.from_message(self.msg, self.state, next_process_at=due)

    @property
    def batchable(self) -> bool:
        return self.state is TaskState.PENDING and self.unique_ttl is None


class Client:
    """Enqueues tasks through a :class:`~asyncq.broker.Broker`.

    ``Client(broker)`` borrows the broker (``close`` leaves it open);
    ``Client.from_url(url)`` makes a broker of its own and closes it with the client.
    """

    def __init__(self, broker: Broker, *, owns_broker: bool = False) -> None:
        self.broker = broker
        self._owns_broker = owns_broker

    @classmethod
    def from_url(cls, url: str | RedisConfig, settings: BrokerSettings | None = None) -> Client:
        return cls(RedisBroker.from_url(url, settings), owns_broker=True)

    @property
    def clock(self) -> Clock:
        return self.broker.clock

    async def enqueue(self, task: Task, **options: Any) -> TaskInfo:
        """Store ``task``; see :class:`~asyncq.task.TaskOptions` for ``options``.

        Raises ConfigError for an invalid option, DuplicateTaskError when a ``unique``
        lock is held, TaskIDConflictError when the task ID is taken, BrokerError when Redis
        fails. Nothing is stored when it raises.
        """
        call_options = TaskOptions.of(options) if options else _NO_OPTIONS
        prepared = prepare(task, call_options, self.clock.now())
        await self._store(prepared)
        return prepared.info()

    async def enqueue_many(
        self, tasks: Sequence[Task], **options: Any
    ) -> list[TaskInfo | EnqueueError]:
        """Store many tasks; one entry per task, in order: its TaskInfo or why it was refused.

        Plain pending tasks go in one pipelined round trip (one script call per queue);
        scheduled, grouped and unique ones are sent concurrently. A refused task
        (duplicate, ID conflict) does not stop the others; invalid options raise
        ConfigError before anything is stored, and a Redis failure raises BrokerError.
        """
        call_options = TaskOptions.of(options)
        now = self.clock.now()
        prepared = [prepare(task, call_options, now) for task in tasks]
        results: list[TaskInfo | EnqueueError] = [p.info() for p in prepared]

        batch = [i for i, p in enumerate(prepared) if p.batchable]
        if batch:
            outcome = await self.broker.enqueue_batch([prepared[i].msg for i in batch])
            for index, stored in zip(batch, outcome.enqueued, strict=True):
                if not stored:
                    results[index] = TaskIDConflictError()

        others = [i for i, p in enumerate(prepared) if not p.batchable]
        failures = await asyncio.gather(
            *(self._store(prepared[i]) for i in others), return_exceptions=True
        )
        for index, error in zip(others, failures, strict=True):
            if isinstance(error, EnqueueError):
                results[index] = error
            elif isinstance(error, BaseException):
                raise error
        return results

    async def _store(self, prepared: _Prepared) -> None:
        msg, ttl = prepared.msg, prepared.unique_ttl
        if prepared.state is TaskState.SCHEDULED:
            await self.broker.schedule(msg, int(prepared.process_at), ttl)
        elif prepared.state is TaskState.AGGREGATING:
            await self.broker.add_to_group(msg, msg.group_key, ttl)
        else:
            await self.broker.enqueue(msg, ttl)

    async def close(self) -> None:
        if self._owns_broker:
            await self.broker.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def prepare(task: Task, call_options: TaskOptions, now: float) -> _Prepared:
    """Validate ``task`` with its options and build its message (asynq's client rules)."""
    if not task.type.strip():
        raise ConfigError("task typename cannot be empty; give the task a type, e.g. 'email:send'.")
    opts = _merged(task.options, call_options)
    process_at = _process_at(task.options, call_options, now)
    unique_ttl = _unique_ttl(opts)

    msg = TaskMessage(
        type=task.type,
        payload=task.payload or b"",
        id=_task_id(opts),
        queue=_queue(opts),
        retry=max(opts.max_retry if opts.max_retry is not None else DEFAULT_MAX_RETRY, 0),
        retention=int(seconds(opts.retention)) if opts.retention is not None else 0,
        group_key=_group(opts),
    )
    msg.headers.update(task.headers)
    msg.timeout, msg.deadline = _timeout_and_deadline(opts)
    if unique_ttl is not None:
        msg.unique_key = keys.unique_key(msg.queue, task.type, task.payload)

    if process_at > now:
        lock = None if unique_ttl is None else int(process_at + unique_ttl - now)
        return _Prepared(msg, TaskState.SCHEDULED, now, process_at, lock)
    path = TaskState.AGGREGATING if msg.group_key else TaskState.PENDING
    return _Prepared(msg, path, now, now, None if unique_ttl is None else int(unique_ttl))


_NO_OPTIONS = TaskOptions()


def _merged(task_options: TaskOptions, call_options: TaskOptions) -> TaskOptions:
    """The task's options overridden by the call's; cheap when either gives none."""
    if call_options == _NO_OPTIONS:
        return task_options
    if task_options == _NO_OPTIONS:
        return call_options
    return task_options.merged(call_options)


def _queue(opts: TaskOptions) -> str:
    return checked_queue_name(opts.queue) if opts.queue is not None else DEFAULT_QUEUE


def _task_id(opts: TaskOptions) -> str:
    if opts.task_id is None:
        return str(uuid.uuid4())
    if not opts.task_id.strip():
        raise ConfigError("task ID cannot be empty; leave task_id out to get a random one.")
    return opts.task_id


def _group(opts: TaskOptions) -> str:
    if opts.group is None:
        return ""
    if not opts.group.strip():
        raise ConfigError("group key cannot be empty; leave group out for an ungrouped task.")
    return opts.group


def _unique_ttl(opts: TaskOptions) -> float | None:
    if opts.unique is None:
        return None
    ttl = seconds(opts.unique)
    if ttl < 1:
        raise ConfigError(f"Unique TTL cannot be less than 1s; got {ttl} s.")
    return ttl


def _timeout_and_deadline(opts: TaskOptions) -> tuple[int, int]:
    """Whole seconds; a timeout under one second is stored as 1 s rather than lost as 0."""
    timeout = seconds(opts.timeout) if opts.timeout is not None else 0.0
    if timeout < 0:
        raise ConfigError(f"timeout cannot be negative; got {timeout} s.")
    deadline = int(unix_seconds(opts.deadline)) if opts.deadline is not None else 0
    stored = max(int(timeout), 1) if timeout > 0 else 0
    if stored == 0 and deadline == 0:
        return DEFAULT_TIMEOUT_S, 0
    return stored, deadline


def _process_at(task_options: TaskOptions, call_options: TaskOptions, now: float) -> float:
    """The call's process_at/process_in if given, else the task's, else now."""
    for opts in (call_options, task_options):
        if opts.process_at is not None and opts.process_in is not None:
            raise ConfigError("Give process_at or process_in, not both.")
        if opts.process_at is not None:
            return unix_seconds(opts.process_at)
        if opts.process_in is not None:
            return now + seconds(opts.process_in)
    return now


class SyncClient:
    """The :class:`Client` for code without an event loop.

    A daemon thread runs a private event loop that owns the Redis connections; each call
    blocks until its coroutine finishes there. Safe to share between threads.
    """

    def __init__(self, url: str | RedisConfig, settings: BrokerSettings | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="asyncq-sync-client", daemon=True
        )
        self._thread.start()
        self._client = self._run(_make_client(url, settings))

    @classmethod
    def from_url(cls, url: str | RedisConfig, settings: BrokerSettings | None = None) -> SyncClient:
        return cls(url, settings)

    def enqueue(self, task: Task, **options: Any) -> TaskInfo:
        """See :meth:`Client.enqueue`."""
        return self._run(self._client.enqueue(task, **options))

    def enqueue_many(self, tasks: Sequence[Task], **options: Any) -> list[TaskInfo | EnqueueError]:
        """See :meth:`Client.enqueue_many`."""
        return self._run(self._client.enqueue_many(tasks, **options))

    def close(self) -> None:
        """Close the connections and stop the background loop; idempotent."""
        if not self._thread.is_alive():
            return
        try:
            self._run(self._client.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()


async def _make_client(url: str | RedisConfig, settings: BrokerSettings | None) -> Client:
    """Built inside the background loop, so that the connections belong to it."""
    return Client.from_url(url, settings)
