"""The health check: pings Redis on a timer and tells the application the result."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asyncq.broker import Broker
from asyncq.errors import BrokerError
from asyncq.worker.component import PeriodicComponent

HealthCheckFunc = Callable[[BrokerError | None], "Awaitable[None] | None"]


@dataclass(frozen=True, slots=True)
class HealthCheckParams:
    broker: Broker
    func: HealthCheckFunc
    interval: float = 15.0


class HealthCheck(PeriodicComponent):
    """Every interval calls ``func`` with None when Redis answers, else with the error."""

    name = "healthcheck"

    def __init__(self, params: HealthCheckParams) -> None:
        super().__init__(params.interval)
        self._broker = params.broker
        self._func = params.func

    async def step(self) -> None:
        error: BrokerError | None = None
        try:
            await self._broker.ping()
        except BrokerError as exc:
            error = exc
        outcome = self._func(error)
        if inspect.isawaitable(outcome):
            await outcome
