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
from dataclasses import dataclass
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

    __slots__ = ("_broker", "_loop", "_open", "queue", "task_id")

    def __init__(self, broker: Broker, queue: str, task_id: str) -> None:
        self._broker = broker
        self._loop = asyncio.get_running_loop()
        self._open = True
        self.queue = queue
        self.task_id = task_id

    async def write(self, data: bytes) -> int:
        """Store ``data`` as the task's result; return the number of bytes written."""
        if not self._open:
            raise AsyncqError(
                f"Cannot write the result of task id={self.task_id}: the task is no longer "
                "running. Write results from inside the handler."
            )
        return await self._broker.write_result(self.queue, self.task_id, data)

    def write_blocking(self, data: bytes) -> int:
        """:meth:`write` for plain handlers, which run in a thread beside the event loop."""
        future = asyncio.run_coroutine_threadsafe(self.write(data), self._loop)
        return future.result()

    def close(self) -> None:
        self._open = False


@dataclass(slots=True, eq=False)
class ActiveTask:
    """A task as its handler sees it while it runs."""

    type: str
    payload: bytes
    headers: Mapping[str, str]
    id: str
    queue: str
    retry_count: int
    max_retry: int
    result_writer: ResultWriter

    @classmethod
    def from_message(cls, msg: TaskMessage, writer: ResultWriter) -> ActiveTask:
        headers = MappingProxyType(dict(msg.headers)) if msg.headers else NO_HEADERS
        return cls(
            msg.type, msg.payload, headers, msg.id, msg.queue, msg.retried, msg.retry, writer
        )


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
