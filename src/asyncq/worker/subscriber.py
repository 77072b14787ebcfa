"""The subscriber: one pub/sub link for task cancellations and producer wake-ups.

``asynq:cancel`` carries the ID of a task to cancel wherever it runs; ``asyncq:wakeup``
tells idle workers that a producer enqueued work. When the link drops it is opened again
with a capped back-off, and the processor is woken because signals may have been missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from asyncq.broker import Broker
from asyncq.errors import BrokerError
from asyncq.redis.keys import CANCEL_CHANNEL, WAKEUP_CHANNEL
from asyncq.worker.component import Backoff, ThrottledLog

logger = logging.getLogger("asyncq.subscriber")


@dataclass(frozen=True, slots=True)
class SubscriberParams:
    broker: Broker
    cancel: Callable[[str], object]
    wake: Callable[[], None]
    max_reconnect_delay: float = 5.0


class Subscriber:
    """Listens on both channels until shut down, re-subscribing after every drop."""

    name = "subscriber"

    def __init__(self, params: SubscriberParams) -> None:
        self._broker = params.broker
        self._cancel = params.cancel
        self._wake = params.wake
        self._backoff = Backoff(initial=0.1, cap=params.max_reconnect_delay)
        self._errors = ThrottledLog(logger, period=10.0)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        logger.debug("Starting subscriber.")
        self._task = asyncio.create_task(self._loop(), name="asyncq-subscriber")

    async def shutdown(self) -> None:
        logger.debug("Stopping subscriber.")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        logger.debug("Stopped subscriber.")

    async def _loop(self) -> None:
        while True:
            try:
                await self._listen()
            except BrokerError as exc:
                self._errors.error("Lost the pub/sub link to Redis; reconnecting: %s", exc)
            except Exception:
                logger.exception("The pub/sub listener failed; reconnecting.")
            await asyncio.sleep(self._backoff.next_delay())
            self._wake()

    async def _listen(self) -> None:
        heard = False
        async for channel, message in self._broker.listen([CANCEL_CHANNEL, WAKEUP_CHANNEL]):
            if not heard:
                heard = True
                self._backoff.reset()
            self._dispatch(channel, message)

    def _dispatch(self, channel: str, message: str) -> None:
        if channel == WAKEUP_CHANNEL:
            self._wake()
        elif channel == CANCEL_CHANNEL and self._cancel(message):
            logger.info("Cancelled task id=%s on request.", message)
