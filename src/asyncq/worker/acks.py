"""Batches the writes of tasks that succeed together into one round trip.

The first task to finish is written at once; tasks finishing while that write is in
flight wait for it and then go together through ``succeed_many`` (one script call per
queue, deleting each task or keeping it as completed by its retention). An idle worker
therefore adds no latency, and a busy one needs far fewer than one round trip per task.
"""

from __future__ import annotations

import asyncio

from asyncq.broker import Broker
from asyncq.proto import TaskMessage


class DoneBatcher:
    """Finishes many succeeded tasks with as few round trips as the load allows."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._waiting: list[tuple[TaskMessage, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def succeed(self, msg: TaskMessage) -> None:
        """Finish the succeeded task ``msg``; raises what its own write raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((msg, future))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_all())
        await future

    async def _send_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._send(batch)
        finally:
            self._sender = None

    async def _send(self, batch: list[tuple[TaskMessage, asyncio.Future[None]]]) -> None:
        try:
            outcomes: list[BaseException | None]
            outcomes = await self._broker.succeed_many([msg for msg, _ in batch])
        except Exception as exc:
            outcomes = [exc] * len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if outcome is None:
                future.set_result(None)
            else:
                future.set_exception(outcome)
