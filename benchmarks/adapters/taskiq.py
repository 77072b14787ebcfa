"""taskiq with taskiq-redis's ``RedisStreamBroker`` (its documented default), in one process.

The receiver runs in this process with ``max_async_tasks`` set to the shared concurrency
(the CLI's default is 100). taskiq has no batch enqueue, and delayed tasks need a separate
scheduler process with a schedule source, so scheduling is not measured.
"""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor

from taskiq.receiver import Receiver
from taskiq_redis import RedisStreamBroker

from benchmarks.adapters.base import Adapter, Payload, handle_async


async def bench(body: Payload) -> None:
    await handle_async(body)


class TaskiqAdapter(Adapter):
    supports_schedule = False

    def __init__(self, url: str, variant: str) -> None:
        super().__init__(url, variant)
        self.broker = RedisStreamBroker(url=url)
        self.task = self.broker.task(task_name="bench")(bench)

    async def open(self) -> None:
        await self.broker.startup()

    async def close(self) -> None:
        await self.broker.shutdown()

    async def enqueue(self, body: Payload) -> None:
        await self.task.kiq(body)

    def run_worker(self, concurrency: int) -> None:
        asyncio.run(self._work(concurrency))

    async def _work(self, concurrency: int) -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        self.broker.is_worker_process = True
        with ThreadPoolExecutor() as pool:
            receiver = Receiver(self.broker, executor=pool, max_async_tasks=concurrency)
            await receiver.listen(stop)
        await self.broker.shutdown()


ADAPTER = TaskiqAdapter
