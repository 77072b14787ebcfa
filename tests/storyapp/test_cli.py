"""The ``storyapp`` command as a user runs it: database set-up, stats, and bad settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import run_storyapp
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from storyapp.cli import app


def postgres_env(postgres_url: str, schema: str) -> dict[str, str]:
    url = make_url(postgres_url)
    return {
        "APP_DB_HOST": url.host or "127.0.0.1",
        "APP_DB_PORT": str(url.port or 5432),
        "APP_DB_USER": url.username or "postgres",
        "APP_DB_PASSWORD": url.password or "",
        "APP_DB_NAME": url.database or "test",
        "APP_DB_SSLMODE": "disable",
        "APP_DB_SCHEMA": schema,
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def db_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {"APP_DB_PATH": str(tmp_path / "cli.db")}
    schema: str = request.getfixturevalue("pg_schema")
    return postgres_env(request.getfixturevalue("postgres_url"), schema)


def test_init_seed_and_stats_report_the_seeded_shares(db_env: dict[str, str]) -> None:
    runner = CliRunner()

    init = runner.invoke(app, ["db", "init"], env=db_env)
    seed = runner.invoke(app, ["db", "seed", "--scale", "0.1"], env=db_env)
    stats = runner.invoke(app, ["db", "stats", "--json"], env=db_env)

    assert (init.exit_code, seed.exit_code, stats.exit_code) == (0, 0, 0), seed.output
    assert json.loads(stats.stdout) == {
        "tokens": {"total": 2000, "purgeable": 800},
        "stories": {"total": 400, "purgeable": 100},
        "webhook_events": {"total": 1000, "purgeable": 475},
    }


def test_seeding_again_adds_a_second_set_of_rows(db_env: dict[str, str]) -> None:
    runner = CliRunner()

    runner.invoke(app, ["db", "init"], env=db_env)
    first = runner.invoke(app, ["db", "seed", "--scale", "0.05"], env=db_env)
    second = runner.invoke(app, ["db", "seed", "--scale", "0.05"], env=db_env)
    stats = runner.invoke(app, ["db", "stats", "--json"], env=db_env)

    assert (first.exit_code, second.exit_code) == (0, 0), second.output
    assert json.loads(stats.stdout) == {
        "tokens": {"total": 2000, "purgeable": 800},
        "stories": {"total": 400, "purgeable": 100},
        "webhook_events": {"total": 1000, "purgeable": 476},
    }


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("APP_CLEANUP_BATCH_SIZE", "lots"),
        ("APP_CLEANUP_STORIES_SCHEDULE", "every day"),
        ("APP_CLEANUP_WEBHOOKS_SCHEDULE", "0 0 31 2 *"),
        ("APP_DB_SCHEMA", 'bad"name'),
    ],
)
def test_a_bad_setting_stops_the_command_with_one_line_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {"APP_DB_PATH": str(tmp_path / "x.db"), variable: value}

    result = run_storyapp("db", "stats", env=env)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"storyapp: error: {variable} ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("db", "stats"), ("worker",), ("api",)])
def test_a_command_before_db_init_asks_for_it_and_creates_no_file(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    database = tmp_path / "never-initialised.db"
    env = {"APP_DB_PATH": str(database), "APP_REDIS_PORT": "1"}

    result = run_storyapp(*command, env=env)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("storyapp: error: The database file ")
    assert line.endswith("run `storyapp db init` first.")
    assert not database.exists()


def test_an_empty_database_names_the_missing_tables(
    postgres_url: str, pg_schema: str, tmp_path: Path
) -> None:
    empty_sqlite = tmp_path / "empty.db"
    empty_sqlite.touch()

    results = [
        run_storyapp("db", "stats", env={"APP_DB_PATH": str(empty_sqlite)}),
        run_storyapp(
            "worker", env={**postgres_env(postgres_url, pg_schema), "APP_REDIS_PORT": "1"}
        ),
    ]

    for result in results:
        assert result.returncode == 2
        [line] = result.stderr.splitlines()
        assert line.startswith("storyapp: error: The database has no table ")
        assert "verification_tokens" in line
        assert line.endswith("run `storyapp db init` first.")


def test_an_unreachable_database_is_one_line_too(tmp_path: Path) -> None:
    env = {"APP_DB_HOST": "127.0.0.1", "APP_DB_PORT": "1", "APP_DB_SSLMODE": "disable"}

    result = run_storyapp("db", "init", env=env)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("storyapp: error: the database failed: ")
