"""The ``storyapp`` command: database set-up, manual enqueues, the worker and the API.

Settings come from ``APP_*`` environment variables. Every command turns a bad setting, or a
database or Redis it cannot reach, into one line on stderr and exit code 2, not a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum

import typer
from redis.exceptions import AuthenticationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from asyncq import AsyncqError
from storyapp.config import RedisSettings, Settings
from storyapp.db import create_schema, engine_from_settings, require_schema
from storyapp.seed import seed
from storyapp.stats import table_stats
from storyapp.tasks import CLEANUP_NAMES

app = typer.Typer(
    help="storyapp: the clean-up jobs of the story service, run on asyncq.",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Create, fill and inspect the database.")
app.add_typer(db_app, name="db")
console = Console()


class CleanupName(StrEnum):
    tokens = "tokens"
    stories = "stories"
    webhooks = "webhooks"


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


@db_app.command("init")
def db_init() -> None:
    """Create the tables and indexes (safe to run again)."""
    settings = Settings.from_env()
    engine = engine_from_settings(settings.db)
    create_schema(engine)
    console.print(f"Database ready: {settings.db.describe()}")


@db_app.command("seed")
def db_seed(
    scale: float = typer.Option(1.0, min=0.01, help="1 inserts about 70,000 rows in all."),
) -> None:
    """Fill the database with realistic rows, a known share of them purgeable.

    Safe to run again: each run adds another set of rows beside the ones already there.
    """
    settings = Settings.from_env()
    engine = engine_from_settings(settings.db)
    create_schema(engine)
    counts = seed(engine, scale)
    console.print("Inserted " + ", ".join(f"{n:,} {table}" for table, n in counts.items()))


@db_app.command("stats")
def db_stats(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Rows per table and how many of them the clean-ups would purge now."""
    settings = Settings.from_env()
    engine = engine_from_settings(settings.db)
    require_schema(engine)
    stats = table_stats(
        engine,
        settings.cleanup.stories_retention_days,
        settings.cleanup.webhook_events_retention_days,
    )
    if as_json:
        print(json.dumps(stats))
        return
    console.print(stats_table(stats))


def stats_table(stats: dict[str, dict[str, int]], title: str = "storyapp tables") -> Table:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("total", justify="right")
    table.add_column("purgeable", justify="right")
    for name, counts in stats.items():
        table.add_row(name, f"{counts['total']:,}", f"{counts['purgeable']:,}")
    return table


@app.command()
def enqueue(name: CleanupName) -> None:
    """Enqueue one clean-up on the cleanup queue now (the worker runs it)."""
    from storyapp.tasks import enqueue_now

    settings = Settings.from_env()
    info = enqueue_now(settings.redis.url, CLEANUP_NAMES[name.value])
    console.print(f"Enqueued {info.type} on queue {info.queue}: task id {info.id}")


@app.command()
def worker() -> None:
    """Run the asyncq worker: clean-up handlers, the scheduler and the server."""
    from storyapp.worker import run_worker

    run_worker(Settings.from_env())


@app.command()
def api() -> None:
    """Run the HTTP app (and, in phase 1, the legacy scheduler)."""
    from storyapp.api import run_api

    run_api(Settings.from_env())


def main() -> None:
    """Run the command; known failures end in one line on stderr and exit code 2."""
    configure_logging()
    try:
        app()
    except (AsyncqError, SQLAlchemyError, OSError) as exc:
        print(f"storyapp: error: {one_line(exc)}", file=sys.stderr)
        raise SystemExit(2) from None


def one_line(error: BaseException) -> str:
    if isinstance(error, SQLAlchemyError):
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        return f"the database failed: {detail[0] if detail else type(error).__name__}"
    if refused_credentials(error):
        return redis_password_hint(Settings.from_env().redis)
    return " ".join(str(error).split()) or type(error).__name__


def refused_credentials(error: BaseException) -> bool:
    """Whether ``error`` was raised because Redis refused the password (or wanted one)."""
    return isinstance(error.__cause__, AuthenticationError)


def redis_password_hint(settings: RedisSettings) -> str:
    """Name the setting to fix: a wrong password and a missing one read differently."""
    where = f"Redis at {settings.host}:{settings.port}"
    if settings.password:
        return (
            f"{where} refused the password in APP_REDIS_PASSWORD; set it to the one Redis requires."
        )
    return f"{where} requires a password; set APP_REDIS_PASSWORD to it."


if __name__ == "__main__":
    main()
