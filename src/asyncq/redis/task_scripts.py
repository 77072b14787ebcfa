"""The broker's scripts: one typed wrapper per ``scripts/<name>.lua``, named as its header.

Each wrapper takes the script's KEYS and ARGV as keyword arguments, named and ordered as
the header names them, and returns the prepared :class:`~asyncq.redis.scripts.Call`; the
broker runs it (alone, or batched with other calls) and reads the reply. The return codes
that mean a refusal are mapped to errors here, where each script is declared.
"""

from __future__ import annotations

from collections.abc import Sequence

from asyncq.errors import (
    AsyncqError,
    BrokerError,
    DuplicateTaskError,
    TaskIDConflictError,
    TaskNotActiveError,
)
from asyncq.redis.scripts import Arg, Call, Failure, Script

_ID_TAKEN = Failure(TaskIDConflictError)
_LOCK_HELD = Failure(DuplicateTaskError)
_NOT_ACTIVE = Failure(
    TaskNotActiveError,
    "Task {task_id} is not active in {active_key} (its lease was lost or it was finished "
    "already); the recoverer or another worker owns it now.",
)

_ENQUEUE = Script("enqueue", {0: _ID_TAKEN, -1: _LOCK_HELD})
_SCHEDULE = Script("schedule", {0: _ID_TAKEN, -1: _LOCK_HELD})
_ADD_TO_GROUP = Script("add_to_group", {0: _ID_TAKEN, -1: _LOCK_HELD})
_ENQUEUE_BATCH = Script("enqueue_batch")
_DEQUEUE = Script("dequeue")
_DONE = Script("done", {0: _NOT_ACTIVE}, libraries=("finish",))
_MARK_AS_COMPLETE = Script(
    "mark_as_complete",
    {
        0: _NOT_ACTIVE,
        -1: Failure(BrokerError, "Task {task_id} is already in {completed_key}."),
    },
    libraries=("finish",),
)
_DONE_BATCH = Script("done_batch", libraries=("finish",))
_MARK_AS_COMPLETE_BATCH = Script("mark_as_complete_batch", libraries=("finish",))
_REQUEUE = Script("requeue", {0: _NOT_ACTIVE}, libraries=("finish",))
_RETRY = Script("retry", {0: _NOT_ACTIVE}, libraries=("finish",))
_ARCHIVE = Script("archive", {0: _NOT_ACTIVE}, libraries=("finish",))
_FORWARD = Script("forward")
_DELETE_EXPIRED_COMPLETED = Script("delete_expired_completed")
_LIST_LEASE_EXPIRED = Script("list_lease_expired")
_WRITE_RESULT = Script(
    "write_result",
    {-1: Failure(BrokerError, "Cannot store the result: {task_key} no longer exists.")},
)
_AGGREGATION_CHECK = Script("aggregation_check")
_READ_AGGREGATION_SET = Script("read_aggregation_set")
_DELETE_AGGREGATION_SET = Script("delete_aggregation_set")
_RECLAIM_STALE_AGGREGATION_SETS = Script("reclaim_stale_aggregation_sets")
_AGGREGATE_COMMIT = Script("aggregate_commit", {0: _ID_TAKEN, -1: _LOCK_HELD})
_WRITE_SERVER_STATE = Script("write_server_state")
_CLEAR_SERVER_STATE = Script("clear_server_state")


def enqueue(
    *,
    task_key: str,
    pending_key: str,
    queues_key: str,
    unique_key: str | None,
    msg: bytes,
    task_id: str,
    now_ns: int,
    queue: str,
    wakeup_channel: str,
    lock_ttl: int,
) -> Call:
    """Store one pending task; DuplicateTaskError or TaskIDConflictError."""
    return _ENQUEUE.call(
        _with_optional([task_key, pending_key, queues_key], unique_key),
        [msg, task_id, now_ns, queue, wakeup_channel, lock_ttl],
    )


def schedule(
    *,
    task_key: str,
    scheduled_key: str,
    queues_key: str,
    unique_key: str | None,
    msg: bytes,
    process_at: int,
    task_id: str,
    queue: str,
    group: str,
    lock_ttl: int,
) -> Call:
    """Store a scheduled task; DuplicateTaskError or TaskIDConflictError."""
    return _SCHEDULE.call(
        _with_optional([task_key, scheduled_key, queues_key], unique_key),
        [msg, process_at, task_id, queue, group, lock_ttl],
    )


def add_to_group(
    *,
    task_key: str,
    group_key: str,
    groups_key: str,
    queues_key: str,
    unique_key: str | None,
    msg: bytes,
    task_id: str,
    now: int,
    group: str,
    queue: str,
    lock_ttl: int,
) -> Call:
    """Store a task waiting in a group; DuplicateTaskError or TaskIDConflictError."""
    return _ADD_TO_GROUP.call(
        _with_optional([task_key, group_key, groups_key, queues_key], unique_key),
        [msg, task_id, now, group, queue, lock_ttl],
    )


def enqueue_batch(
    *,
    pending_key: str,
    queues_key: str,
    task_keys: Sequence[str],
    now_ns: int,
    queue: str,
    wakeup_channel: str,
    entries: Sequence[Arg],
) -> Call:
    """A batch of one queue, for a pipeline; its reply lists 1 (stored) or 0 per task."""
    return _ENQUEUE_BATCH.call(
        [pending_key, queues_key, *task_keys], [now_ns, queue, wakeup_channel, *entries]
    )


def dequeue(
    *,
    queue_keys: Sequence[str],
    lease_expires_at: int,
    limit: int,
    task_key_prefixes: Sequence[str],
) -> Call:
    """Lease up to ``limit`` tasks; replies (queue position, ID, msg) triples, flattened."""
    return _DEQUEUE.call(queue_keys, [lease_expires_at, limit, *task_key_prefixes])


def done(
    *,
    active_key: str,
    lease_key: str,
    task_key: str,
    processed_day_key: str,
    processed_total_key: str,
    unique_key: str | None,
    task_id: str,
    stats_expire_at: int,
    max_int64: int,
) -> Call:
    """Delete a succeeded task; TaskNotActiveError when it is no longer leased."""
    keys = [active_key, lease_key, task_key, processed_day_key, processed_total_key]
    return _DONE.call(_with_optional(keys, unique_key), [task_id, stats_expire_at, max_int64])


def mark_as_complete(
    *,
    active_key: str,
    lease_key: str,
    completed_key: str,
    task_key: str,
    processed_day_key: str,
    processed_total_key: str,
    unique_key: str | None,
    task_id: str,
    stats_expire_at: int,
    expire_at: int,
    msg: bytes,
    max_int64: int,
) -> Call:
    """Keep a succeeded task as completed; TaskNotActiveError when it is no longer leased."""
    keys = [active_key, lease_key, completed_key, task_key, processed_day_key]
    return _MARK_AS_COMPLETE.call(
        _with_optional([*keys, processed_total_key], unique_key),
        [task_id, stats_expire_at, expire_at, msg, max_int64],
    )


def done_batch(
    *,
    active_key: str,
    lease_key: str,
    processed_day_key: str,
    processed_total_key: str,
    task_keys: Sequence[tuple[str, str | None]],
    stats_expire_at: int,
    max_int64: int,
    task_ids: Sequence[str],
) -> Call:
    """:func:`done` for the tasks of one queue; replies 1 or 0 per task.

    ``task_keys`` pairs each task key with the task's uniqueness lock (None without one).
    """
    return _DONE_BATCH.call(
        [active_key, lease_key, processed_day_key, processed_total_key, *_paired(task_keys)],
        [stats_expire_at, max_int64, *task_ids],
    )


def mark_as_complete_batch(
    *,
    active_key: str,
    lease_key: str,
    completed_key: str,
    processed_day_key: str,
    processed_total_key: str,
    task_keys: Sequence[tuple[str, str | None]],
    stats_expire_at: int,
    max_int64: int,
    entries: Sequence[tuple[str, int, bytes]],
) -> Call:
    """:func:`mark_as_complete` for the tasks of one queue; replies 1, 0 or -1 per task.

    ``task_keys`` pairs each task key with its uniqueness lock (None without one);
    ``entries`` gives each task's ID, expire_at and completed message, in the same order.
    """
    keys = [active_key, lease_key, completed_key, processed_day_key, processed_total_key]
    return _MARK_AS_COMPLETE_BATCH.call(
        [*keys, *_paired(task_keys)],
        [stats_expire_at, max_int64, *(value for entry in entries for value in entry)],
    )


def requeue(
    *,
    active_key: str,
    lease_key: str,
    pending_key: str,
    task_key: str,
    task_id: str,
    now_ns: int,
    queue: str,
    wakeup_channel: str,
) -> Call:
    """Put an active task back at the front of pending; TaskNotActiveError if not leased."""
    return _REQUEUE.call(
        [active_key, lease_key, pending_key, task_key],
        [task_id, now_ns, queue, wakeup_channel],
    )


def retry(
    *,
    task_key: str,
    active_key: str,
    lease_key: str,
    retry_key: str,
    processed_day_key: str,
    failed_day_key: str,
    processed_total_key: str,
    failed_total_key: str,
    task_id: str,
    msg: bytes,
    retry_at: int,
    stats_expire_at: int,
    is_failure: bool,
    max_int64: int,
) -> Call:
    """Move a failed task to the retry set; TaskNotActiveError when it is no longer leased."""
    return _RETRY.call(
        [
            *(task_key, active_key, lease_key, retry_key),
            *(processed_day_key, failed_day_key, processed_total_key, failed_total_key),
        ],
        [task_id, msg, retry_at, stats_expire_at, "1" if is_failure else "0", max_int64],
    )


def archive(
    *,
    task_key: str,
    active_key: str,
    lease_key: str,
    archived_key: str,
    processed_day_key: str,
    failed_day_key: str,
    processed_total_key: str,
    failed_total_key: str,
    task_id: str,
    msg: bytes,
    now: int,
    cutoff: int,
    max_size: int,
    stats_expire_at: int,
    max_int64: int,
    task_key_prefix: str,
    decode_error: str,
) -> Call:
    """Move a task to the archive and trim it; TaskNotActiveError when it is not leased."""
    return _ARCHIVE.call(
        [
            *(task_key, active_key, lease_key, archived_key),
            *(processed_day_key, failed_day_key, processed_total_key, failed_total_key),
        ],
        [
            *(task_id, msg, now, cutoff, max_size, stats_expire_at, max_int64),
            *(task_key_prefix, decode_error),
        ],
    )


def forward(
    *,
    source_key: str,
    pending_key: str,
    groups_key: str,
    now: int,
    task_key_prefix: str,
    now_ns: int,
    group_key_prefix: str,
    limit: int,
    queue: str,
    wakeup_channel: str,
) -> Call:
    """Move up to ``limit`` due tasks out of ``source_key``; replies how many."""
    return _FORWARD.call(
        [source_key, pending_key, groups_key],
        [now, task_key_prefix, now_ns, group_key_prefix, limit, queue, wakeup_channel],
    )


def delete_expired_completed(
    *,
    completed_key: str,
    now: int,
    task_key_prefix: str,
    batch_size: int,
) -> Call:
    """Delete up to ``batch_size`` expired completed tasks; replies how many."""
    return _DELETE_EXPIRED_COMPLETED.call([completed_key], [now, task_key_prefix, batch_size])


def list_lease_expired(
    *, lease_key: str, active_key: str, cutoff: int, task_key_prefix: str
) -> Call:
    """Replies ID and msg of each task whose lease ended by ``cutoff``; drops orphans."""
    return _LIST_LEASE_EXPIRED.call([lease_key, active_key], [cutoff, task_key_prefix])


def write_result(*, task_key: str, result: bytes) -> Call:
    """Store a result on an existing task; replies the number of bytes written."""
    return _WRITE_RESULT.call([task_key], [result])


def aggregation_check(
    *,
    group_key: str,
    set_key: str,
    aggregation_sets_key: str,
    groups_key: str,
    max_size: int,
    max_delay: int,
    grace_period: int,
    set_deadline: int,
    now: int,
    group: str,
) -> Call:
    """Move a ready group into the set ``set_key``; replies 1 when the set was created."""
    return _AGGREGATION_CHECK.call(
        [group_key, set_key, aggregation_sets_key, groups_key],
        [max_size, max_delay, grace_period, set_deadline, now, group],
    )


def read_aggregation_set(*, set_key: str, aggregation_sets_key: str, task_key_prefix: str) -> Call:
    """Replies the set's deadline (nil when unlisted), then the msg of each of its tasks."""
    return _READ_AGGREGATION_SET.call([set_key, aggregation_sets_key], [task_key_prefix])


def delete_aggregation_set(
    *, set_key: str, aggregation_sets_key: str, task_key_prefix: str
) -> Call:
    """Delete an aggregation set with its task hashes."""
    return _DELETE_AGGREGATION_SET.call([set_key, aggregation_sets_key], [task_key_prefix])


def reclaim_stale_aggregation_sets(
    *,
    aggregation_sets_key: str,
    groups_key: str,
    now: int,
    group_key_prefix: str,
) -> Call:
    """Return the tasks of sets past their deadline to their groups; replies how many."""
    return _RECLAIM_STALE_AGGREGATION_SETS.call(
        [aggregation_sets_key, groups_key], [now, group_key_prefix]
    )


def aggregate_commit(
    *,
    set_key: str,
    aggregation_sets_key: str,
    task_key: str,
    pending_key: str,
    scheduled_key: str,
    unique_key: str | None,
    task_key_prefix: str,
    task_id: str,
    msg: bytes,
    now_ns: int,
    process_at: int,
    lock_ttl: int,
    queue: str,
    wakeup_channel: str,
) -> Call:
    """Store an aggregated task and delete its set; replies 0 when the set is gone.

    DuplicateTaskError or TaskIDConflictError when the task cannot be stored.
    """
    return _AGGREGATE_COMMIT.call(
        _with_optional(
            [set_key, aggregation_sets_key, task_key, pending_key, scheduled_key], unique_key
        ),
        [task_key_prefix, task_id, msg, now_ns, process_at, lock_ttl, queue, wakeup_channel],
    )


def write_server_state(
    *,
    server_key: str,
    workers_key: str,
    ttl: int,
    server_info: bytes,
    workers: Sequence[Arg],
) -> Call:
    """The server-state write, for a pipeline after the ZADDs that list both keys."""
    return _WRITE_SERVER_STATE.call([server_key, workers_key], [ttl, server_info, *workers])


def clear_server_state(*, server_key: str, workers_key: str) -> Call:
    """Delete a server's info and workers records."""
    return _CLEAR_SERVER_STATE.call([server_key, workers_key])


def finish_error(
    code: int, *, active_key: str, completed_key: str, task_id: str
) -> AsyncqError | None:
    """The error a batch finishing script's code for one task stands for, or None for 1."""
    return _MARK_AS_COMPLETE.error_for_reply(code, [active_key, "", completed_key], [task_id])


def _paired(task_keys: Sequence[tuple[str, str | None]]) -> list[str]:
    """Each task key followed by its lock, or by itself again when the task has none."""
    return [key for task_key, lock in task_keys for key in (task_key, lock or task_key)]


def _with_optional(keys: list[str], optional: str | None) -> list[str]:
    return [*keys, optional] if optional else keys
