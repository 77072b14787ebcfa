"""The recoverer: takes back tasks whose worker stopped renewing their lease.

A task still active after its lease ended (plus a clock-skew cutoff) belongs to a worker
that died or lost Redis. It is retried, or archived when out of retries, with the error
``asynq: task lease expired``. Aggregation sets past their deadline go back to their group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asyncq.broker import Broker
from asyncq.context import ActiveTask
from asyncq.errors import TaskNotActiveError
from asyncq.proto import TaskMessage
from asyncq.worker.component import PeriodicComponent
from asyncq.worker.failures import LeaseExpired
from asyncq.worker.outcomes import Outcomes


@dataclass(frozen=True, slots=True)
class RecovererParams:
    broker: Broker
    outcomes: Outcomes
    queues: Sequence[str]
    interval: float = 60.0
    cutoff: float = 30.0
    on_recovered: Callable[[], None] | None = None


class Recoverer(PeriodicComponent):
    """Every interval (and once at start) recovers lease-expired tasks of the served queues."""

    name = "recoverer"

    def __init__(self, params: RecovererParams) -> None:
        super().__init__(params.interval, run_first=True)
        self._broker = params.broker
        self._outcomes = params.outcomes
        self._queues = list(params.queues)
        self._cutoff = params.cutoff
        self._on_recovered = params.on_recovered

    async def step(self) -> None:
        cutoff = self._broker.clock.now() - self._cutoff
        expired = await self._broker.list_lease_expired(self._queues, cutoff)
        for msg in expired:
            await self._recover(msg)
        for queue in self._queues:
            await self._broker.reclaim_stale_aggregation_sets(queue)

    async def _recover(self, msg: TaskMessage) -> None:
        task = ActiveTask(msg, self._broker)
        task.running = False
        write, verb = self._outcomes.failure_write(msg, task, LeaseExpired())
        try:
            await write()
        except TaskNotActiveError:
            self.logger.debug("Task id=%s finished before it could be recovered.", msg.id)
            return
        self.logger.info(
            "Recovered task id=%s type=%s after its lease expired (%s).", msg.id, msg.type, verb
        )
