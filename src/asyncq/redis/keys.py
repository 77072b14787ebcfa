"""Every Redis key name of the asynq protocol, built in one place.

Per-queue keys wrap the queue name in a Redis Cluster hash tag (``{queue}``) so that all
keys of one queue live in one slot and a Lua script can change them atomically.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

PREFIX = "asynq:"

ALL_QUEUES = "asynq:queues"
ALL_SERVERS = "asynq:servers"
ALL_WORKERS = "asynq:workers"
ALL_SCHEDULERS = "asynq:schedulers"
CANCEL_CHANNEL = "asynq:cancel"

# Not part of Go asynq: asyncq producers publish here so idle asyncq workers wake at once.
# Pub/sub leaves no key behind, so Go peers see exactly the state they expect.
WAKEUP_CHANNEL = "asyncq:wakeup"


def queue_prefix(queue: str) -> str:
    return f"asynq:{{{queue}}}:"


def task_key_prefix(queue: str) -> str:
    return f"asynq:{{{queue}}}:t:"


def task_key(queue: str, task_id: str) -> str:
    return f"asynq:{{{queue}}}:t:{task_id}"


def pending_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:pending"


def active_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:active"


def lease_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:lease"


def scheduled_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:scheduled"


def retry_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:retry"


def archived_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:archived"


def completed_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:completed"


def paused_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:paused"


def processed_total_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:processed"


def failed_total_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:failed"


def processed_key(queue: str, when: float) -> str:
    """The processed counter of the UTC day that contains ``when`` (Unix seconds)."""
    return f"asynq:{{{queue}}}:processed:{_utc_date(when)}"


def failed_key(queue: str, when: float) -> str:
    """The failed counter of the UTC day that contains ``when`` (Unix seconds)."""
    return f"asynq:{{{queue}}}:failed:{_utc_date(when)}"


def groups_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:groups"


def group_key_prefix(queue: str) -> str:
    return f"asynq:{{{queue}}}:g:"


def group_key(queue: str, group: str) -> str:
    return f"asynq:{{{queue}}}:g:{group}"


def aggregation_set_key(queue: str, group: str, set_id: str) -> str:
    return f"asynq:{{{queue}}}:g:{group}:{set_id}"


def aggregation_sets_key(queue: str) -> str:
    return f"asynq:{{{queue}}}:aggregation_sets"


def unique_key(queue: str, task_type: str, payload: bytes | None) -> str:
    """The uniqueness lock of (queue, type, payload).

    A ``None`` payload leaves nothing after the last colon, as Go does for a nil payload;
    ``b""`` uses the md5 of the empty string. The two do not dedupe against each other.
    """
    if payload is None:
        return f"asynq:{{{queue}}}:unique:{task_type}:"
    checksum = hashlib.md5(payload, usedforsecurity=False).hexdigest()
    return f"asynq:{{{queue}}}:unique:{task_type}:{checksum}"


def server_info_key(host: str, pid: int, server_id: str) -> str:
    return f"asynq:servers:{{{host}:{pid}:{server_id}}}"


def workers_key(host: str, pid: int, server_id: str) -> str:
    return f"asynq:workers:{{{host}:{pid}:{server_id}}}"


def scheduler_entries_key(scheduler_id: str) -> str:
    return f"asynq:schedulers:{{{scheduler_id}}}"


def scheduler_history_key(entry_id: str) -> str:
    return f"asynq:scheduler_history:{entry_id}"


def _utc_date(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d")
