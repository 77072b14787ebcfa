"""The shape every background component shares, and the helpers their loops use.

A component has a params object, a constructor, ``start``, ``shutdown`` and one loop
step; :class:`PeriodicComponent` runs the step on a timer so each component file holds
only what its step does. Errors of a step are logged (rate-limited) and never end the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from asyncq.errors import BrokerError


class ThrottledLog:
    """Logs a repeated error at most once per ``period`` seconds, counting the rest."""

    def __init__(self, logger: logging.Logger, period: float = 3.0) -> None:
        self._logger = logger
        self._period = period
        self._last = -period
        self._suppressed = 0

    def error(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < self._period:
            self._suppressed += 1
            return
        if self._suppressed:
            message += " (%d similar errors were not logged.)"
            args = (*args, self._suppressed)
        self._logger.error(message, *args)
        self._last = now
        self._suppressed = 0


class Backoff:
    """Growing waits after consecutive failures, capped, reset by a success."""

    def __init__(self, initial: float = 0.05, cap: float = 2.0) -> None:
        self._initial = initial
        self._cap = cap
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self._cap)
        return delay

    def reset(self) -> None:
        self._next = self._initial


class PeriodicComponent:
    """Runs :meth:`step` every ``interval`` seconds until shut down.

    With ``run_first`` the first step runs at start, otherwise after one interval.
    """

    name = "component"

    def __init__(self, interval: float, run_first: bool = False) -> None:
        self.interval = interval
        self.run_first = run_first
        self.logger = logging.getLogger(f"asyncq.{self.name}")
        self._errors = ThrottledLog(self.logger)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.logger.debug("Starting %s.", self.name)
        self._task = asyncio.create_task(self._loop(), name=f"asyncq-{self.name}")

    async def shutdown(self) -> None:
        self.logger.debug("Stopping %s.", self.name)
        self._stopping.set()
        if self._task is not None:
            await self._task
        self.logger.debug("Stopped %s.", self.name)

    async def step(self) -> None:
        raise NotImplementedError

    def next_delay(self) -> float:
        """Seconds until the next step; a component may align its steps to the clock."""
        return self.interval

    async def _loop(self) -> None:
        if not self.run_first and await self._sleep(self.next_delay()):
            return
        while True:
            await self._guarded_step()
            if await self._sleep(self.next_delay()):
                return

    async def _guarded_step(self) -> None:
        try:
            await self.step()
        except BrokerError as exc:
            self._errors.error("The %s could not reach Redis: %s", self.name, exc)
        except Exception:
            self.logger.exception("The %s step failed.", self.name)

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` or until shutdown; return whether shutdown was asked."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        return self._stopping.is_set()
