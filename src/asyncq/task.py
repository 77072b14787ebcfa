"""Tasks, their states, the options they are enqueued with, and what the broker reports."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from asyncq.errors import ConfigError
from asyncq.proto import TaskMessage

Duration = float | timedelta
"""Seconds as a number, or a ``timedelta``."""

Instant = float | datetime
"""Unix seconds as a number, or a time-zone aware ``datetime``."""

DEFAULT_QUEUE = "default"
DEFAULT_MAX_RETRY = 25
DEFAULT_TIMEOUT_S = 30 * 60
MAX_RETRY_LIMIT = 2**31 - 1  # the message stores it as an int32


class TaskState(StrEnum):
    """Where a task is; the value is what the task hash's ``state`` field holds."""

    ACTIVE = "active"
    PENDING = "pending"
    SCHEDULED = "scheduled"
    RETRY = "retry"
    ARCHIVED = "archived"
    COMPLETED = "completed"
    AGGREGATING = "aggregating"


def seconds(value: Duration) -> float:
    """A duration in seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def unix_seconds(value: Instant) -> float:
    """An instant as Unix seconds; naive datetimes are refused because they are ambiguous."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigError(
                f"The time {value.isoformat()} has no time zone; pass an aware datetime, "
                "for example datetime.now(UTC)."
            )
        return value.timestamp()
    return float(value)


def _check_type(name: str, value: object, kinds: type | tuple[type, ...], wanted: str) -> None:
    """Refuse a task option of the wrong type (bools are not numbers here) or not finite."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ConfigError(
            f"Task option {name} must be {wanted}, got {type(value).__name__} {value!r}."
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"Task option {name} must be a finite number, got {value!r}.")


def from_unix(value: int | float) -> datetime | None:
    """A UTC datetime for Unix seconds, or ``None`` for the protocol's 0 ("unset")."""
    return datetime.fromtimestamp(value, UTC) if value else None


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """How a task is enqueued. ``None`` means "not given": the default or an earlier value holds.

    queue: queue name (default ``"default"``).
    max_retry: retries after the first failure before the task is archived (default 25).
    timeout: limit for one attempt; with neither timeout nor deadline a task gets 30 minutes.
    deadline: absolute time after which no attempt may run.
    process_at / process_in: run no earlier than this time / this long from now.
    task_id: the task's ID (default a random UUID); a taken ID is refused.
    retention: how long a succeeded task is kept as ``completed`` (default 0: deleted).
    unique: a lock on (queue, type, payload) for this long; a duplicate is refused.
    group: aggregate the task with others of the same group.
    """

    queue: str | None = None
    max_retry: int | None = None
    timeout: Duration | None = None
    deadline: Instant | None = None
    process_at: Instant | None = None
    process_in: Duration | None = None
    task_id: str | None = None
    retention: Duration | None = None
    unique: Duration | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        for name in ("queue", "task_id", "group"):
            _check_type(name, getattr(self, name), str, "a str")
        for name in ("timeout", "retention", "unique", "process_in"):
            _check_type(
                name, getattr(self, name), (int, float, timedelta), "seconds or a timedelta"
            )
        for name in ("deadline", "process_at"):
            _check_type(
                name, getattr(self, name), (int, float, datetime), "Unix seconds or a datetime"
            )
        _check_type("max_retry", self.max_retry, int, "an int")
        if self.max_retry is not None and self.max_retry > MAX_RETRY_LIMIT:
            raise ConfigError(f"max_retry must be at most {MAX_RETRY_LIMIT}, got {self.max_retry}.")
        if self.retention is not None and seconds(self.retention) < 0:
            raise ConfigError(f"retention cannot be negative; got {seconds(self.retention)} s.")

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> TaskOptions:
        """Options from keyword arguments, with a clear error for an unknown name."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"Unknown task option {unknown[0]!r}; the options are {', '.join(sorted(known))}."
            )
        return cls(**options)

    def merged(self, later: TaskOptions) -> TaskOptions:
        """These options overridden by every option that ``later`` gives."""
        given = {f.name: getattr(later, f.name) for f in dataclasses.fields(later)}
        return dataclasses.replace(self, **{k: v for k, v in given.items() if v is not None})

    def given(self) -> list[tuple[str, Any]]:
        """The options that were set, in field order."""
        return [
            (f.name, getattr(self, f.name))
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        ]


@dataclass(frozen=True, slots=True)
class Task:
    """A unit of work: a type that routes it to a handler, opaque payload bytes and headers.

    A ``None`` payload is Go's nil payload; it matters only for uniqueness (see
    :func:`asyncq.redis.keys.unique_key`).
    """

    type: str
    payload: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    options: TaskOptions = field(default_factory=TaskOptions)

    def __post_init__(self) -> None:
        if not isinstance(self.type, str):
            raise ConfigError(f"A task type must be a str such as 'email:send', got {self.type!r}.")
        if isinstance(self.payload, str):
            raise ConfigError(
                f"Task {self.type!r} got a str payload; encode it first, e.g. text.encode()."
            )
        if isinstance(self.payload, bytearray | memoryview):
            object.__setattr__(self, "payload", bytes(self.payload))
        elif self.payload is not None and not isinstance(self.payload, bytes):
            raise ConfigError(
                f"Task {self.type!r} got a {type(self.payload).__name__} payload; "
                "pass bytes (or None), e.g. json.dumps(data).encode()."
            )
        headers = dict(self.headers)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise ConfigError(f"Task {self.type!r} headers must map str to str, got {headers!r}.")
        object.__setattr__(self, "headers", MappingProxyType(headers))


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What is known about a task in Redis: its message, state and times."""

    id: str
    queue: str
    type: str
    payload: bytes
    headers: Mapping[str, str]
    state: TaskState
    max_retry: int
    retried: int
    last_err: str
    last_failed_at: datetime | None
    timeout: timedelta
    deadline: datetime | None
    group: str
    next_process_at: datetime | None
    retention: timedelta
    completed_at: datetime | None
    result: bytes = b""
    is_orphaned: bool = False

    @classmethod
    def from_message(
        cls,
        msg: TaskMessage,
        state: TaskState,
        next_process_at: float | None = None,
        result: bytes = b"",
        is_orphaned: bool = False,
    ) -> TaskInfo:
        return cls(
            id=msg.id,
            queue=msg.queue,
            type=msg.type,
            payload=msg.payload,
            headers=MappingProxyType(dict(msg.headers)),
            state=state,
            max_retry=msg.retry,
            retried=msg.retried,
            last_err=msg.error_msg,
            last_failed_at=from_unix(msg.last_failed_at),
            timeout=timedelta(seconds=msg.timeout),
            deadline=from_unix(msg.deadline),
            group=msg.group_key,
            next_process_at=from_unix(next_process_at) if next_process_at else None,
            retention=timedelta(seconds=msg.retention),
            completed_at=from_unix(msg.completed_at),
            result=result,
            is_orphaned=is_orphaned,
        )
