"""asyncq itself, driven through its public API (Client, Server, ServeMux).

Variants differ only in the concurrency the runner passes. Every Redis call the process
makes is counted on the client side (a pipeline counts once, as it is one round trip), so
the figures can say how many round trips a task costs the producer and the worker.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis.asyncio.client as redis_client

from asyncq.client import Client
from asyncq.context import ActiveTask
from asyncq.mux import ServeMux
from asyncq.server import Server, ServerConfig
from asyncq.task import Task
from benchmarks.adapters.base import Adapter, Payload, handle_async

TASK_TYPE = "bench"


class CallCounter:
    """Counts round trips by wrapping redis-py's command and pipeline entry points."""

    def __init__(self) -> None:
        self.calls = 0
        self._install()

    def _install(self) -> None:
        counter = self
        execute_command = redis_client.Redis.execute_command
        execute_pipeline = redis_client.Pipeline.execute
        subscriber_command = redis_client.PubSub.execute_command

        async def counted_command(self: Any, *args: Any, **options: Any) -> Any:
            counter.calls += 1
            return await execute_command(self, *args, **options)

        async def counted_pipeline(self: Any, *args: Any, **options: Any) -> Any:
            if self.command_stack:
                counter.calls += 1
            return await execute_pipeline(self, *args, **options)

        async def counted_subscriber(self: Any, *args: Any) -> Any:
            counter.calls += 1
            return await subscriber_command(self, *args)

        redis_client.Redis.execute_command = counted_command  # type: ignore[method-assign]
        redis_client.Pipeline.execute = counted_pipeline  # type: ignore[method-assign]
        redis_client.PubSub.execute_command = counted_subscriber  # type: ignore[method-assign]


async def bench(task: ActiveTask) -> None:
    await handle_async(json.loads(task.payload))


def _task(body: Payload) -> Task:
    return Task(TASK_TYPE, json.dumps(body).encode())


class AsyncqAdapter(Adapter):
    supports_batch = True
    client: Client

    def __init__(self, url: str, variant: str) -> None:
        super().__init__(url, variant)
        self.counter = CallCounter()

    async def open(self) -> None:
        self.client = Client.from_url(self.url)

    async def close(self) -> None:
        await self.client.close()

    async def enqueue(self, body: Payload) -> None:
        await self.client.enqueue(_task(body))

    async def enqueue_batch(self, bodies: list[Payload]) -> None:
        await self.client.enqueue_many([_task(body) for body in bodies])

    async def schedule(self, body: Payload, due: float) -> None:
        await self.client.enqueue(_task(body), process_at=datetime.fromtimestamp(due, UTC))

    def run_worker(self, concurrency: int) -> None:
        mux = ServeMux()
        mux.handle(TASK_TYPE, bench)
        Server(ServerConfig(redis_url=self.url, concurrency=concurrency)).run(mux)

    def client_extra(self) -> dict[str, Any]:
        return {"calls": self.counter.calls}


ADAPTER = AsyncqAdapter
