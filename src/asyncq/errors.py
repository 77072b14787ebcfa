"""Every exception asyncq raises, under one root.

::

    AsyncqError
    ├── ConfigError                 bad settings; the message names the setting and the fix
    ├── BrokerError                 Redis failed or answered in a way the protocol forbids
    │   ├── BrokerUnavailableError  Redis could not be reached
    │   ├── RedisVersionError       Redis is older than 6.2
    │   └── TaskNotActiveError      a worker finished a task whose lease it no longer holds
    ├── EnqueueError                a task was refused by the client
    │   ├── DuplicateTaskError      a uniqueness lock is held ("task already exists")
    │   └── TaskIDConflictError     the task ID is taken ("task ID conflicts with another task")
    ├── InspectorError              an inspector operation was refused
    │   ├── QueueNotFoundError
    │   ├── QueueNotEmptyError
    │   ├── TaskNotFoundError
    │   ├── TaskStateError          the task's state forbids the operation
    │   └── QueueStateError         the queue is already (un)paused
    ├── SchedulerError              a scheduler entry could not be registered or found
    └── ServerClosedError           the server was shut down

Handlers signal outcomes with two more exceptions, which are not errors of asyncq itself:
:class:`SkipRetry` (archive now) and :class:`RevokeTask` (delete without retrying).
"""

from __future__ import annotations


class AsyncqError(Exception):
    """Raised for every failure that asyncq itself reports."""


class ConfigError(AsyncqError, ValueError):
    """Raised when a setting is missing or invalid; the message says which and how to fix it."""


class BrokerError(AsyncqError):
    """Raised when Redis fails a command or a script breaks the protocol's contract."""


class BrokerUnavailableError(BrokerError):
    """Raised when Redis cannot be reached (connection refused, timed out or lost)."""


class RedisVersionError(BrokerError):
    """Raised when the Redis server is older than the 6.2 that the protocol needs."""


class TaskNotActiveError(BrokerError):
    """Raised when a worker finishes a task that is no longer leased (nothing was written)."""


class EnqueueError(AsyncqError):
    """Raised when the client refuses a task."""


class DuplicateTaskError(EnqueueError):
    """Raised when a unique task is enqueued while its uniqueness lock is held."""

    def __init__(self, message: str = "task already exists") -> None:
        super().__init__(message)


class TaskIDConflictError(EnqueueError):
    """Raised when a task is enqueued with the ID of a task that still exists."""

    def __init__(self, message: str = "task ID conflicts with another task") -> None:
        super().__init__(message)


class InspectorError(AsyncqError):
    """Raised when an inspector operation is refused."""


class QueueNotFoundError(InspectorError):
    """Raised when the named queue is not registered in ``asynq:queues``."""


class QueueNotEmptyError(InspectorError):
    """Raised when a queue that still holds tasks is removed without ``force``."""


class TaskNotFoundError(InspectorError):
    """Raised when no task with the given ID exists in the queue."""


class TaskStateError(InspectorError):
    """Raised when a task's current state forbids the requested operation."""


class QueueStateError(InspectorError):
    """Raised when pausing a paused queue or unpausing a running one."""


class SchedulerError(AsyncqError):
    """Raised when a scheduler entry cannot be registered, parsed or found."""


class ServerClosedError(AsyncqError):
    """Raised when a server that has been shut down is started again."""


class SkipRetry(Exception):
    """Raised by a handler to archive its task now instead of retrying it."""

    def __init__(self, message: str = "skip retry for the task") -> None:
        super().__init__(message)


class RevokeTask(Exception):
    """Raised by a handler to delete its task: counted as processed, never retried."""

    def __init__(self, message: str = "revoke task") -> None:
        super().__init__(message)
