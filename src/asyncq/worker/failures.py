"""Failures the runtime itself produces, and the text stored in a failed task's ``error_msg``.

Go peers and dashboards filter on asynq's exact strings, so runtime failures keep them
(``context deadline exceeded``, ``context canceled``, ``asynq: task lease expired``); an
exception raised by a handler is stored as its class name and message (``ValueError: bad id``).
"""

from __future__ import annotations

from asyncq.errors import AsyncqError, RevokeTask, SkipRetry


class TaskFailure(AsyncqError):
    """Raised (or passed to hooks) when the runtime, not the handler, ends an attempt."""

    go_text = ""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.go_text)


class DeadlineExceeded(TaskFailure):
    """Raised when an attempt runs past its timeout or its task's deadline."""

    go_text = "context deadline exceeded"


class TaskCanceled(TaskFailure):
    """Raised when a task is cancelled through ``asynq:cancel`` while it runs."""

    go_text = "context canceled"


class LeaseExpired(TaskFailure):
    """Raised when a task's lease ran out, so another worker may take it over."""

    go_text = "asynq: task lease expired"


class HandlerNotFound(TaskFailure):
    """Raised when no handler is registered for a task's type; the task is retried."""

    def __init__(self, task_type: str) -> None:
        super().__init__(f'handler not found for task "{task_type}"')


class ShutdownAbort(TaskFailure):
    """Raised inside a task still running when the shutdown timeout ends; it is requeued."""

    go_text = "asyncq: server shut down"


def error_text(error: BaseException) -> str:
    """The ``error_msg`` stored for ``error``: Go's string for runtime failures."""
    if isinstance(error, TaskFailure):
        return str(error)
    message = str(error)
    name = type(error).__name__
    return f"{name}: {message}" if message else name


def wraps(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``error`` is ``kind`` or was raised ``from`` one (Go's ``errors.Is``)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__
    return False


def is_revoke(error: BaseException) -> bool:
    return wraps(error, RevokeTask)


def is_skip_retry(error: BaseException) -> bool:
    return wraps(error, SkipRetry)
