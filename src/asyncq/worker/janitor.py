"""The janitor: deletes completed tasks whose retention has run out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asyncq.broker import Broker
from asyncq.worker.component import PeriodicComponent


@dataclass(frozen=True, slots=True)
class JanitorParams:
    broker: Broker
    queues: Sequence[str]
    interval: float = 8.0
    batch_size: int = 100


class Janitor(PeriodicComponent):
    """Every interval deletes expired completed tasks of each served queue, in batches."""

    name = "janitor"

    def __init__(self, params: JanitorParams) -> None:
        super().__init__(params.interval)
        self._broker = params.broker
        self._queues = list(params.queues)
        self._batch_size = params.batch_size

    async def step(self) -> None:
        for queue in self._queues:
            deleted = await self._broker.delete_expired_completed(queue, self._batch_size)
            if deleted:
                self.logger.debug("Deleted %d expired completed tasks of queue=%s.", deleted, queue)
