"""Handlers run in the server's context plus what the base_context hook adds per task."""

from __future__ import annotations

import contextvars
import itertools

from asyncq.context import ActiveTask
from asyncq.mux import ServeMux
from worker.helpers import enqueue, make_broker, running_server, wait_for

tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="none")
attempt: contextvars.ContextVar[int] = contextvars.ContextVar("attempt", default=0)


async def test_async_and_plain_handlers_see_the_base_context_and_the_servers_context(
    redis_url: str,
) -> None:
    broker = make_broker(redis_url)
    seen: list[tuple[str, str, int]] = []
    mux = ServeMux()

    @mux.handle("async")
    async def async_handler(task: ActiveTask) -> None:
        seen.append((task.type, tenant.get(), attempt.get()))

    @mux.handle("plain")
    def plain_handler(task: ActiveTask) -> None:
        seen.append((task.type, tenant.get(), attempt.get()))

    counter = itertools.count(1)
    tenant.set("acme")
    async with running_server(
        broker, mux, concurrency=1, base_context=lambda: {attempt: next(counter)}
    ):
        await enqueue(broker, "async")
        await wait_for(lambda: len(seen) == 1)
        await enqueue(broker, "plain")
        await wait_for(lambda: len(seen) == 2)
    await broker.close()

    assert seen == [("async", "acme", 1), ("plain", "acme", 2)]
    assert attempt.get() == 0


async def test_a_failing_base_context_hook_leaves_the_task_running_without_its_values(
    redis_url: str,
) -> None:
    broker = make_broker(redis_url)
    seen: list[int] = []

    def broken() -> dict[contextvars.ContextVar[int], int]:
        raise RuntimeError("no tenant service")

    async def handler(task: ActiveTask) -> None:
        seen.append(attempt.get())

    async with running_server(broker, handler, base_context=broken):
        await enqueue(broker)
        await wait_for(lambda: len(seen) == 1)
    await broker.close()

    assert seen == [0]
