"""``asyncq queue``: list, inspect, pause, unpause and remove queues, and their history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import typer

from asyncq.cli.common import (
    JsonOption,
    done,
    duration,
    inspect,
    print_json,
    stdout,
    table,
    warn,
    when,
)
from asyncq.inspection_types import DailyStats, QueueInfo
from asyncq.inspector import Inspector

app = typer.Typer(
    help="Queues: list, inspect, pause, unpause, remove, history.", no_args_is_help=True
)

Queues = Annotated[list[str], typer.Argument(help="One or more queue names.")]


@app.command("ls")
def list_queues(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every queue."""
    names = inspect(ctx, lambda i: i.queues())
    if as_json:
        print_json(names)
        return
    for name in names:
        stdout.print(name)


@app.command("inspect")
def inspect_queues(ctx: typer.Context, queues: Queues, as_json: JsonOption = False) -> None:
    """Show sizes by state, today's counts, latency and memory of each queue."""

    async def infos(inspector: Inspector) -> list[QueueInfo]:
        return [await inspector.queue_info(q) for q in queues]

    found = inspect(ctx, infos)
    if as_json:
        print_json(found)
        return
    for info in found:
        print_queue(info)


def print_queue(info: QueueInfo) -> None:
    state = "[yellow]paused[/yellow]" if info.paused else "[green]running[/green]"
    stdout.print(f"[bold]Queue {info.queue}[/bold] ({state})")
    stdout.print(
        f"Size {info.size}   Groups {info.groups}   Latency {duration(info.latency)}   "
        f"Memory {info.memory_usage} bytes   as of {when(info.timestamp)}"
    )
    table(
        ["pending", "active", "scheduled", "retry", "archived", "completed", "aggregating"],
        [[info.pending, info.active, info.scheduled, info.retry, info.archived,
          info.completed, info.aggregating]],
    )  # fmt: skip
    table(
        ["processed today", "failed today", "error rate", "processed total", "failed total"],
        [[info.processed, info.failed, error_rate(info.processed, info.failed),
          info.processed_total, info.failed_total]],
    )  # fmt: skip


def error_rate(processed: int, failed: int) -> str:
    return f"{failed / processed:.2%}" if processed else "0.00%"


@app.command("history")
def history(
    ctx: typer.Context,
    queues: Queues,
    days: Annotated[int, typer.Option("--days", "-x", help="How many days back.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Show processed and failed counts per day, today first."""

    async def read(inspector: Inspector) -> dict[str, list[DailyStats]]:
        return {q: await inspector.history(q, days) for q in queues}

    found = inspect(ctx, read)
    if as_json:
        print_json(found)
        return
    for queue, stats in found.items():
        rows = [
            [s.date, s.processed, s.succeeded, s.failed, error_rate(s.processed, s.failed)]
            for s in stats
        ]
        table(["date", "processed", "succeeded", "failed", "error rate"], rows, title=queue)


@app.command("pause")
def pause(ctx: typer.Context, queues: Queues) -> None:
    """Stop servers from taking tasks of these queues (an unknown queue too, as asynq does)."""
    _each(ctx, queues, _pause_and_warn, "Paused")


async def _pause_and_warn(inspector: Inspector, queue: str) -> None:
    """Pause as asynq does, even a queue never seen, but say so: it is likely a typo."""
    if queue not in await inspector.queues():
        warn(f'Queue "{queue}" is not registered (no task was ever enqueued to it); '
             "pausing it anyway, so it starts paused.")  # fmt: skip
    await inspector.pause_queue(queue)


@app.command("unpause")
def unpause(ctx: typer.Context, queues: Queues) -> None:
    """Let servers take tasks of these queues again."""
    _each(ctx, queues, lambda i, q: i.unpause_queue(q), "Unpaused")


@app.command("rm")
def remove(
    ctx: typer.Context,
    queues: Queues,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Also delete tasks that wait to run.")
    ] = False,
) -> None:
    """Remove queues and everything they hold; without --force only queues with no work left."""
    _each(ctx, queues, lambda i, q: i.delete_queue(q, force=force), "Removed")


def _each(
    ctx: typer.Context,
    queues: list[str],
    action: Callable[[Inspector, str], Awaitable[None]],
    past: str,
) -> None:
    """Apply ``action`` to each queue in turn, saying so; the first error stops the rest."""

    async def run(inspector: Inspector) -> None:
        for queue in queues:
            await action(inspector, queue)
            done(f'{past} queue "{queue}".')

    inspect(ctx, run)


# asynq's spellings of the same commands, so its users' habits keep working.
app.command("list", hidden=True)(list_queues)
app.command("resume", hidden=True)(unpause)
app.command("remove", hidden=True)(remove)
app.command("delete", hidden=True)(remove)
