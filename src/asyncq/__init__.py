"""asyncq: a distributed task queue on Redis that speaks Go asynq's protocol."""

from asyncq.errors import (
    AsyncqError,
    BrokerError,
    BrokerUnavailableError,
    ConfigError,
    DuplicateTaskError,
    EnqueueError,
    RedisVersionError,
    RevokeTask,
    SkipRetry,
    TaskIDConflictError,
)
from asyncq.task import Task, TaskInfo, TaskOptions, TaskState

__all__ = [
    "AsyncqError",
    "BrokerError",
    "BrokerUnavailableError",
    "ConfigError",
    "DuplicateTaskError",
    "EnqueueError",
    "RedisVersionError",
    "RevokeTask",
    "SkipRetry",
    "Task",
    "TaskIDConflictError",
    "TaskInfo",
    "TaskOptions",
    "TaskState",
]
