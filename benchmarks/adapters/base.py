"""The interface every adapter implements, and the command line that drives it.

Commands (all take ``--url`` and ``--variant``):

* ``worker --concurrency N`` runs one worker process until it is terminated; the probe
  reports completions on standard output.
* ``enqueue --count N`` enqueues N no-op tasks each way (one at a time, 100 in flight,
  batched) and prints ``{"one": {"seconds": ..., "count": ...}, "inflight": ..., ...}``,
  with ``{"unsupported": true}`` for a way the library lacks.
* ``fill --count N [--sleep]`` enqueues N tasks as fast as the library allows (batched when
  it can), so that a worker started afterwards drains a full queue.
* ``trickle --count N --interval S`` enqueues N measured tasks S seconds apart.
* ``schedule --count N --spread K`` schedules N measured tasks spread over the K whole
  seconds that start at least one second from now; their reference time is the due time.

A task's payload is a small JSON-able dict: ``t`` (reference time), ``s`` (sleep one
millisecond in the handler) and ``m`` (record ``start - t`` as a latency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks import probe

IN_FLIGHT = 100
ENQUEUE_MODES = ("one", "inflight", "batch")
FILL_CHUNK = 1000
SLEEP_SECONDS = 0.001
Payload = dict[str, Any]
Step = Callable[[], Awaitable[None]]


def payload(sleep: bool = False, measure: bool = False, at: float | None = None) -> Payload:
    return {"t": time.time() if at is None else at, "s": int(sleep), "m": int(measure)}


class Adapter:
    """A queue library seen by the benchmarks; subclasses fill in the library calls.

    Async libraries override the ``async`` methods; libraries with a blocking client
    override the ``*_sync`` methods and set ``blocking = True``, and the in-flight mode
    then uses a pool of threads, as a user of a blocking client would.
    """

    blocking = False
    supports_batch = False
    supports_schedule = True

    def __init__(self, url: str, variant: str) -> None:
        self.url = url
        self.variant = variant

    async def open(self) -> None:
        """Connect the producer side."""

    async def close(self) -> None:
        """Disconnect the producer side."""

    async def enqueue(self, body: Payload) -> None:
        await asyncio.to_thread(self.enqueue_sync, body)

    async def enqueue_batch(self, bodies: list[Payload]) -> None:
        await asyncio.to_thread(self.enqueue_batch_sync, bodies)

    async def schedule(self, body: Payload, due: float) -> None:
        await asyncio.to_thread(self.schedule_sync, body, due)

    def enqueue_sync(self, body: Payload) -> None:
        raise NotImplementedError

    def enqueue_batch_sync(self, bodies: list[Payload]) -> None:
        raise NotImplementedError

    def schedule_sync(self, body: Payload, due: float) -> None:
        raise NotImplementedError

    def run_worker(self, concurrency: int) -> None:
        """Run one worker in this process until SIGTERM; handlers call ``handle``."""
        raise NotImplementedError

    def client_extra(self) -> dict[str, Any]:
        """Adapter-specific figures printed with each client command's result."""
        return {}


def handle_sync(body: Payload) -> None:
    """The benchmark handler for blocking workers: a no-op or a one-millisecond sleep."""
    probe.begin(body)
    if body.get("s"):
        time.sleep(SLEEP_SECONDS)
    probe.end()


async def handle_async(body: Payload) -> None:
    """The benchmark handler for asyncio workers: a no-op or ``asyncio.sleep(0.001)``."""
    probe.begin(body)
    if body.get("s"):
        await asyncio.sleep(SLEEP_SECONDS)
    probe.end()


async def _enqueue_one_at_a_time(adapter: Adapter, count: int) -> None:
    for _ in range(count):
        await _send(adapter, payload())


async def _enqueue_in_flight(adapter: Adapter, count: int, sleep: bool = False) -> None:
    if adapter.blocking:
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            list(pool.map(lambda _: adapter.enqueue_sync(payload(sleep)), range(count)))
        return
    remaining = iter(range(count))

    async def lane() -> None:
        for _ in remaining:
            await adapter.enqueue(payload(sleep))

    await asyncio.gather(*(lane() for _ in range(IN_FLIGHT)))


async def _enqueue_batched(adapter: Adapter, count: int, sleep: bool = False) -> None:
    for start in range(0, count, FILL_CHUNK):
        bodies = [payload(sleep) for _ in range(min(FILL_CHUNK, count - start))]
        if adapter.blocking:
            adapter.enqueue_batch_sync(bodies)
        else:
            await adapter.enqueue_batch(bodies)


async def _fill(adapter: Adapter, count: int, sleep: bool) -> None:
    if adapter.supports_batch:
        await _enqueue_batched(adapter, count, sleep)
    else:
        await _enqueue_in_flight(adapter, count, sleep)


async def _send(adapter: Adapter, body: Payload) -> None:
    if adapter.blocking:
        adapter.enqueue_sync(body)
    else:
        await adapter.enqueue(body)


async def _trickle(adapter: Adapter, count: int, interval: float) -> None:
    start = time.monotonic()
    for index in range(count):
        delay = start + index * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await _send(adapter, payload(measure=True))


async def _schedule(adapter: Adapter, count: int, spread: int) -> None:
    first_due = math.ceil(time.time() + 1.0)
    for index in range(count):
        due = float(first_due + index % spread)
        body = payload(measure=True, at=due)
        if adapter.blocking:
            adapter.schedule_sync(body, due)
        else:
            await adapter.schedule(body, due)


def _client_step(command: str, args: argparse.Namespace, adapter: Adapter) -> Step | None:
    """The coroutine that does ``command``, or None when the library cannot do it."""
    steps: dict[str, Step] = {
        "one": lambda: _enqueue_one_at_a_time(adapter, args.count),
        "inflight": lambda: _enqueue_in_flight(adapter, args.count),
        "batch": lambda: _enqueue_batched(adapter, args.count),
        "fill": lambda: _fill(adapter, args.count, args.sleep),
        "trickle": lambda: _trickle(adapter, args.count, args.interval),
        "schedule": lambda: _schedule(adapter, args.count, args.spread),
    }
    supported = {"batch": adapter.supports_batch, "schedule": adapter.supports_schedule}
    return steps[command] if supported.get(command, True) else None


async def _timed(adapter: Adapter, step: Step | None, count: int) -> dict[str, Any]:
    if step is None:
        return {"unsupported": True}
    calls_before = adapter.client_extra().get("calls", 0)
    started = time.perf_counter()
    await step()
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"seconds": seconds, "count": count}
    if "calls" in adapter.client_extra():
        result["calls"] = adapter.client_extra()["calls"] - calls_before
    return result


async def _run_client(args: argparse.Namespace, adapter: Adapter) -> dict[str, Any]:
    """Run the command; ``enqueue`` runs each way in turn and reports them apart."""
    commands = ENQUEUE_MODES if args.command == "enqueue" else (args.command,)
    results: dict[str, Any] = {}
    await adapter.open()
    try:
        for command in commands:
            step = _client_step(command, args, adapter)
            results[command] = await _timed(adapter, step, args.count)
    finally:
        await adapter.close()
    return results if args.command == "enqueue" else results[args.command]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Drive one queue library for the benchmarks.")
    parser.add_argument("command", choices=["worker", "enqueue", "fill", "trickle", "schedule"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--variant", default="default")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--sleep", action="store_true")
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--spread", type=int, default=1)
    return parser


def main(factory: Callable[[str, str], Adapter]) -> None:
    """The entry point of every adapter module."""
    args = _parser().parse_args()
    adapter = factory(args.url, args.variant)
    if args.command == "worker":
        probe.install(adapter.client_extra)
        adapter.run_worker(args.concurrency)
        return
    result = asyncio.run(_run_client(args, adapter))
    sys.stdout.write(json.dumps(result) + "\n")
