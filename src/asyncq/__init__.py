"""asyncq: a distributed task queue on Redis that speaks Go asynq's protocol.

The names below are the public API; everything else is an implementation detail.
"""

from asyncq.client import Client, SyncClient
from asyncq.context import (
    ActiveTask,
    ResultWriter,
    current_task,
    get_max_retry,
    get_queue_name,
    get_retry_count,
    get_task_id,
)
from asyncq.errors import (
    AsyncqError,
    BrokerError,
    BrokerUnavailableError,
    ConfigError,
    DuplicateTaskError,
    EnqueueError,
    InspectorError,
    QueueNotEmptyError,
    QueueNotFoundError,
    QueueStateError,
    RedisVersionError,
    RevokeTask,
    SchedulerError,
    ServerClosedError,
    SkipRetry,
    TaskIDConflictError,
    TaskNotFoundError,
    TaskStateError,
)
from asyncq.inspector import Inspector
from asyncq.mux import ServeMux
from asyncq.periodic import PeriodicTaskConfig, PeriodicTaskManager
from asyncq.redis.connection import RedisConfig
from asyncq.scheduler import Scheduler, SchedulerConfig
from asyncq.server import Server, ServerConfig
from asyncq.task import Task, TaskInfo, TaskOptions, TaskState
from asyncq.worker.aggregator import GroupAggregator

__version__ = "0.1.0"

__all__ = [
    "ActiveTask",
    "AsyncqError",
    "BrokerError",
    "BrokerUnavailableError",
    "Client",
    "ConfigError",
    "DuplicateTaskError",
    "EnqueueError",
    "GroupAggregator",
    "Inspector",
    "InspectorError",
    "PeriodicTaskConfig",
    "PeriodicTaskManager",
    "QueueNotEmptyError",
    "QueueNotFoundError",
    "QueueStateError",
    "RedisConfig",
    "RedisVersionError",
    "ResultWriter",
    "RevokeTask",
    "Scheduler",
    "SchedulerConfig",
    "SchedulerError",
    "ServeMux",
    "Server",
    "ServerClosedError",
    "ServerConfig",
    "SkipRetry",
    "SyncClient",
    "Task",
    "TaskIDConflictError",
    "TaskInfo",
    "TaskNotFoundError",
    "TaskOptions",
    "TaskState",
    "TaskStateError",
    "current_task",
    "get_max_retry",
    "get_queue_name",
    "get_retry_count",
    "get_task_id",
]
