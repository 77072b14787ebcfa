"""The forwarder: moves scheduled and retry tasks that are due into their pending lists."""

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


class Forwarder(PeriodicComponent):
    """Every interval forwards due tasks and wakes the processor when it moved some."""

    name = "forwarder"

    def __init__(self, params: ForwarderParams) -> None:
        super().__init__(params.interval)
        self._broker = params.broker
        self._queues = list(params.queues)
        self._on_forwarded = params.on_forwarded

    async def step(self) -> None:
        moved = await self._broker.forward_if_ready(self._queues)
        if moved:
            self.logger.debug("Forwarded %d due tasks.", moved)
            if self._on_forwarded is not None:
                self._on_forwarded()
