"""A purge of 200,000 expired tokens among 400,000 while another connection writes and reads.

The writer keeps inserting valid tokens and the reader keeps looking up valid ones by hash,
each in its own short transactions, for as long as the purge runs. Afterwards exactly the
expired rows are gone, every row the writer inserted is there, and the reader never missed a
row or hit an error.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, select, text

from storyapp.cleanup import purge_expired_tokens
from storyapp.models import VerificationToken

NOW = datetime(2026, 6, 7, 20, 45, tzinfo=UTC)
TOTAL = 400_000
SQLITE_TIME = "%Y-%m-%d %H:%M:%S"


def fill_tokens(engine: Engine) -> None:
    """Odd numbers expire in the future, even numbers expired 1..400,000 s before NOW."""
    schema = engine.get_execution_options().get("schema_translate_map", {}).get(None)
    table = f'"{schema}".verification_tokens' if schema else "verification_tokens"
    if engine.dialect.name == "sqlite":
        moment = "CASE WHEN n % 2 = 0 THEN '-' ELSE '+' END || (n + 3600 * (n % 2)) || ' seconds'"
        expires = f"strftime('{SQLITE_TIME}', :now, {moment}) || '.000000'"
        numbers = (
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < :total) "
            "SELECT n FROM c"
        )
        now: object = NOW.replace(tzinfo=None).strftime(SQLITE_TIME)
    else:
        expires = (
            "CASE WHEN n % 2 = 0 THEN CAST(:now AS timestamptz) - n * interval '1 second' "
            "ELSE CAST(:now AS timestamptz) + (3600 + n) * interval '1 second' END"
        )
        numbers = "SELECT n FROM generate_series(1, :total) AS n"
        now = NOW
    statement = (
        f"INSERT INTO {table} (user_id, token_hash, purpose, created_at, expires_at) "
        f"SELECT n, 'h' || n, 'email_verification', {expires}, {expires} FROM ({numbers}) AS s"
    )
    with engine.begin() as connection:
        connection.execute(text(statement), {"now": now, "total": TOTAL})


@dataclass
class Traffic:
    """What the writer and the reader did while the purge ran."""

    stop: threading.Event = field(default_factory=threading.Event)
    written: list[int] = field(default_factory=list)
    reads: int = 0
    misses: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def write(engine: Engine, traffic: Traffic) -> None:
    statement = insert(VerificationToken).returning(VerificationToken.id)
    try:
        while not traffic.stop.is_set():
            row = {
                "user_id": 7,
                "token_hash": uuid.uuid4().hex,
                "purpose": "password_reset",
                "created_at": NOW,
                "expires_at": NOW + timedelta(days=1),
            }
            with engine.begin() as connection:
                traffic.written.append(connection.execute(statement, row).scalar_one())
    except BaseException as exc:
        traffic.errors.append(exc)


def read(engine: Engine, traffic: Traffic) -> None:
    try:
        while not traffic.stop.is_set():
            token_hash = f"h{2 * (traffic.reads % 1000) + 1}"
            query = select(VerificationToken.id).where(VerificationToken.token_hash == token_hash)
            with engine.connect() as connection:
                if connection.scalar(query) is None:
                    traffic.misses.append(token_hash)
            traffic.reads += 1
    except BaseException as exc:
        traffic.errors.append(exc)


def test_purging_half_of_400k_tokens_leaves_concurrent_writes_and_reads_intact(
    engine: Engine,
) -> None:
    fill_tokens(engine)
    traffic = Traffic()
    others = [
        threading.Thread(target=write, args=(engine, traffic)),
        threading.Thread(target=read, args=(engine, traffic)),
    ]

    for thread in others:
        thread.start()
    try:
        result = purge_expired_tokens(engine, batch_size=5000, now=NOW)
    finally:
        traffic.stop.set()
        for thread in others:
            thread.join()

    assert traffic.errors == []
    assert traffic.misses == []
    assert traffic.written and traffic.reads > 0
    assert result.deleted == {"tokens": TOTAL // 2}
    with engine.connect() as connection:
        left = connection.scalar(select(func.count()).select_from(VerificationToken))
        expired = connection.scalar(select(func.count()).where(VerificationToken.expires_at < NOW))
        written = set(
            connection.scalars(
                select(VerificationToken.id).where(VerificationToken.purpose == "password_reset")
            )
        )
    assert (left, expired) == (TOTAL // 2 + len(traffic.written), 0)
    assert written == set(traffic.written)
