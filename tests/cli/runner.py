"""Run ``asyncq`` commands in-process, as an operator would type them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from inspector.seeding import run_seed
from typer.testing import CliRunner, Result

from asyncq.cli.main import app


class Cli:
    """Invokes the command line with ``--uri`` pointing at the test Redis."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, url: str | None = None) -> Result:
        return self.runner.invoke(app, ["--uri", url or self.url, *args])

    def seed(self, write: Callable[[aioredis.Redis], Awaitable[Any]]) -> Any:
        """Run an async seeding function on its own connection and return its result."""
        return run_seed(self.url, write)
