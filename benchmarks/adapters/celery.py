"""Celery with the ``threads`` pool and the Redis transport, everything else default.

Celery has no batch enqueue for independent tasks (a ``group`` still publishes one
message at a time). A task with an ``eta`` is held in the worker's memory until due.
"""

from __future__ import annotations

from datetime import UTC, datetime

from celery import Celery

from benchmarks.adapters.base import Adapter, Payload, handle_sync

app = Celery("bench")


@app.task(name="bench")
def bench(body: Payload) -> None:
    handle_sync(body)


class CeleryAdapter(Adapter):
    blocking = True

    def __init__(self, url: str, variant: str) -> None:
        super().__init__(url, variant)
        app.conf.broker_url = url

    def enqueue_sync(self, body: Payload) -> None:
        bench.apply_async((body,))

    def schedule_sync(self, body: Payload, due: float) -> None:
        bench.apply_async((body,), eta=datetime.fromtimestamp(due, UTC))

    def run_worker(self, concurrency: int) -> None:
        app.worker_main(
            ["worker", "--pool=threads", f"--concurrency={concurrency}", "--loglevel=WARNING"]
        )


ADAPTER = CeleryAdapter
