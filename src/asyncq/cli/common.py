"""What every command shares: the Redis address, running the inspector, and output.

Commands never print tracebacks: an asyncq error becomes one line on stderr and exit
code 1. Tables go to stdout through Rich; ``--json`` prints plain JSON for scripts. When
stdout is not a terminal (a pipe, a file, CI logs) tables are laid out 200 columns wide,
or ``COLUMNS`` wide when set, so that they do not wrap to Rich's default of 80.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from asyncq.errors import AsyncqError, ConfigError
from asyncq.inspector import Inspector
from asyncq.web.paging import check_page

T = TypeVar("T")

DEFAULT_URL = "redis://127.0.0.1:6379/0"
URL_ENV = "ASYNCQ_REDIS_URL"

PIPE_WIDTH = 200


def _pipe_width() -> int | None:
    """None (Rich measures the terminal) on a terminal, else COLUMNS or PIPE_WIDTH."""
    if sys.stdout.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else PIPE_WIDTH


stdout = Console(highlight=False, width=_pipe_width())
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
    stderr.print(f"[red]Error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(1)


def warn(message: str) -> None:
    stderr.print(f"[yellow]Warning:[/yellow] {escape(message)}", soft_wrap=True)


def check_paging(page: int, size: int) -> None:
    """End the command with one line when the page or its size is out of bounds."""
    try:
        check_page(page, size)
    except ConfigError as exc:
        fail(str(exc))


def done(message: str) -> None:
    stdout.print(escape(message), soft_wrap=True)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(jsonable(data), indent=2, ensure_ascii=False))


def jsonable(value: Any) -> Any:
    """Plain JSON values for dataclasses, times and durations (seconds).

    A bytes field ``payload`` becomes ``payload`` (its text when it is UTF-8, else null)
    and ``payload_base64`` (always), so scripts get binary data intact.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        shaped: dict[str, Any] = {}
        for field in dataclasses.fields(value):
            data = getattr(value, field.name)
            shaped[field.name] = jsonable(data)
            if isinstance(data, bytes):
                shaped[f"{field.name}_base64"] = base64.b64encode(data).decode("ascii")
        return shaped
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
        return utf8_or_none(value)
    return value


def utf8_or_none(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


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
    cells = [[escape(str(cell)) for cell in row] for row in rows]
    out = Table(title=title and escape(title), header_style="bold", title_justify="left")
    first_width = max([len(columns[0]), *(len(str(row[0])) for row in rows)])
    out.add_column(columns[0], no_wrap=True, min_width=first_width)
    for name in columns[1:]:
        out.add_column(name, overflow="fold")
    for row in cells:
        out.add_row(*row)
    stdout.print(out)
