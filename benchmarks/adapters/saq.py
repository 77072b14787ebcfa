"""SAQ: asyncio, Redis lists with a blocking dequeue; default concurrency 10.

SAQ has no batch enqueue (``Queue.map`` also waits for the results).
"""

from __future__ import annotations

import asyncio
from typing import Any

from saq import Queue, Worker

from benchmarks.adapters.base import Adapter, Payload, handle_async


async def bench(ctx: dict[str, Any], *, body: Payload) -> None:
    await handle_async(body)


class SaqAdapter(Adapter):
    queue: Queue

    async def open(self) -> None:
        self.queue = Queue.from_url(self.url)
        await self.queue.connect()

    async def close(self) -> None:
        await self.queue.disconnect()

    async def enqueue(self, body: Payload) -> None:
        await self.queue.enqueue("bench", body=body)

    async def schedule(self, body: Payload, due: float) -> None:
        await self.queue.enqueue("bench", body=body, scheduled=int(due))

    def run_worker(self, concurrency: int) -> None:
        asyncio.run(self._work(concurrency))

    async def _work(self, concurrency: int) -> None:
        queue = Queue.from_url(self.url)
        worker = Worker(queue, functions=[bench], concurrency=concurrency)
        await worker.start()


ADAPTER = SaqAdapter
