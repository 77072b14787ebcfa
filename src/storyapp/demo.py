"""``make demo``: the whole clean-up system on one machine, from an empty directory.

It seeds a fresh SQLite database (``storyapp-demo.db`` in the current directory), uses the
Redis at ``APP_REDIS_HOST:APP_REDIS_PORT`` or starts a private one when none answers there,
starts the worker (scheduler included), enqueues the three clean-ups now, and prints what
they purged. The worker keeps running on its schedules until Ctrl-C, which stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from asyncq import AsyncqError
from asyncq.client import Client
from asyncq.devserver import RedisProcess, port_answers
from storyapp.cli import configure_logging
from storyapp.config import DatabaseSettings, RedisSettings, Settings
from storyapp.db import create_schema, engine_from_settings
from storyapp.seed import seed
from storyapp.stats import table_stats
from storyapp.tasks import CleanupType, enqueue_cleanup
from storyapp.worker import StoryWorker, first_line, serve_until_signalled

log = logging.getLogger("storyapp.demo")
console = Console()

DEMO_DB = "storyapp-demo.db"
WAIT_FOR_PURGES_S = 120.0
_PRIVATE_HOSTS = {"127.0.0.1", "localhost"}
"""Hosts a private Redis (which listens on 127.0.0.1) can stand in for."""


def fresh_database() -> tuple[DatabaseSettings, Engine]:
    """An empty SQLite database with the schema, replacing the previous demo's."""
    for suffix in ("", "-wal", "-shm"):
        Path(DEMO_DB + suffix).unlink(missing_ok=True)
    settings = DatabaseSettings(path=DEMO_DB)
    engine = engine_from_settings(settings)
    create_schema(engine)
    return settings, engine


def redis_for(settings: RedisSettings) -> tuple[RedisSettings, RedisProcess | None]:
    """The configured Redis when it answers, else a private one, where possible at that address.

    A private Redis listens on loopback only, so it takes the configured port when the host is
    this machine's 127.0.0.1 (or ``localhost``): the user's other commands, run with the same
    settings, then reach it. Otherwise it runs on a free port, and the demo says which.
    """
    address = f"{settings.host}:{settings.port}"
    if port_answers(settings.host, settings.port):
        console.print(f"Using the Redis at {address}.")
        return settings, None
    if settings.host in _PRIVATE_HOSTS:
        private = _start_private_redis(settings.port)
        if private is not None:
            console.print(f"No Redis at {address}; started a private one there.")
            return settings, private

    private = RedisProcess().start()
    console.print(
        f"No Redis at {address}; started a private one on 127.0.0.1:{private.port}. "
        f"Run other commands with APP_REDIS_HOST=127.0.0.1 APP_REDIS_PORT={private.port}."
    )
    return RedisSettings(host="127.0.0.1", port=private.port), private


def _start_private_redis(port: int) -> RedisProcess | None:
    """A private Redis on ``port``, or None when it could not start there."""
    private = RedisProcess(port=port)
    try:
        return private.start()
    except RuntimeError as exc:
        private.stop()
        log.warning("Could not start a private Redis on port=%d: %s", port, first_line(exc))
        return None


async def run_demo(settings: Settings, engine: Engine) -> None:
    """Start the worker, enqueue the clean-ups, report, then serve until Ctrl-C."""
    before = table_stats(engine)
    console.print(stats_table(before, "Before the clean-ups"))
    worker = StoryWorker(settings, engine)
    serving = asyncio.create_task(serve_until_signalled(worker))

    await enqueue_all(settings.redis.url)
    await wait_until_purged(engine, serving)
    if serving.done():
        return await serving

    after = table_stats(engine)
    console.print(comparison_table(before, after))
    console.print(
        "The worker keeps running; its scheduler enqueues the clean-ups on their schedules. "
        "Press Ctrl-C to stop."
    )
    await serving


async def enqueue_all(redis_url: str) -> None:
    client = Client.from_url(redis_url)
    try:
        for kind in CleanupType:
            info = await enqueue_cleanup(client, kind)
            console.print(f"Enqueued [bold]{info.type}[/] on queue {info.queue} (id {info.id}).")
    finally:
        await client.close()


async def wait_until_purged(engine: Engine, serving: asyncio.Task[None]) -> None:
    """Wait until no row is purgeable any more (or the worker stopped, or time ran out)."""
    deadline = asyncio.get_running_loop().time() + WAIT_FOR_PURGES_S
    while not serving.done() and asyncio.get_running_loop().time() < deadline:
        stats = await asyncio.to_thread(table_stats, engine)
        if all(counts["purgeable"] == 0 for counts in stats.values()):
            return
        await asyncio.sleep(0.2)


def stats_table(stats: dict[str, dict[str, int]], title: str) -> Table:
    table = Table(title=title)
    for column in ("table", "rows", "purgeable now"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, counts in stats.items():
        table.add_row(name, f"{counts['total']:,}", f"{counts['purgeable']:,}")
    return table


def comparison_table(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> Table:
    table = Table(title="What the clean-ups purged")
    for column in ("table", "rows before", "purged", "rows after", "purgeable now"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, counts in before.items():
        left = after[name]
        purged = counts["total"] - left["total"]
        table.add_row(
            name,
            f"{counts['total']:,}",
            f"{purged:,}",
            f"{left['total']:,}",
            f"{left['purgeable']:,}",
        )
    return table


def main() -> None:
    configure_logging()
    settings = Settings.from_env()
    db_settings, engine = fresh_database()
    counts = seed(engine)
    console.print("Seeded " + ", ".join(f"{n:,} {table}" for table, n in counts.items()) + ".")
    redis_settings, private = redis_for(settings.redis)
    demo_settings = replace(settings, db=db_settings, redis=redis_settings)
    try:
        asyncio.run(run_demo(demo_settings, engine))
    except AsyncqError as exc:
        console.print(f"[red]The demo stopped:[/] {exc}")
    finally:
        engine.dispose()
        if private is not None:
            private.stop()
            console.print("Stopped the private Redis.")
    console.print("Demo stopped.")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
