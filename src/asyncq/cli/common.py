"""What every command shares: the Redis address, running the inspector, and output.

Commands never print tracebacks: an asyncq error becomes one line on stderr and exit
code 1. Tables go to stdout through Rich; ``--json`` prints plain JSON for scripts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from asyncq.errors import AsyncqError
from asyncq.inspector import Inspector

T = TypeVar("T")

DEFAULT_URL = "redis://127.0.0.1:6379/0"
URL_ENV = "ASYNCQ_REDIS_URL"

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
QueueOption = Annotated[str, typer.Option("--queue", "-q", help="The queue's name.")]
TaskIdOption = Annotated[str, typer.Option("--id", "-i", help="The task's ID.")]


def inspect(ctx: typer.Context, action: Callable[[Inspector], Awaitable[T]]) -> T:
    """Run ``action`` with an inspector on the configured Redis; errors end the command."""
    url: str = ctx.obj["url"]

    async def run() -> T:
        async with Inspector.from_url(url) as inspector:
            return await action(inspector)

    try:
        return asyncio.run(run())
    except AsyncqError as exc:
        fail(str(exc))


def fail(message: str) -> NoReturn:
    stderr.print(f"[red]Error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(1)


def done(message: str) -> None:
    stdout.print(message, soft_wrap=True)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(jsonable(data), indent=2, ensure_ascii=False))


def jsonable(value: Any) -> Any:
    """Plain JSON values for dataclasses, times, durations (seconds) and bytes (text)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return printable(value)
    return value


def printable(data: bytes) -> str:
    """The bytes as text when they are printable UTF-8, as asynq's tools show payloads."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "non-printable bytes"
    if text.isspace() or not all(ch.isprintable() or ch.isspace() for ch in text):
        return "non-printable bytes"
    return text


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def short(value: datetime | None) -> str:
    """A UTC time without year and zone, for narrow table columns."""
    return value.strftime("%m-%d %H:%M:%S") if value else "-"


def duration(value: timedelta) -> str:
    """A short human duration with its two largest units: ``2h3m``, ``4.2s``, ``0s``."""
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f}s".replace(".0s", "s")
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    largest = [(n, unit) for n, unit in parts if n][:2]
    return "".join(f"{n}{unit}" for n, unit in largest)


def table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    """Print ``rows`` under ``columns`` as a Rich table.

    The first column (an ID or a name) is never shortened, so it can be copied into the
    next command; the others wrap on narrow terminals.
    """
    cells = [[str(cell) for cell in row] for row in rows]
    out = Table(title=title, header_style="bold", title_justify="left")
    first_width = max([len(columns[0]), *(len(row[0]) for row in cells)])
    out.add_column(columns[0], no_wrap=True, min_width=first_width)
    for name in columns[1:]:
        out.add_column(name, overflow="fold")
    for row in cells:
        out.add_row(*row)
    stdout.print(out)
