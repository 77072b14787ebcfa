"""``asyncq group ls``: the groups of a queue whose tasks wait to be aggregated."""

from __future__ import annotations

import typer

from asyncq.cli.common import JsonOption, QueueOption, inspect, print_json, stdout, table

app = typer.Typer(help="Groups of tasks waiting for aggregation.", no_args_is_help=True)


@app.command("ls")
def list_groups(ctx: typer.Context, queue: QueueOption, as_json: JsonOption = False) -> None:
    """List a queue's groups and their sizes."""
    groups = inspect(ctx, lambda i: i.groups(queue))
    if as_json:
        print_json(groups)
        return
    if not groups:
        stdout.print(f"Queue {queue!r} has no group.")
        return
    table(["Group", "Size"], [[g.group, g.size] for g in groups])


# asynq's spelling of the same command.
app.command("list", hidden=True)(list_groups)
