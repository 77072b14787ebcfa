"""Figure 7: storyapp's token clean-up on PostgreSQL while the application keeps working.

The table gets ``2 × n`` verification tokens, half of them expired, in a schema of its own
(``asyncq_bench``, dropped afterwards) of the ``test`` database. Then the clean-up job's
function purges the expired half while a second process, on its own connection, inserts
a token and reads one back by hash in a loop. Reported: the purge's total time, its
longest single SQL statement, and the p99 of the reader's lookups.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from multiprocessing.connection import Connection as Pipe
from typing import Any

from sqlalchemy import Engine, event, text

from benchmarks.context import Context
from benchmarks.stats import percentile
from storyapp.cleanup import purge_expired_tokens
from storyapp.db import create_schema, make_engine

SCHEMA = "asyncq_bench"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MS = 1000.0
SEED_SQL = """
INSERT INTO {schema}.verification_tokens (user_id, token_hash, purpose, created_at, expires_at)
SELECT g % 100000, md5(g::text), 'email', now() - interval '2 days',
       CASE WHEN g % 2 = 0 THEN now() - interval '1 hour' ELSE now() + interval '1 day' END
FROM generate_series(1, :rows) AS g
"""


def database_url() -> str:
    return os.environ.get("APP_TEST_POSTGRES_URL", DEFAULT_URL)


def measure(ctx: Context) -> dict[str, list[float | None]]:
    """One purge per run, each on freshly seeded rows."""
    figures: dict[str, list[float | None]] = {
        "cleanup_total": [], "cleanup_longest": [], "cleanup_reader_p99": []
    }  # fmt: skip
    engine = make_engine(database_url(), SCHEMA)
    statements = _time_statements(engine)
    try:
        for _ in range(ctx.plan.runs):
            result = _one_run(engine, ctx.plan.cleanup_expired, statements)
            for key, value in result.items():
                figures[key].append(value)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()
    return figures


def _one_run(engine: Engine, expired: int, statements: list[float]) -> dict[str, float]:
    _seed(engine, 2 * expired)
    statements.clear()

    receiver, sender = multiprocessing.get_context("spawn").Pipe(duplex=True)
    reader = multiprocessing.get_context("spawn").Process(
        target=read_and_write, args=(database_url(), sender), daemon=True
    )
    reader.start()
    receiver.recv()
    started = time.perf_counter()
    result = purge_expired_tokens(engine)
    total = time.perf_counter() - started
    receiver.send("stop")
    lookups: list[float] = receiver.recv()
    reader.join()

    if result.total != expired:
        raise RuntimeError(f"The purge deleted {result.total} tokens, expected {expired}.")
    return {
        "cleanup_total": total,
        "cleanup_longest": max(statements) * MS,
        "cleanup_reader_p99": percentile(lookups, 0.99) * MS,
    }


def _seed(engine: Engine, rows: int) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(text(SEED_SQL.format(schema=SCHEMA)), {"rows": rows})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE {SCHEMA}.verification_tokens"))


def _time_statements(engine: Engine) -> list[float]:
    """A list that collects the duration of every statement the engine runs, in seconds."""
    durations: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        durations.append(time.perf_counter() - conn.info.pop("bench_started"))

    return durations


def read_and_write(url: str, pipe: Pipe) -> None:
    """The application's side: insert a token, look one up by hash, until told to stop."""
    import psycopg

    lookups: list[float] = []
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        pipe.send("ready")
        index = 0
        while not pipe.poll():
            index += 1
            token = f"live-{os.getpid()}-{index}"
            connection.execute(
                f"INSERT INTO {SCHEMA}.verification_tokens "
                "(user_id, token_hash, purpose, created_at, expires_at) "
                "VALUES (1, %s, 'email', now(), now() + interval '1 day')",
                (token,),
            )
            started = time.perf_counter()
            connection.execute(
                f"SELECT id FROM {SCHEMA}.verification_tokens WHERE token_hash = %s", (token,)
            ).fetchone()
            lookups.append(time.perf_counter() - started)
    pipe.recv()
    pipe.send(lookups)
