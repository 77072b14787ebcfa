"""Figure 6 for every library: Redis commands per task, counted with MONITOR.

MONITOR sees each command a client sends (a pipeline of five counts five) and, separately,
the commands that scripts run inside Redis, which are left out here. The enqueue figure
covers one-at-a-time enqueues; the worker figure covers a worker's whole life from start
until it has run every task, so idle polling and start-up are included. MONITOR slows
Redis down, so this runs apart from the timed figures. asyncq's client-side round trips
(a pipeline counts once) come from the timed figures instead.
"""

from __future__ import annotations

import re
import threading

import redis

from benchmarks.context import Context
from benchmarks.processes import BenchmarkError, wait_for_count
from benchmarks.systems import System

SCRIPT_SOURCE = re.compile(rb"^\+?\d+\.\d+ \[\d+ lua\]")
RUN_TIMEOUT = 120.0


class CommandCounter:
    """Counts the client commands Redis executes while it runs, from a MONITOR connection."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url)
        self._monitor = self._client.monitor()
        self._monitor.__enter__()
        self._count = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._count_forever, daemon=True)
        self._thread.start()

    def _count_forever(self) -> None:
        connection = self._monitor.connection
        while not self._stopping.is_set():
            line = connection.read_response()
            if isinstance(line, bytes) and not SCRIPT_SOURCE.match(line):
                with self._lock:
                    self._count += 1

    def take(self) -> int:
        """The commands counted since the last call."""
        with self._lock:
            taken, self._count = self._count, 0
        return taken

    def close(self) -> None:
        self._stopping.set()
        self._client.ping()
        self._thread.join(timeout=5.0)
        self._monitor.__exit__(None, None, None)
        self._client.close()


def measure(ctx: Context, system: System) -> dict[str, float | None]:
    count = ctx.plan.monitor_count
    ctx.flush()
    counter = CommandCounter(ctx.url)
    try:
        counter.take()
        ctx.client(system, "trickle", count=count, interval=0)
        enqueue_commands = counter.take()

        worker = ctx.worker(system)
        try:
            if not wait_for_count([worker], count, RUN_TIMEOUT):
                raise BenchmarkError(f"{system.key} did not finish under MONITOR.")
            worker_commands = counter.take()
        finally:
            worker.stop()
    finally:
        counter.close()
    return {"cmds_enqueue": enqueue_commands / count, "cmds_worker": worker_commands / count}
