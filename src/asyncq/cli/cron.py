"""``asyncq cron``: scheduler entries and the tasks each one enqueued."""

from __future__ import annotations

from typing import Annotated

import typer

from asyncq.cli.common import (
    JsonOption,
    check_paging,
    fail,
    inspect,
    print_json,
    printable,
    stdout,
    table,
    when,
)
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
    size: Annotated[int, typer.Option(help="Events per page, at most 1000.")] = 30,
    as_json: JsonOption = False,
) -> None:
    """List the tasks each entry enqueued, newest first.

    An ID that is neither a live entry nor in any recorded history is an error (exit 1).
    """
    check_paging(page, size)

    async def read(inspector: Inspector) -> tuple[dict[str, list[SchedulerEnqueueEvent]], set[str]]:
        live = {e.id for e in await inspector.scheduler_entries()}
        found = {
            e: await inspector.list_scheduler_enqueue_events(e, page=page, page_size=size)
            for e in entry_ids
        }
        return found, live

    found, live = inspect(ctx, read)
    unknown = [e for e, events in found.items() if not events and e not in live]
    if unknown:
        fail(f"No scheduler entry or enqueue history found for {', '.join(unknown)}; "
             "`asyncq cron ls` lists the live entries.")  # fmt: skip
    if as_json:
        print_json(found)
        return
    for entry_id, events in found.items():
        _print_history(entry_id, events, page)


def _print_history(entry_id: str, events: list[SchedulerEnqueueEvent], page: int) -> None:
    if not events:
        stdout.print(f"Entry {entry_id} has no enqueue recorded on page {page}.", soft_wrap=True)
        return
    rows = [[e.task_id, when(e.enqueued_at)] for e in events]
    table(["Task ID", "Enqueued at"], rows, title=f"Entry {entry_id}")


# asynq's spelling of the same command.
app.command("list", hidden=True)(list_entries)
