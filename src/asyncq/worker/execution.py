"""One task in flight: what the processor, heartbeat and subscriber share about it."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from asyncq.context import ActiveTask
from asyncq.proto import TaskMessage
from asyncq.worker.failures import DeadlineExceeded, TaskFailure


@dataclass(slots=True, eq=False)
class Execution:
    """A leased task: its message, the handler's view, its deadline and its lease.

    ``deadline`` and ``lease_expires_at`` are Unix seconds on the broker's clock; the
    heartbeat moves ``lease_expires_at`` forward while the lease is renewed.
    """

    msg: TaskMessage
    task: ActiveTask
    started_at: float
    deadline: float
    lease_expires_at: float
    runner: asyncio.Task[None] | None = None
    in_handler: bool = True
    abort: TaskFailure | None = None
    thread: Future[Any] | None = None

    def lease_valid(self, now: float) -> bool:
        return now < self.lease_expires_at

    def interrupt(self, reason: TaskFailure) -> bool:
        """Stop the handler with ``reason``; False when it already finished or was stopped."""
        if self.abort is not None or not self.in_handler or self.runner is None:
            return False
        self.abort = reason
        self.runner.cancel()
        return True

    def expire(self) -> None:
        """Stop the handler because the attempt's deadline passed."""
        self.interrupt(DeadlineExceeded())
