"""Turning a task and its options into the message to store, by asynq's client rules.

The client, the scheduler and the aggregator all enqueue; this module is what they share,
free of any Redis code. Options are resolved as asynq does: the task's own options first,
the call's options over them; queue ``default``, 25 retries and a 30-minute timeout unless
a timeout or deadline is given. A task due later is *scheduled*, a task with a group waits
in that group for aggregation, any other is *pending* at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from asyncq.errors import ConfigError
from asyncq.naming import checked_queue_name
from asyncq.proto import TaskMessage
from asyncq.redis import keys
from asyncq.task import (
    DEFAULT_MAX_RETRY,
    DEFAULT_QUEUE,
    DEFAULT_TIMEOUT_S,
    Task,
    TaskInfo,
    TaskOptions,
    TaskState,
    seconds,
    unix_seconds,
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A task turned into the message to store and the way to store it."""

    msg: TaskMessage
    state: TaskState
    now: float
    process_at: float
    unique_ttl: int | None

    def info(self) -> TaskInfo:
        """What Enqueue returns: pending tasks are due now, grouped ones have no due time."""
        due = {TaskState.PENDING: self.now, TaskState.SCHEDULED: self.process_at}.get(self.state)
        return TaskInfo.from_message(self.msg, self.state, next_process_at=due)

    @property
    def batchable(self) -> bool:
        return self.state is TaskState.PENDING and self.unique_ttl is None


def prepare(task: Task, call_options: TaskOptions, now: float) -> Prepared:
    """Validate ``task`` with its options and build its message (asynq's client rules)."""
    if not task.type.strip():
        raise ConfigError("task typename cannot be empty; give the task a type, e.g. 'email:send'.")
    opts = _merged(task.options, call_options)
    process_at = _process_at(task.options, call_options, now)
    unique_ttl = _unique_ttl(opts)

    msg = TaskMessage(
        type=task.type,
        payload=task.payload or b"",
        id=_task_id(opts),
        queue=_queue(opts),
        retry=max(opts.max_retry if opts.max_retry is not None else DEFAULT_MAX_RETRY, 0),
        retention=int(seconds(opts.retention)) if opts.retention is not None else 0,
        group_key=_group(opts),
    )
    msg.headers.update(task.headers)
    msg.timeout, msg.deadline = _timeout_and_deadline(opts)
    if unique_ttl is not None:
        msg.unique_key = keys.unique_key(msg.queue, task.type, task.payload)

    if process_at > now:
        lock = None if unique_ttl is None else int(process_at + unique_ttl - now)
        return Prepared(msg, TaskState.SCHEDULED, now, process_at, lock)
    path = TaskState.AGGREGATING if msg.group_key else TaskState.PENDING
    return Prepared(msg, path, now, now, None if unique_ttl is None else int(unique_ttl))


NO_OPTIONS = TaskOptions()
"""The options of a call that gives none."""


def _merged(task_options: TaskOptions, call_options: TaskOptions) -> TaskOptions:
    """The task's options overridden by the call's; cheap when either gives none."""
    if call_options == NO_OPTIONS:
        return task_options
    if task_options == NO_OPTIONS:
        return call_options
    return task_options.merged(call_options)


def _queue(opts: TaskOptions) -> str:
    return checked_queue_name(opts.queue) if opts.queue is not None else DEFAULT_QUEUE


def _task_id(opts: TaskOptions) -> str:
    if opts.task_id is None:
        return str(uuid.uuid4())
    if not opts.task_id.strip():
        raise ConfigError("task ID cannot be empty; leave task_id out to get a random one.")
    return opts.task_id


def _group(opts: TaskOptions) -> str:
    if opts.group is None:
        return ""
    if not opts.group.strip():
        raise ConfigError("group key cannot be empty; leave group out for an ungrouped task.")
    return opts.group


def _unique_ttl(opts: TaskOptions) -> float | None:
    if opts.unique is None:
        return None
    ttl = seconds(opts.unique)
    if ttl < 1:
        raise ConfigError(f"Unique TTL cannot be less than 1s; got {ttl} s.")
    return ttl


def _timeout_and_deadline(opts: TaskOptions) -> tuple[int, int]:
    """Whole seconds; a timeout under one second is stored as 1 s rather than lost as 0."""
    timeout = seconds(opts.timeout) if opts.timeout is not None else 0.0
    if timeout < 0:
        raise ConfigError(f"timeout cannot be negative; got {timeout} s.")
    deadline = int(unix_seconds(opts.deadline)) if opts.deadline is not None else 0
    stored = max(int(timeout), 1) if timeout > 0 else 0
    if stored == 0 and deadline == 0:
        return DEFAULT_TIMEOUT_S, 0
    return stored, deadline


def _process_at(task_options: TaskOptions, call_options: TaskOptions, now: float) -> float:
    """The call's process_at/process_in if given, else the task's, else now."""
    for opts in (call_options, task_options):
        if opts.process_at is not None and opts.process_in is not None:
            raise ConfigError("Give process_at or process_in, not both.")
        if opts.process_at is not None:
            return unix_seconds(opts.process_at)
        if opts.process_in is not None:
            return now + seconds(opts.process_in)
    return now
