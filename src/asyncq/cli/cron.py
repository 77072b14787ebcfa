"""``asyncq cron``: scheduler entries and the tasks each one enqueued."""

from __future__ import annotations

from typing import Annotated

import typer

from asyncq.cli.common import JsonOption, inspect, print_json, printable, stdout, table, when
from asyncq.inspection_types import SchedulerEnqueueEvent
from asyncq.inspector import Inspector

app = typer.Typer(help="Periodic tasks registered by schedulers.", no_args_is_help=True)


@app.command("ls")
def list_entries(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the entries of every live scheduler, by spec."""
    entries = inspect(ctx, lambda i: i.scheduler_entries())
    if as_json:
        print_json(entries)
        return
    if not entries:
        stdout.print("No scheduler entry is registered.")
        return
    rows = [
        [e.id, e.spec, e.task_type, printable(e.task_payload), ", ".join(e.options) or "-",
         when(e.next_enqueue), when(e.prev_enqueue)]
        for e in entries
    ]  # fmt: skip
    table(["Entry ID", "Spec", "Type", "Payload", "Options", "Next", "Previous"], rows)


@app.command("history")
def history(
    ctx: typer.Context,
    entry_ids: Annotated[list[str], typer.Argument(help="One or more entry IDs.")],
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    size: Annotated[int, typer.Option(help="Events per page.")] = 30,
    as_json: JsonOption = False,
) -> None:
    """List the tasks each entry enqueued, newest first."""

    async def read(inspector: Inspector) -> dict[str, list[SchedulerEnqueueEvent]]:
        return {
            e: await inspector.list_scheduler_enqueue_events(e, page=page, page_size=size)
            for e in entry_ids
        }

    found = inspect(ctx, read)
    if as_json:
        print_json(found)
        return
    for entry_id, events in found.items():
        rows = [[e.task_id, when(e.enqueued_at)] for e in events]
        table(["Task ID", "Enqueued at"], rows, title=f"Entry {entry_id}")


# asynq's spelling of the same command.
app.command("list", hidden=True)(list_entries)
