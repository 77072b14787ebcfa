"""Retries completion writes that failed because Redis was unreachable.

A write is worth retrying only while the task's lease lasts: after that the recoverer
owns the task and a late write would contradict it. One last attempt runs at shutdown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asyncq.clock import Clock
from asyncq.errors import BrokerError, TaskNotActiveError
from asyncq.worker.component import PeriodicComponent


@dataclass(frozen=True, slots=True)
class SyncerParams:
    clock: Clock
    interval: float = 5.0


@dataclass(frozen=True, slots=True)
class _Pending:
    write: Callable[[], Awaitable[None]]
    deadline: float
    description: str


class Syncer(PeriodicComponent):
    """Holds failed writes and replays them every interval until they succeed or expire."""

    name = "syncer"

    def __init__(self, params: SyncerParams) -> None:
        super().__init__(params.interval)
        self._clock = params.clock
        self._pending: list[_Pending] = []

    def add(self, write: Callable[[], Awaitable[None]], deadline: float, description: str) -> None:
        self._pending.append(_Pending(write, deadline, description))

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    async def step(self) -> None:
        pending, self._pending = self._pending, []
        for item in pending:
            if self._clock.now() >= item.deadline:
                self.logger.warning(
                    "Gave up the %s: its lease expired, so the recoverer will take the task.",
                    item.description,
                )
                continue
            try:
                await item.write()
            except TaskNotActiveError:
                self.logger.debug("Dropped the %s: the task is no longer leased.", item.description)
            except BrokerError:
                self._pending.append(item)

    async def shutdown(self) -> None:
        await super().shutdown()
        await self._guarded_step()
