"""A Redis that requires a password: every command names APP_REDIS_PASSWORD when it is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import run_storyapp

from asyncq.devserver import RedisProcess
from storyapp.db import create_schema, make_engine

PASSWORD = "s3cret-of-the-test"


@pytest.fixture(scope="module")
def locked_redis() -> Iterator[RedisProcess]:
    server = RedisProcess(extra_args=["--requirepass", PASSWORD]).start()
    yield server
    server.stop()


@pytest.fixture
def env(locked_redis: RedisProcess, tmp_path: Path) -> dict[str, str]:
    database = tmp_path / "password.db"
    engine = make_engine(f"sqlite:///{database}")
    create_schema(engine)
    engine.dispose()
    return {"APP_REDIS_PORT": str(locked_redis.port), "APP_DB_PATH": str(database)}


@pytest.mark.parametrize("command", [("enqueue", "tokens"), ("worker",)])
def test_a_wrong_password_names_app_redis_password(
    env: dict[str, str], locked_redis: RedisProcess, command: tuple[str, ...]
) -> None:
    result = run_storyapp(*command, env={**env, "APP_REDIS_PASSWORD": "wrong"})

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"storyapp: error: Redis at 127.0.0.1:{locked_redis.port} refused the password in "
        "APP_REDIS_PASSWORD; set it to the one Redis requires."
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("enqueue", "tokens"), ("worker",)])
def test_a_missing_password_asks_for_app_redis_password(
    env: dict[str, str], locked_redis: RedisProcess, command: tuple[str, ...]
) -> None:
    result = run_storyapp(*command, env=env)

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"storyapp: error: Redis at 127.0.0.1:{locked_redis.port} requires a password; "
        "set APP_REDIS_PASSWORD to it."
    )


def test_the_right_password_enqueues(env: dict[str, str]) -> None:
    result = run_storyapp("enqueue", "tokens", env={**env, "APP_REDIS_PASSWORD": PASSWORD})

    assert result.returncode == 0, result.stderr
    assert "Enqueued cleanup:expired_tokens on queue cleanup" in result.stdout
