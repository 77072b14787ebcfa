"""What a running handler can learn about its task, and where it writes its result.

A handler receives an :class:`ActiveTask`: the task's type, payload and headers plus its
ID, queue, retry count and maximum, and a :class:`ResultWriter`. The same object is
reachable from anywhere in the handler's call stack through :func:`current_task` and the
asynq-style helpers :func:`get_task_id`, :func:`get_retry_count`, :func:`get_max_retry`
and :func:`get_queue_name`; plain (thread) handlers see it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING

from asyncq.errors import AsyncqError

if TYPE_CHECKING:
    from asyncq.broker import Broker
    from asyncq.proto import TaskMessage

NO_HEADERS: Mapping[str, str] = MappingProxyType({})

_current: ContextVar[ActiveTask] = ContextVar("asyncq_current_task")


class ResultWriter:
    """Stores a handler's result bytes on its task; usable only while the task runs."""

    __slots__ = ("_broker", "_loop", "_task")

    def __init__(self, task: ActiveTask, broker: Broker, loop: asyncio.AbstractEventLoop) -> None:
        self._task = task
        self._broker = broker
        self._loop = loop

    @property
    def task_id(self) -> str:
        return self._task.id

    async def write(self, data: bytes) -> int:
        """Store ``data`` as the task's result; return the number of bytes written."""
        task = self._task
        if not task.running:
            raise AsyncqError(
                f"Cannot write the result of task id={task.id}: the task is no longer "
                "running. Write results from inside the handler."
            )
        return await self._broker.write_result(task.queue, task.id, data)

    def write_blocking(self, data: bytes) -> int:
        """:meth:`write` for plain handlers, which run in a thread beside the event loop."""
        future = asyncio.run_coroutine_threadsafe(self.write(data), self._loop)
        return future.result()


class ActiveTask:
    """A task as its handler sees it while it runs.

    ``retry_count`` is how many failures were counted before this attempt and
    ``max_retry`` how many are allowed; ``running`` turns False when the attempt ends.
    """

    __slots__ = (
        "_broker",
        "_loop",
        "_writer",
        "headers",
        "id",
        "max_retry",
        "payload",
        "queue",
        "retry_count",
        "running",
        "type",
    )

    def __init__(
        self, msg: TaskMessage, broker: Broker, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.type = msg.type
        self.payload = msg.payload
        self.headers = MappingProxyType(dict(msg.headers)) if msg.headers else NO_HEADERS
        self.id = msg.id
        self.queue = msg.queue
        self.retry_count = msg.retried
        self.max_retry = msg.retry
        self.running = True
        self._broker = broker
        self._loop = loop or asyncio.get_running_loop()
        self._writer: ResultWriter | None = None

    @property
    def result_writer(self) -> ResultWriter:
        """Where the handler stores its result (kept with the task if it has a retention)."""
        if self._writer is None:
            self._writer = ResultWriter(self, self._broker, self._loop)
        return self._writer

    def __repr__(self) -> str:
        return f"<ActiveTask id={self.id} type={self.type!r} queue={self.queue!r}>"


def bind(task: ActiveTask) -> None:
    """Make ``task`` the current task of the calling asyncio task or thread context."""
    _current.set(task)


def current_task() -> ActiveTask:
    """The task being handled; raises LookupError outside a handler."""
    return _current.get()


def get_task_id() -> str:
    return _current.get().id


def get_retry_count() -> int:
    """How many failures were counted before this attempt (asynq's ``retried``)."""
    return _current.get().retry_count


def get_max_retry() -> int:
    return _current.get().max_retry


def get_queue_name() -> str:
    return _current.get().queue
