"""Inspector: look at queues, tasks, servers and schedulers, and act on them.

It reads and writes the same Redis records as Go asynq's Inspector, so it sees tasks that
Go clients enqueued and Go's CLI and web UI see what it changes. Reads stay cheap on big
queues: listing reads one page, never a whole container. Where asynq leaves garbage or
half-applied changes behind, asyncq does not (see ``scripts/inspect_*.lua``).

::

    async with Inspector.from_url("redis://127.0.0.1:6379/0") as inspector:
        for queue in await inspector.queues():
            info = await inspector.queue_info(queue)
            print(queue, info.pending, info.latency)
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

import redis.asyncio as aioredis

from asyncq.clock import SYSTEM_CLOCK, Clock
from asyncq.errors import ConfigError, QueueNotFoundError
from asyncq.inspection_types import (
    ARCHIVABLE_STATES,
    DELETABLE_STATES,
    RUNNABLE_STATES,
    ClusterNodeInfo,
    DailyStats,
    GroupInfo,
    QueueInfo,
    SchedulerEnqueueEvent,
    SchedulerEntryInfo,
    ServerInfo,
)
from asyncq.redis.admin import RedisAdmin
from asyncq.redis.cluster_info import cluster_key_slot, cluster_nodes
from asyncq.redis.connection import connect
from asyncq.task import TaskInfo, TaskState

DEFAULT_PAGE_SIZE = 30


def page_range(page: int, page_size: int) -> tuple[int, int]:
    """The first and last position (inclusive) of a 1-based page; pages below 1 mean 1."""
    page = max(page, 1)
    page_size = max(page_size, 0)
    start = page_size * (page - 1)
    return start, start + page_size - 1


class Inspector:
    """Reads and administers asynq queues on one Redis.

    ``client`` must be a binary connection (``decode_responses=False``); an inspector built
    with :meth:`from_url` owns its connection and closes it in :meth:`close`.
    """

    def __init__(
        self, client: aioredis.Redis, clock: Clock = SYSTEM_CLOCK, owns_client: bool = False
    ) -> None:
        self._admin = RedisAdmin(client, clock)
        self._client = client
        self._owns_client = owns_client

    @classmethod
    def from_url(cls, url: str, clock: Clock = SYSTEM_CLOCK) -> Inspector:
        """An inspector with its own connection to the Redis at ``url``."""
        return cls(connect(url), clock, owns_client=True)

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Inspector:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- queues ------------------------------------------------------------------------

    async def queues(self) -> list[str]:
        """Every queue that has had a task enqueued and was not removed, sorted by name."""
        return await self._admin.queues()

    async def queue_info(self, queue: str) -> QueueInfo:
        await self._require_queue(queue)
        return await self._admin.queue_info(queue)

    async def history(self, queue: str, days: int = 10) -> list[DailyStats]:
        """Processed and failed counts of the last ``days`` UTC days, today first."""
        if days < 1:
            raise ConfigError(f"The number of days must be 1 or more, got {days}.")
        await self._require_queue(queue)
        return await self._admin.history(queue, days)

    async def groups(self, queue: str) -> list[GroupInfo]:
        await self._require_queue(queue)
        return await self._admin.groups(queue)

    async def pause_queue(self, queue: str) -> None:
        """Stop servers from taking tasks of ``queue``; tasks can still be enqueued."""
        _require_name(queue)
        await self._admin.pause(queue)

    async def unpause_queue(self, queue: str) -> None:
        _require_name(queue)
        await self._admin.unpause(queue)

    async def delete_queue(self, queue: str, force: bool = False) -> None:
        """Remove ``queue`` with all its records.

        Without ``force`` the queue must hold no task that still has to run; with it, only
        running tasks prevent the removal.
        """
        await self._require_queue(queue)
        await self._admin.remove_queue(queue, force)

    # --- tasks -------------------------------------------------------------------------

    async def get_task_info(self, queue: str, task_id: str) -> TaskInfo:
        await self._require_queue(queue)
        return await self._admin.get_task(queue, task_id)

    async def list_tasks(
        self,
        queue: str,
        state: TaskState | str,
        *,
        group: str = "",
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> list[TaskInfo]:
        """One page of the tasks in ``state``, oldest first.

        Pending and active tasks come in the order they will run or were taken; the other
        states in ascending score (the time they become due, were archived or expire).
        Active tasks whose lease ran out are flagged ``is_orphaned``.
        """
        parsed = _state(state, tuple(TaskState), group)
        await self._require_queue(queue)
        start, stop = page_range(page, page_size)
        if stop < start:
            return []
        return await self._admin.list_tasks(queue, parsed, start, stop, group)

    async def run_task(self, queue: str, task_id: str) -> None:
        """Move a scheduled, retry, archived, completed or aggregating task to pending."""
        await self._require_queue(queue)
        await self._admin.run_task(queue, task_id)

    async def archive_task(self, queue: str, task_id: str) -> None:
        """Move a task that is not running to the archive."""
        await self._require_queue(queue)
        await self._admin.archive_task(queue, task_id)

    async def delete_task(self, queue: str, task_id: str) -> None:
        """Delete a task that is not running, and the uniqueness lock it holds."""
        await self._require_queue(queue)
        await self._admin.delete_task(queue, task_id)

    async def run_all_tasks(self, queue: str, state: TaskState | str, group: str = "") -> int:
        """Move every task in ``state`` (scheduled, retry, archived, aggregating) to pending."""
        parsed = _state(state, RUNNABLE_STATES, group)
        await self._require_queue(queue)
        return await self._admin.run_all(queue, parsed, group)

    async def archive_all_tasks(self, queue: str, state: TaskState | str, group: str = "") -> int:
        """Archive every task in ``state`` (pending, scheduled, retry, aggregating)."""
        parsed = _state(state, ARCHIVABLE_STATES, group)
        await self._require_queue(queue)
        return await self._admin.archive_all(queue, parsed, group)

    async def delete_all_tasks(self, queue: str, state: TaskState | str, group: str = "") -> int:
        """Delete every task in ``state``; running tasks must be cancelled instead."""
        parsed = _state(state, DELETABLE_STATES, group)
        await self._require_queue(queue)
        return await self._admin.delete_all(queue, parsed, group)

    async def cancel_processing(self, task_id: str) -> int:
        """Ask the server running ``task_id`` to cancel it; return how many servers heard.

        Best effort, as in asynq: nothing is stored, and a server that is not listening
        right now never learns of it.
        """
        return await self._admin.cancel(task_id)

    async def update_task_payload(self, queue: str, task_id: str, payload: bytes) -> TaskInfo:
        """Replace the payload of a scheduled task, atomically."""
        await self._require_queue(queue)
        return await self._admin.update_task_payload(queue, task_id, payload)

    # --- servers and schedulers --------------------------------------------------------

    async def servers(self) -> list[ServerInfo]:
        """Servers that sent a heartbeat recently, with the tasks they are running."""
        return await self._admin.servers()

    async def scheduler_entries(self) -> list[SchedulerEntryInfo]:
        return await self._admin.scheduler_entries()

    async def list_scheduler_enqueue_events(
        self, entry_id: str, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[SchedulerEnqueueEvent]:
        """One page of the tasks a scheduler entry enqueued, newest first."""
        start, stop = page_range(page, page_size)
        if stop < start:
            return []
        return await self._admin.scheduler_events(entry_id, start, stop)

    async def redis_info(self) -> dict[str, Any]:
        """The Redis server's INFO fields, such as ``redis_version`` and ``used_memory``."""
        return await self._admin.redis_info()

    # --- Redis Cluster ------------------------------------------------------------------

    async def cluster_key_slot(self, queue: str) -> int:
        """The Redis Cluster slot that holds every key of ``queue``."""
        return await cluster_key_slot(self._client, queue)

    async def cluster_nodes(self, queue: str) -> list[ClusterNodeInfo]:
        """The cluster nodes serving ``queue``'s slot: its master first, then replicas."""
        return await cluster_nodes(self._client, queue)

    async def _require_queue(self, queue: str) -> None:
        _require_name(queue)
        if not await self._admin.queue_exists(queue):
            raise QueueNotFoundError(
                f'Queue "{queue}" does not exist; the known queues are listed by '
                "Inspector.queues() or `asyncq queue ls`."
            )


def _require_name(queue: str) -> None:
    if not queue.strip():
        raise ConfigError("A queue name must contain at least one non-space character.")


def _state(state: TaskState | str, allowed: Sequence[TaskState], group: str) -> TaskState:
    """``state`` parsed and checked against what the operation accepts."""
    try:
        parsed = TaskState(state)
    except ValueError:
        names = ", ".join(s.value for s in TaskState)
        raise ConfigError(f'"{state}" is not a task state; use one of {names}.') from None
    if parsed not in allowed:
        names = ", ".join(s.value for s in allowed)
        raise ConfigError(f"This operation does not apply to {parsed} tasks; use {names}.")
    if parsed is TaskState.AGGREGATING and not group:
        raise ConfigError("Aggregating tasks live in groups; name the group as well.")
    return parsed
