"""Finishing many succeeded tasks with one script call per queue instead of one per task.

A worker under load finishes dozens of tasks per round trip. Calling ``done`` (or
``mark_as_complete``) once per task inside a pipeline costs Redis and redis-py one EVALSHA
each; the batch scripts ``done_batch`` and ``mark_as_complete_batch`` take all the tasks of
one queue at once and leave exactly the state that the single calls leave, task by task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asyncq.errors import AsyncqError
from asyncq.proto import TaskMessage
from asyncq.redis import keys
from asyncq.redis import task_scripts as scripts
from asyncq.redis.scripts import Call


@dataclass(frozen=True, slots=True)
class Batch:
    """One script call and the positions, in the caller's list, of the tasks it finishes."""

    call: Call
    positions: list[int]
    queue: str


@dataclass(frozen=True, slots=True)
class Counting:
    """What the processed counters need: the time, a new daily counter's expiry, the wrap."""

    now: float
    stats_expire_at: int
    max_int64: int


def batches(msgs: Sequence[TaskMessage], counting: Counting, keep_completed: bool) -> list[Batch]:
    """One call per queue and kind; with ``keep_completed`` a task with a retention is
    kept as completed (``mark_as_complete``), every other task is deleted (``done``)."""
    groups: dict[tuple[str, bool], list[int]] = {}
    for position, msg in enumerate(msgs):
        kept = keep_completed and msg.retention > 0
        groups.setdefault((msg.queue, kept), []).append(position)
    return [
        Batch(_call(queue, kept, [msgs[p] for p in positions], counting), positions, queue)
        for (queue, kept), positions in groups.items()
    ]


def outcomes(
    msgs: Sequence[TaskMessage], done: Sequence[Batch], replies: Sequence[Any]
) -> list[BaseException | None]:
    """Per task None, or the error its code (or its batch's failure) stands for."""
    results: list[BaseException | None] = [None] * len(msgs)
    for batch, reply in zip(done, replies, strict=True):
        for index, position in enumerate(batch.positions):
            results[position] = _outcome(reply, index, batch.queue, msgs[position].id)
    return results


def _outcome(reply: Any, index: int, queue: str, task_id: str) -> BaseException | None:
    if isinstance(reply, AsyncqError):
        return reply
    return scripts.finish_error(
        reply[index],
        active_key=keys.active_key(queue),
        completed_key=keys.completed_key(queue),
        task_id=task_id,
    )


def _call(queue: str, kept: bool, msgs: list[TaskMessage], counting: Counting) -> Call:
    now = counting.now
    task_keys = [(keys.task_key(queue, msg.id), msg.unique_key or None) for msg in msgs]
    active_key, lease_key = keys.active_key(queue), keys.lease_key(queue)
    day_key, total_key = keys.processed_key(queue, now), keys.processed_total_key(queue)
    if not kept:
        return scripts.done_batch(
            active_key=active_key,
            lease_key=lease_key,
            processed_day_key=day_key,
            processed_total_key=total_key,
            task_keys=task_keys,
            stats_expire_at=counting.stats_expire_at,
            max_int64=counting.max_int64,
            task_ids=[msg.id for msg in msgs],
        )
    return scripts.mark_as_complete_batch(
        active_key=active_key,
        lease_key=lease_key,
        completed_key=keys.completed_key(queue),
        processed_day_key=day_key,
        processed_total_key=total_key,
        task_keys=task_keys,
        stats_expire_at=counting.stats_expire_at,
        max_int64=counting.max_int64,
        entries=[(msg.id, int(now) + msg.retention, _completed(msg, now)) for msg in msgs],
    )


def _completed(msg: TaskMessage, now: float) -> bytes:
    """The message as a completed task stores it: completed_at set, all else unchanged."""
    completed = TaskMessage()
    completed.CopyFrom(msg)
    completed.completed_at = int(now)
    return completed.SerializeToString()
