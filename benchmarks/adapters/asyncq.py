"""asyncq itself, driven through its public API (Client, Server, ServeMux).

Variants differ only in the concurrency the runner passes. Every Redis request the process
writes is counted on the client side (a pipeline counts once, as it is one round trip), so
the figures can say how many round trips a task costs the producer and the worker.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis.asyncio.connection as redis_connection

from asyncq.client import Client
from asyncq.context import ActiveTask
from asyncq.mux import ServeMux
from asyncq.server import Server, ServerConfig
from asyncq.task import Task
from benchmarks.adapters.base import Adapter, Payload, handle_async

TASK_TYPE = "bench"


class CallCounter:
    """Counts round trips by wrapping the one method every request is written through.

    A single command, a pipeline and a batch of script calls on the broker's own connection
    are each written with one ``send_packed_command``, so each counts once.
    """

    def __init__(self) -> None:
        self.calls = 0
        self._install()

    def _install(self) -> None:
        counter = self
        send_packed = redis_connection.AbstractConnection.send_packed_command

        async def counted(self: Any, *args: Any, **options: Any) -> Any:
            counter.calls += 1
            return await send_packed(self, *args, **options)

        redis_connection.AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]


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
