"""``storyapp api`` as a user starts it: the address is checked before anything announces it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli_support import run_storyapp

from storyapp.db import create_schema, make_engine


@pytest.fixture
def api_env(tmp_path: Path) -> dict[str, str]:
    """An initialised SQLite database and the legacy scheduler on; no Redis is needed."""
    database = tmp_path / "api.db"
    engine = make_engine(f"sqlite:///{database}")
    create_schema(engine)
    engine.dispose()
    return {"APP_DB_PATH": str(database), "APP_LEGACY_SCHEDULER": "on", "APP_REDIS_PORT": "1"}


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def free_port(host: str, family: socket.AddressFamily) -> int:
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_busy_port_is_one_line_naming_app_api_port(
    api_env: dict[str, str], busy_port: int
) -> None:
    result = run_storyapp("api", env={**api_env, "APP_API_PORT": str(busy_port)})

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"storyapp: error: APP_API_PORT={busy_port} is already in use on 127.0.0.1; stop what "
        "listens there or choose another port."
    ]


def test_a_host_that_is_not_this_machine_is_one_line_naming_app_api_host(
    api_env: dict[str, str],
) -> None:
    result = run_storyapp("api", env={**api_env, "APP_API_HOST": "192.0.2.1"})

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("storyapp: error: APP_API_HOST='192.0.2.1' is not an address of this")


def test_an_ipv6_host_is_announced_in_brackets_and_serves(api_env: dict[str, str]) -> None:
    port = free_port("::1", socket.AF_INET6)
    env = {**os.environ, **api_env, "APP_API_HOST": "::1", "APP_API_PORT": str(port)}
    api = subprocess.Popen(
        [sys.executable, "-m", "storyapp.cli", "api"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        announced = wait_for_line(api, "Serving the API on ")
        health = httpx.get(f"http://[::1]:{port}/health", timeout=10)
    finally:
        api.send_signal(signal.SIGINT)
        api.wait(timeout=30)
        assert api.stderr is not None
        api.stderr.close()

    assert announced.endswith(f"Serving the API on http://[::1]:{port}.")
    assert health.status_code == 200
    assert health.json()["database"] == "ok"


def wait_for_line(process: subprocess.Popen[str], text: str) -> str:
    """The first stderr line holding ``text``; fails when the process ends first."""
    assert process.stderr is not None
    for line in process.stderr:
        if text in line:
            return line.rstrip()
    raise AssertionError(f"the process ended without logging {text!r}")
