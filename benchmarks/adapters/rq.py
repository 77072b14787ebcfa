"""RQ with ``SimpleWorker``: one task at a time in the worker process, no fork per task.

RQ has no concurrency setting for a single worker, so its figures are for one handler at
a time. Scheduled tasks need the worker's built-in scheduler (``with_scheduler=True``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from redis import Redis
from rq import Queue, SimpleWorker

from benchmarks.adapters.base import Adapter, Payload, handle_sync


def bench(body: Payload) -> None:
    handle_sync(body)


class RqAdapter(Adapter):
    blocking = True
    supports_batch = True

    def __init__(self, url: str, variant: str) -> None:
        super().__init__(url, variant)
        self.connection = Redis.from_url(url)
        self.queue = Queue("default", connection=self.connection)

    async def close(self) -> None:
        self.connection.close()

    def enqueue_sync(self, body: Payload) -> None:
        self.queue.enqueue(bench, body)

    def enqueue_batch_sync(self, bodies: list[Payload]) -> None:
        self.queue.enqueue_many([Queue.prepare_data(bench, (body,)) for body in bodies])

    def schedule_sync(self, body: Payload, due: float) -> None:
        self.queue.enqueue_at(datetime.fromtimestamp(due, UTC), bench, body)

    def run_worker(self, concurrency: int) -> None:
        worker = SimpleWorker([self.queue], connection=self.connection)
        worker.work(with_scheduler=True)


ADAPTER = RqAdapter
