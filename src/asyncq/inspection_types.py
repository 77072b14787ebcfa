"""What the inspector reports about queues, servers and schedulers.

These small frozen values are shared by the :class:`~asyncq.inspector.Inspector`, the
command line and the web UI, so the three always speak of the same fields. Tasks
themselves are reported as :class:`~asyncq.task.TaskInfo`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from asyncq import proto
from asyncq.errors import ConfigError
from asyncq.goformat import parse_option_string
from asyncq.task import TaskOptions, TaskState

GO_ZERO_SECONDS = -62_135_596_800
"""Go's zero ``time.Time`` as Timestamp seconds: it means "never"."""

_EPOCH = datetime.fromtimestamp(0, UTC)

LISTABLE_STATES = tuple(TaskState)
"""Every state whose tasks can be listed; ``aggregating`` needs a group as well."""

RUNNABLE_STATES = (
    TaskState.SCHEDULED,
    TaskState.RETRY,
    TaskState.ARCHIVED,
    TaskState.AGGREGATING,
)
"""States whose tasks "run all" moves to pending."""

ARCHIVABLE_STATES = (
    TaskState.PENDING,
    TaskState.SCHEDULED,
    TaskState.RETRY,
    TaskState.AGGREGATING,
)
"""States whose tasks "archive all" moves to the archive."""

DELETABLE_STATES = (
    TaskState.PENDING,
    TaskState.SCHEDULED,
    TaskState.RETRY,
    TaskState.ARCHIVED,
    TaskState.COMPLETED,
    TaskState.AGGREGATING,
)
"""States whose tasks "delete all" removes; active tasks must be cancelled instead."""


def _frozen_map() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """A snapshot of one queue: how many tasks sit in each state and how it is doing.

    ``size`` counts every task the queue holds, in any state. ``latency`` is how long the
    oldest pending task has waited. ``memory_usage`` is an estimate in bytes, sampled the
    way asynq does so the numbers match its tools.
    """

    queue: str
    size: int
    groups: int
    latency: timedelta
    memory_usage: int
    pending: int
    active: int
    scheduled: int
    retry: int
    archived: int
    completed: int
    aggregating: int
    processed: int
    failed: int
    processed_total: int
    failed_total: int
    paused: bool
    timestamp: datetime

    def count(self, state: TaskState) -> int:
        """The number of tasks in ``state``."""
        return int(getattr(self, state.value))


@dataclass(frozen=True, slots=True)
class DailyStats:
    """How many tasks of a queue were processed and how many of those failed on one UTC day."""

    queue: str
    date: date
    processed: int
    failed: int

    @property
    def succeeded(self) -> int:
        return self.processed - self.failed


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A group of tasks waiting to be aggregated, and how many tasks it holds."""

    group: str
    size: int


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """One task a server is running right now."""

    task_id: str
    task_type: str
    task_payload: bytes
    queue: str
    started: datetime | None
    deadline: datetime | None

    @classmethod
    def from_proto(cls, worker: proto.WorkerInfo) -> WorkerInfo:
        return cls(
            task_id=worker.task_id,
            task_type=worker.task_type,
            task_payload=worker.task_payload,
            queue=worker.queue,
            started=timestamp(worker, "start_time"),
            deadline=timestamp(worker, "deadline"),
        )


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """A live worker server, from its last heartbeat, with the tasks it is running."""

    id: str
    host: str
    pid: int
    concurrency: int
    queues: Mapping[str, int] = field(default_factory=_frozen_map)
    strict_priority: bool = False
    status: str = ""
    started: datetime | None = None
    active_workers: tuple[WorkerInfo, ...] = ()

    @classmethod
    def from_proto(cls, server: proto.ServerInfo, workers: Iterable[WorkerInfo]) -> ServerInfo:
        """The server's heartbeat with its running tasks, longest running first."""
        return cls(
            id=server.server_id,
            host=server.host,
            pid=server.pid,
            concurrency=server.concurrency,
            queues=MappingProxyType(dict(server.queues)),
            strict_priority=server.strict_priority,
            status=server.status,
            started=timestamp(server, "start_time"),
            active_workers=tuple(sorted(workers, key=lambda w: (w.started or _EPOCH, w.task_id))),
        )


@dataclass(frozen=True, slots=True)
class ClusterNodeInfo:
    """A Redis Cluster node that serves a queue's slot: its node ID and ``host:port``."""

    id: str
    address: str


@dataclass(frozen=True, slots=True)
class SchedulerEntryInfo:
    """A periodic task registered by a live scheduler.

    ``options`` are the option strings the scheduler published, in Go's notation
    (``Queue("critical")``, ``MaxRetry(3)``); ``task_options`` holds those of them that
    parse. ``prev_enqueue`` is ``None`` before the first run.
    """

    id: str
    spec: str
    task_type: str
    task_payload: bytes
    options: tuple[str, ...]
    next_enqueue: datetime | None
    prev_enqueue: datetime | None
    task_options: TaskOptions = field(default_factory=TaskOptions)

    @classmethod
    def from_proto(cls, entry: proto.SchedulerEntry) -> SchedulerEntryInfo:
        return cls(
            id=entry.id,
            spec=entry.spec,
            task_type=entry.task_type,
            task_payload=entry.task_payload,
            options=tuple(entry.enqueue_options),
            next_enqueue=timestamp(entry, "next_enqueue_time"),
            prev_enqueue=timestamp(entry, "prev_enqueue_time"),
            task_options=parsed_options(entry.enqueue_options),
        )


@dataclass(frozen=True, slots=True)
class SchedulerEnqueueEvent:
    """One enqueue made by a scheduler entry."""

    task_id: str
    enqueued_at: datetime | None

    @classmethod
    def from_proto(cls, event: proto.SchedulerEnqueueEvent) -> SchedulerEnqueueEvent:
        return cls(task_id=event.task_id, enqueued_at=timestamp(event, "enqueue_time"))


def timestamp(message: Message, name: str) -> datetime | None:
    """A Timestamp field as a UTC datetime; absent and Go's zero time are None."""
    if not message.HasField(name):
        return None
    value: Timestamp = getattr(message, name)
    if value.seconds == GO_ZERO_SECONDS and value.nanos == 0:
        return None
    return datetime.fromtimestamp(value.seconds + value.nanos / 1e9, UTC)


def parsed_options(strings: Iterable[str]) -> TaskOptions:
    """The option strings Go's inspector understands; the others are left out, as Go does."""
    parsed: dict[str, Any] = {}
    for option in strings:
        try:
            name, value = parse_option_string(option)
        except ConfigError:
            continue
        if name != "header":
            parsed[name] = value
    return TaskOptions(**parsed)
