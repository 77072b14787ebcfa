"""Huey with ``RedisHuey`` and a consumer of thread workers, everything else default.

Huey's consumer looks for due scheduled tasks once a second; Huey has no batch enqueue.
"""

from __future__ import annotations

from datetime import UTC, datetime

from huey import RedisHuey

from benchmarks.adapters.base import Adapter, Payload, handle_sync


def bench(body: Payload) -> None:
    handle_sync(body)


class HueyAdapter(Adapter):
    blocking = True

    def __init__(self, url: str, variant: str) -> None:
        super().__init__(url, variant)
        self.huey = RedisHuey("bench", url=url)
        self.task = self.huey.task(name="bench")(bench)

    def enqueue_sync(self, body: Payload) -> None:
        self.task(body)

    def schedule_sync(self, body: Payload, due: float) -> None:
        eta = datetime.fromtimestamp(due, UTC).replace(tzinfo=None)
        self.task.schedule((body,), eta=eta)

    def run_worker(self, concurrency: int) -> None:
        consumer = self.huey.create_consumer(workers=concurrency, worker_type="thread")
        consumer.run()


ADAPTER = HueyAdapter
