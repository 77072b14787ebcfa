"""Dramatiq with its Redis broker and default middleware, run as one worker process.

Dramatiq has no batch enqueue (a ``group`` sends one message at a time).
"""

from __future__ import annotations

import signal
import threading
import time

import dramatiq
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from benchmarks.adapters.base import Adapter, Payload, handle_sync


def bench(body: Payload) -> None:
    handle_sync(body)


class DramatiqAdapter(Adapter):
    blocking = True

    def __init__(self, url: str, variant: str) -> None:
        super().__init__(url, variant)
        self.broker = RedisBroker(url=url)
        dramatiq.set_broker(self.broker)
        self.task = dramatiq.actor(bench, actor_name="bench", broker=self.broker)

    def enqueue_sync(self, body: Payload) -> None:
        self.task.send(body)

    def schedule_sync(self, body: Payload, due: float) -> None:
        delay_ms = max(0, int((due - time.time()) * 1000))
        self.task.send_with_options(args=(body,), delay=delay_ms)

    def run_worker(self, concurrency: int) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        worker = Worker(self.broker, worker_threads=concurrency)
        worker.start()
        stop.wait()
        worker.stop()


ADAPTER = DramatiqAdapter
