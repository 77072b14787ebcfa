"""arq: asyncio, Redis sorted set polled every ``poll_delay`` (0.5 s by default).

Variants: ``default`` keeps every documented default; ``tuned`` lowers ``poll_delay`` to
0.01 s, because the default caps an idle-polling worker at a few hundred tasks a second.
arq has no batch enqueue.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, func

from benchmarks.adapters.base import Adapter, Payload, handle_async

POLL_DELAY = {"default": 0.5, "tuned": 0.01}


async def bench(ctx: dict[str, Any], body: Payload) -> None:
    await handle_async(body)


class ArqAdapter(Adapter):
    pool: ArqRedis

    async def open(self) -> None:
        self.pool = await create_pool(RedisSettings.from_dsn(self.url))

    async def close(self) -> None:
        await self.pool.aclose()

    async def enqueue(self, body: Payload) -> None:
        await self.pool.enqueue_job("bench", body)

    async def schedule(self, body: Payload, due: float) -> None:
        await self.pool.enqueue_job("bench", body, _defer_until=datetime.fromtimestamp(due, UTC))

    def run_worker(self, concurrency: int) -> None:
        asyncio.run(self._work(concurrency))

    async def _work(self, concurrency: int) -> None:
        worker = Worker(
            functions=[func(bench, name="bench")],
            redis_settings=RedisSettings.from_dsn(self.url),
            max_jobs=concurrency,
            poll_delay=POLL_DELAY[self.variant],
        )
        await worker.async_run()


ADAPTER = ArqAdapter
