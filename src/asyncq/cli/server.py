"""``asyncq server ls``: the worker servers that sent a heartbeat recently."""

from __future__ import annotations

import typer

from asyncq.cli.common import JsonOption, inspect, print_json, stdout, table, when

app = typer.Typer(help="Worker servers.", no_args_is_help=True)


@app.command("ls")
def list_servers(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List live servers: host, PID, state, busy workers, queues, start time."""
    servers = inspect(ctx, lambda i: i.servers())
    if as_json:
        print_json(servers)
        return
    if not servers:
        stdout.print("No server is running.")
        return
    rows = [
        [
            s.host, s.pid, s.status, f"{len(s.active_workers)}/{s.concurrency}",
            ", ".join(f"{q}:{p}" for q, p in sorted(s.queues.items())), when(s.started),
        ]
        for s in servers
    ]  # fmt: skip
    table(["Host", "PID", "State", "Active workers", "Queues", "Started"], rows)


# asynq's spelling of the same command.
app.command("list", hidden=True)(list_servers)
