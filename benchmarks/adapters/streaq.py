"""streaq: asyncio over Redis streams; concurrency set to the shared 10 (its default is 16)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streaq import Worker

from benchmarks.adapters.base import Adapter, Payload, handle_async


async def bench(body: Payload) -> None:
    await handle_async(body)


class StreaqAdapter(Adapter):
    supports_batch = True

    def __init__(self, url: str, variant: str) -> None:
        super().__init__(url, variant)
        self.url = url
        self.worker: Worker[Any] = Worker(redis_url=url)
        self.task = self.worker.task(name="bench")(bench)

    async def open(self) -> None:
        await self.worker.__aenter__()

    async def close(self) -> None:
        await self.worker.__aexit__(None, None, None)

    async def enqueue(self, body: Payload) -> None:
        await self.task.enqueue(body)

    async def enqueue_batch(self, bodies: list[Payload]) -> None:
        await self.worker.enqueue_many([self.task.enqueue(body) for body in bodies])

    async def schedule(self, body: Payload, due: float) -> None:
        await self.task.enqueue(body).start(schedule=datetime.fromtimestamp(due, UTC))

    def run_worker(self, concurrency: int) -> None:
        worker: Worker[Any] = Worker(redis_url=self.url, concurrency=concurrency)
        worker.task(name="bench")(bench)
        worker.run_sync()


ADAPTER = StreaqAdapter
