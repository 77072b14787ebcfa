"""The public names are a contract: this test fails when they change by accident."""

from __future__ import annotations

import asyncq

EXPECTED = {
    "ActiveTask", "AsyncqError", "BrokerError", "BrokerUnavailableError", "Client",
    "ConfigError", "DuplicateTaskError", "EnqueueError", "GroupAggregator", "Inspector",
    "InspectorError", "PeriodicTaskConfig", "PeriodicTaskManager", "QueueNotEmptyError",
    "QueueNotFoundError", "QueueStateError", "RedisConfig", "RedisVersionError", "ResultWriter",
    "RevokeTask", "Scheduler", "SchedulerConfig", "SchedulerError", "ServeMux", "Server",
    "ServerClosedError", "ServerConfig", "SkipRetry", "SyncClient", "Task",
    "TaskIDConflictError", "TaskInfo", "TaskNotFoundError", "TaskOptions", "TaskState",
    "TaskStateError", "current_task", "get_max_retry", "get_queue_name", "get_retry_count",
    "get_task_id",
}  # fmt: skip


def test_the_public_names_are_exactly_the_curated_list() -> None:
    assert set(asyncq.__all__) == EXPECTED


def test_every_public_name_resolves() -> None:
    missing = [name for name in asyncq.__all__ if not hasattr(asyncq, name)]

    assert missing == []


def test_every_error_shares_the_one_root() -> None:
    errors = [getattr(asyncq, name) for name in asyncq.__all__ if name.endswith("Error")]

    assert all(issubclass(error, asyncq.AsyncqError) for error in errors)
