"""The ``asyncq`` command: global options and the nouns (queue, task, server, cron, group)."""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from asyncq.cli import cron, group, queue, server, stats, task, web
from asyncq.cli.common import DEFAULT_URL, URL_ENV

app = typer.Typer(
    name="asyncq",
    help="Inspect and administer asyncq (and Go asynq) queues on Redis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(queue.app, name="queue")
app.add_typer(task.app, name="task")
app.add_typer(server.app, name="server")
app.add_typer(cron.app, name="cron")
app.add_typer(group.app, name="group")
app.command("stats")(stats.stats)
app.command("web")(web.web)
app.command("dash")(web.dash)


def show_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"asyncq {version('asyncq')}")
        raise typer.Exit()


@app.callback()
def options(
    ctx: typer.Context,
    uri: Annotated[
        str, typer.Option("--uri", "-u", envvar=URL_ENV, help="Redis URL, redis://host:port/db.")
    ] = DEFAULT_URL,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Inspect and administer asyncq (and Go asynq) queues on Redis."""
    ctx.obj = {"url": uri}


def main() -> None:
    app()
