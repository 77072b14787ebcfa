"""The forwarder: moves scheduled and retry tasks that are due into their pending lists.

Due times are whole Unix seconds (asynq stores them so), so the forwarder steps just after
each multiple of its interval on the clock rather than at a random phase: a task due at a
second starts a few milliseconds after it, not up to an interval later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asyncq.broker import Broker
from asyncq.worker.component import PeriodicComponent


@dataclass(frozen=True, slots=True)
class ForwarderParams:
    broker: Broker
    queues: Sequence[str]
    interval: float = 1.0
    on_forwarded: Callable[[], None] | None = None


ALIGN_AFTER_S = 0.002
"""How long after a multiple of the interval a step runs, so that clock reads round down
to the second that has just begun."""


class Forwarder(PeriodicComponent):
    """Every interval forwards due tasks and wakes the processor when it moved some."""

    name = "forwarder"

    def __init__(self, params: ForwarderParams) -> None:
        super().__init__(params.interval)
        self._broker = params.broker
        self._queues = list(params.queues)
        self._on_forwarded = params.on_forwarded
        self._clock = params.broker.clock

    def next_delay(self) -> float:
        """Until just after the next multiple of the interval on the broker's clock."""
        return self.interval - self._clock.now() % self.interval + ALIGN_AFTER_S

    async def step(self) -> None:
        moved = await self._broker.forward_if_ready(self._queues)
        if moved:
            self.logger.debug("Forwarded %d due tasks.", moved)
            if self._on_forwarded is not None:
                self._on_forwarded()
