"""The broker: every operation the runtime performs on the task store, in asynq's words.

Components (client, processor, heartbeat, recoverer, forwarder, janitor, aggregator)
hold a :class:`Broker` and never talk to Redis themselves. The scheduler's own records
(entries, history, fire locks) live in a store of their own beside it. The Redis
implementation lives in :mod:`asyncq.redis.broker`; tests of fault handling wrap it.

Times are read from the broker's clock. Scores and message times are whole Unix seconds,
as the protocol stores them. Every method raises :class:`~asyncq.errors.BrokerError` (or
its subclass :class:`~asyncq.errors.BrokerUnavailableError`) when Redis fails; no
redis-py exception crosses this boundary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from asyncq.clock import Clock
from asyncq.proto import ServerInfo, TaskMessage, WorkerInfo


@dataclass(frozen=True, slots=True)
class Dequeued:
    """A task leased to this worker until ``lease_expires_at`` (Unix seconds).

    A task whose stored message cannot be decoded is still leased and reported, so that it
    is archived instead of blocking or crashing anything: then ``decode_error`` says why,
    ``message`` carries only the task ID and queue, and ``raw`` holds the stored bytes. The
    worker hands such a task to :meth:`Broker.archive_corrupt`, which keeps the raw bytes in
    the archive for an operator to look at.
    """

    message: TaskMessage
    lease_expires_at: float
    raw: bytes = b""
    decode_error: str | None = None

    @property
    def task_id(self) -> str:
        return self.message.id

    @property
    def queue(self) -> str:
        return self.message.queue


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """Which messages of a batch enqueue were stored; the others had a taken task ID."""

    enqueued: Sequence[bool]


class Broker(Protocol):
    clock: Clock
    lease_duration: float

    # --- producer side -----------------------------------------------------------------

    async def publish_queue(self, queue: str) -> None:
        """Register ``queue`` in ``asynq:queues`` so inspectors and UIs list it."""

    async def enqueue(self, msg: TaskMessage, unique_ttl: int | None = None) -> None:
        """Store a pending task; with ``unique_ttl`` also take its uniqueness lock.

        Raises DuplicateTaskError or TaskIDConflictError; on either, nothing is written.
        """

    async def schedule(
        self, msg: TaskMessage, process_at: int, unique_ttl: int | None = None
    ) -> None:
        """Store a task that becomes pending at ``process_at`` (Unix seconds)."""

    async def add_to_group(
        self, msg: TaskMessage, group: str, unique_ttl: int | None = None
    ) -> None:
        """Store a task that waits in ``group`` for aggregation."""

    async def enqueue_batch(self, msgs: Sequence[TaskMessage]) -> BatchOutcome:
        """Store many pending tasks (no uniqueness, no group) in as few round trips as can be."""

    # --- worker side -------------------------------------------------------------------

    async def dequeue(self, queues: Sequence[str], limit: int) -> list[Dequeued]:
        """Lease up to ``limit`` tasks, trying ``queues`` in order and skipping paused ones.

        Returns an empty list when no task is ready.
        """

    async def dequeue_when_ready(
        self, queue: str, limit: int, wait: float
    ) -> list[Dequeued] | None:
        """Wait up to ``wait`` seconds for a task in ``queue`` and lease up to ``limit``.

        Returns [] when none came, None when waiting so is not possible (the queue holds
        tasks that cannot be leased, or the deployment does not support it).
        """

    async def done(self, msg: TaskMessage) -> None:
        """Delete a succeeded task (retention 0, or revoked) and count it as processed.

        This and the other methods that finish an active task (mark_as_complete, requeue,
        retry, archive) raise TaskNotActiveError, writing nothing, when the task is no longer
        leased; retry and archive record the error, failure time and retry count themselves.
        """

    async def mark_as_complete(self, msg: TaskMessage) -> None:
        """Keep a succeeded task as completed for its retention and count it as processed."""

    async def requeue(self, msg: TaskMessage) -> None:
        """Put an unfinished task back at the front of its queue (shutdown), counting nothing."""

    async def retry(self, msg: TaskMessage, retry_at: float, error: str, is_failure: bool) -> None:
        """Move a failed task to the retry set; ``is_failure`` counts it and its retry."""

    async def archive(self, msg: TaskMessage, error: str) -> None:
        """Move a task that will not run again to the archive, counted as failed."""

    async def archive_corrupt(self, queue: str, task_id: str, reason: str) -> None:
        """Archive a leased task whose message cannot be decoded, keeping its raw bytes.

        ``reason`` is stored in the task hash's ``decode_error`` field; counted as failed.
        """

    async def done_many(self, msgs: Sequence[TaskMessage]) -> list[BaseException | None]:
        """:meth:`done` for several tasks in one round trip; per task None or the error."""

    async def succeed_many(self, msgs: Sequence[TaskMessage]) -> list[BaseException | None]:
        """Finish succeeded tasks in one round trip; per task None or the error.

        A task with a retention is kept as completed (:meth:`mark_as_complete`), any other
        is deleted (:meth:`done`).
        """

    async def extend_leases(self, queue: str, task_ids: Sequence[str]) -> float:
        """Extend the leases of running tasks; return the new expiry (Unix seconds)."""

    async def forward_if_ready(self, queues: Sequence[str]) -> int:
        """Move due scheduled and retry tasks to pending (or back to their group)."""

    async def delete_expired_completed(self, queue: str, batch_size: int) -> int:
        """Delete completed tasks whose retention has run out; return how many."""

    async def list_lease_expired(self, queues: Sequence[str], cutoff: float) -> list[TaskMessage]:
        """Messages of active tasks whose lease ended before ``cutoff`` (Unix seconds).

        Lease entries whose task is gone are removed; a task whose message cannot be decoded
        is archived on the spot (see :meth:`archive_corrupt`) and not returned.
        """

    async def write_result(self, queue: str, task_id: str, data: bytes) -> int:
        """Store a handler's result on its task; return the number of bytes written."""

    # --- groups ------------------------------------------------------------------------

    async def list_groups(self, queue: str) -> list[str]: ...

    async def aggregation_check(
        self, queue: str, group: str, grace_period: float, max_delay: float, max_size: int
    ) -> str | None:
        """Move a ready group into a new aggregation set; return the set ID, or None."""

    async def read_aggregation_set(
        self, queue: str, group: str, set_id: str
    ) -> tuple[list[TaskMessage], float]:
        """The set's messages and its deadline (Unix seconds)."""

    async def delete_aggregation_set(self, queue: str, group: str, set_id: str) -> None: ...

    async def reclaim_stale_aggregation_sets(self, queue: str) -> None:
        """Return the tasks of aggregation sets past their deadline to their groups."""

    async def commit_aggregation(
        self,
        msg: TaskMessage,
        group: str,
        set_id: str,
        process_at: int | None = None,
        unique_ttl: int | None = None,
    ) -> bool:
        """Store the task made from an aggregation set and delete the set, in one step.

        The task goes to ``msg.queue`` (the group's queue): pending, or scheduled at
        ``process_at``. Returns False, writing nothing, when the set is gone (reclaimed
        after its deadline). Raises DuplicateTaskError or TaskIDConflictError; on either,
        nothing is written and the set stays for the recoverer.
        """

    # --- server state, cancellation and wake-ups ---------------------------------------

    async def write_server_state(
        self, info: ServerInfo, workers: Sequence[WorkerInfo], ttl: int
    ) -> None: ...

    async def clear_server_state(self, host: str, pid: int, server_id: str) -> None: ...

    async def publish_cancel(self, task_id: str) -> None: ...

    def listen(self, channels: Sequence[str]) -> AsyncIterator[tuple[str, str]]:
        """Yield (channel, message) pairs; raise BrokerUnavailableError when the link drops."""
        ...

    # --- connection --------------------------------------------------------------------

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
