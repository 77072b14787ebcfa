"""The client: puts tasks into queues, one at a time or many in one round trip.

:class:`Client` is asyncio-native; :class:`SyncClient` offers the same calls to plain
code (web apps, legacy schedulers) by running a private event loop in a background thread.

How a task becomes its message (options, defaults, the path it takes) is
:mod:`asyncq.preparation`, shared with the scheduler and the aggregator.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from asyncq.broker import Broker
from asyncq.clock import Clock
from asyncq.errors import EnqueueError, TaskIDConflictError
from asyncq.preparation import NO_OPTIONS, Prepared, prepare
from asyncq.redis.broker import BrokerSettings, RedisBroker
from asyncq.redis.connection import RedisConfig
from asyncq.task import (
    Task,
    TaskInfo,
    TaskOptions,
    TaskState,
)

T = TypeVar("T")


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
        call_options = TaskOptions.of(options) if options else NO_OPTIONS
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

    async def _store(self, prepared: Prepared) -> None:
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
