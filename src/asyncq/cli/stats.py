"""``asyncq stats``: every queue at a glance, today's counts and Redis' own figures."""

from __future__ import annotations

from typing import Any

import typer

from asyncq.cli.common import JsonOption, inspect, print_json, stdout, table
from asyncq.cli.queue import error_rate
from asyncq.inspection_types import QueueInfo
from asyncq.inspector import Inspector
from asyncq.task import TaskState

REDIS_FIELDS = ("redis_version", "uptime_in_days", "connected_clients", "used_memory_human",
                "used_memory_peak_human")  # fmt: skip


async def gather(inspector: Inspector) -> tuple[list[QueueInfo], dict[str, Any]]:
    infos = [await inspector.queue_info(q) for q in await inspector.queues()]
    return infos, await inspector.redis_info()


def stats(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the task counts of all queues by state, today's processed and failed counts."""
    infos, redis_info = inspect(ctx, gather)
    if as_json:
        print_json(as_go_json(infos, redis_info))
        return

    totals = aggregate(infos)
    stdout.print("[bold]Task count by state[/bold]")
    table([s.value for s in TaskState], [[totals[s.value] for s in TaskState]])
    stdout.print("[bold]Task count by queue[/bold]")
    table(["queue", "size", "paused"], [[i.queue, i.size, i.paused] for i in infos])
    stdout.print("[bold]Daily stats (UTC)[/bold]")
    table(
        ["processed", "failed", "error rate"],
        [[totals["processed"], totals["failed"],
          error_rate(totals["processed"], totals["failed"])]],
    )  # fmt: skip
    stdout.print("[bold]Redis info[/bold]")
    table(["field", "value"], [[f, redis_info.get(f, "-")] for f in REDIS_FIELDS])


def aggregate(infos: list[QueueInfo]) -> dict[str, int]:
    totals = {s.value: sum(i.count(s) for i in infos) for s in TaskState}
    totals["processed"] = sum(i.processed for i in infos)
    totals["failed"] = sum(i.failed for i in infos)
    return totals


def as_go_json(infos: list[QueueInfo], redis_info: dict[str, Any]) -> dict[str, Any]:
    """The shape ``asynq stats --json`` prints, so scripts written for it keep working."""
    queues = [
        {
            "Queue": i.queue, "MemoryUsage": i.memory_usage, "Paused": i.paused, "Size": i.size,
            "Groups": i.groups, "Pending": i.pending, "Active": i.active,
            "Scheduled": i.scheduled, "Retry": i.retry, "Archived": i.archived,
            "Completed": i.completed, "Aggregating": i.aggregating, "Processed": i.processed,
            "Failed": i.failed, "ProcessedTotal": i.processed_total,
            "FailedTotal": i.failed_total,
            "Latency": int(i.latency.total_seconds() * 1e9), "Timestamp": i.timestamp,
        }
        for i in infos
    ]  # fmt: skip
    aggregate_counts: dict[str, Any] = dict(aggregate(infos))
    if infos:
        aggregate_counts["timestamp"] = max(i.timestamp for i in infos)
    redis = {f: redis_info[f] for f in REDIS_FIELDS if f in redis_info}
    return {"aggregate": aggregate_counts, "queues": queues, "redis": redis}
