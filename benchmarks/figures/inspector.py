"""The Inspector on a big deployment: 300 queues, one of them with a million pending tasks.

Timed calls, each repeated once per run: the queue names; the names with every queue's
statistics (what ``asyncq queue ls`` and the web UI's queue list show); the first page of
20 pending tasks of the big queue, and its last page. The queues are filled once through
the asyncq Client, in batches, before the first timing.
"""

from __future__ import annotations

import asyncio
import time

from asyncq.client import Client
from asyncq.inspector import Inspector
from asyncq.task import Task
from benchmarks.context import Context

QUEUES = 300
BIG_QUEUE = "big"
PAGE_SIZE = 20
BATCH = 5000
FILLERS = 8
MS = 1000.0
KEYS = ("inspect_queues", "inspect_queue_infos", "inspect_first_page", "inspect_last_page")


def measure(ctx: Context) -> dict[str, list[float | None]]:
    """Each figure once per run, in milliseconds; the fill happens once."""
    ctx.flush()
    return asyncio.run(_measure(ctx))


async def _measure(ctx: Context) -> dict[str, list[float | None]]:
    await _fill(ctx.url, ctx.plan.inspector_pending)
    figures: dict[str, list[float | None]] = {key: [] for key in KEYS}
    async with Inspector.from_url(ctx.url) as inspector:
        for _ in range(ctx.plan.runs):
            for key, seconds in (await _time_calls(inspector, ctx.plan.inspector_pending)).items():
                figures[key].append(seconds)
    return figures


async def _fill(url: str, pending: int) -> None:
    async with Client.from_url(url) as client:
        for index in range(QUEUES - 1):
            await client.enqueue(Task("bench", b"{}"), queue=f"queue-{index:03d}")

        batches = iter(range(0, pending, BATCH))

        async def filler() -> None:
            for start in batches:
                tasks = [Task("bench", b"{}") for _ in range(min(BATCH, pending - start))]
                await client.enqueue_many(tasks, queue=BIG_QUEUE)

        await asyncio.gather(*(filler() for _ in range(FILLERS)))


async def _time_calls(inspector: Inspector, pending: int) -> dict[str, float]:
    last_page = (pending + PAGE_SIZE - 1) // PAGE_SIZE
    started = time.perf_counter()
    names = await inspector.queues()
    listed = time.perf_counter()
    for name in names:
        await inspector.queue_info(name)
    described = time.perf_counter()
    await inspector.list_tasks(BIG_QUEUE, "pending", page=1, page_size=PAGE_SIZE)
    first = time.perf_counter()
    await inspector.list_tasks(BIG_QUEUE, "pending", page=last_page, page_size=PAGE_SIZE)
    last = time.perf_counter()
    return {
        "inspect_queues": (listed - started) * MS,
        "inspect_queue_infos": (described - listed) * MS,
        "inspect_first_page": (first - described) * MS,
        "inspect_last_page": (last - first) * MS,
    }
