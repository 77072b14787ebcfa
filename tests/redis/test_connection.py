"""Connecting to Redis: URLs, the config object, the start-up wait and the version floor."""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from pathlib import Path

import pytest

from asyncq.devserver import RedisProcess, free_port
from asyncq.errors import BrokerUnavailableError, ConfigError, RedisVersionError
from asyncq.redis.connection import (
    RedisConfig,
    check_server_version,
    connect,
    ensure_server_ready,
)


def test_a_plain_url_gives_host_port_and_db() -> None:
    config = RedisConfig.from_url("redis://10.0.0.5:6390/3")

    assert (config.host, config.port, config.db, config.ssl) == ("10.0.0.5", 6390, 3, False)
    assert config.address == "10.0.0.5:6390"


def test_a_url_without_port_or_db_uses_the_defaults() -> None:
    config = RedisConfig.from_url("redis://cache.internal")

    assert (config.host, config.port, config.db) == ("cache.internal", 6379, 0)
    assert (config.username, config.password) == (None, None)


def test_credentials_in_a_url_are_unquoted() -> None:
    config = RedisConfig.from_url("redis://app:p%40ss@127.0.0.1:6379/0")

    assert (config.username, config.password) == ("app", "p@ss")


def test_a_password_without_user_is_accepted_as_go_writes_it() -> None:
    config = RedisConfig.from_url("redis://:secret@127.0.0.1")

    assert (config.username, config.password) == (None, "secret")


def test_rediss_turns_tls_on() -> None:
    assert RedisConfig.from_url("rediss://redis.example:6380/1").ssl is True


@pytest.mark.parametrize("scheme", ["redis-socket", "unix"])
def test_socket_urls_give_the_path_and_the_db_from_the_query(scheme: str) -> None:
    config = RedisConfig.from_url(f"{scheme}:///run/redis/redis.sock?db=4")

    assert (config.unix_socket, config.db) == ("/run/redis/redis.sock", 4)
    assert config.address == "/run/redis/redis.sock"


def test_keyword_overrides_win_over_the_url() -> None:
    config = RedisConfig.from_url("redis://127.0.0.1:6379/0", db=2, pool_size=5)

    assert (config.db, config.pool_size) == (2, 5)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:6379", "the scheme must be redis://"),
        ("127.0.0.1:6379", "the scheme must be redis://"),
        ("redis://127.0.0.1:notaport/0", "Cannot read the port"),
        ("redis://127.0.0.1:6379/zero", "must be a number"),
        ("redis:///0", "names no host"),
        ("redis-socket://", "names no socket path"),
    ],
)
def test_bad_urls_are_refused_with_the_problem_and_an_example(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)) as refused:
        RedisConfig.from_url(url)

    assert "for example" in str(refused.value)


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(ConfigError) as refused:
        RedisConfig.from_url("redis://user:hunter2@127.0.0.1:6379/zero")

    assert "hunter2" not in str(refused.value)
    assert ":***@" in str(refused.value)


@pytest.mark.parametrize(
    ("field", "value"), [("db", -1), ("port", 0), ("port", 70000), ("pool_size", 0)]
)
def test_out_of_range_settings_are_refused(field: str, value: int) -> None:
    with pytest.raises(ConfigError, match=field):
        RedisConfig(**{field: value})  # type: ignore[arg-type]


async def test_connect_talks_binary_to_the_server(redis_url: str) -> None:
    client = connect(redis_url)

    await client.set("asyncq-test", b"\xff\x00")

    assert await client.get("asyncq-test") == b"\xff\x00"
    await client.delete("asyncq-test")
    await client.aclose()


async def test_connect_reaches_redis_over_a_unix_socket() -> None:
    socket_dir = Path(tempfile.mkdtemp(prefix="asyncq-sock-"))
    socket_path = socket_dir / "redis.sock"
    server = RedisProcess(extra_args=["--unixsocket", str(socket_path)]).start()
    try:
        client = connect(f"redis-socket://{socket_path}?db=2")

        await client.set("where", b"socket")

        assert await client.get("where") == b"socket"
        assert (await client.client_info())["db"] == 2
        await client.aclose()
    finally:
        server.stop()


async def test_start_up_waits_for_redis_with_one_warning_per_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    client = connect(f"redis://127.0.0.1:{port}/0")
    caplog.set_level(logging.WARNING, logger="asyncq.redis")

    waiting = asyncio.create_task(
        ensure_server_ready(client, f"127.0.0.1:{port}", first_delay=0.1, max_delay=0.4)
    )
    while len(caplog.records) < 4:
        await asyncio.sleep(0.05)
    assert not waiting.done()

    server = await asyncio.to_thread(RedisProcess(port=port).start)
    try:
        await asyncio.wait_for(waiting, timeout=10)
    finally:
        await client.aclose()
        server.stop()

    lines = [r.getMessage() for r in caplog.records if r.name == "asyncq.redis"]
    assert lines[0] == (
        f"Cannot reach Redis at 127.0.0.1:{port} (Connection refused); "
        "retrying in 0.1 s (attempt 1)."
    )
    delays = [float(re.search(r"retrying in ([\d.]+) s", line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert delays[:4] == [0.1, 0.2, 0.4, 0.4]
    assert max(delays) == 0.4
    assert [int(line.rsplit("attempt ", 1)[1].rstrip(").")) for line in lines] == list(
        range(1, len(lines) + 1)
    )


async def test_start_up_gives_up_after_the_allowed_attempts() -> None:
    port = free_port()
    client = connect(f"redis://127.0.0.1:{port}/0")

    with pytest.raises(BrokerUnavailableError, match=f"127.0.0.1:{port}.*after 2 attempts"):
        await ensure_server_ready(client, attempts=2, first_delay=0.01)

    await client.aclose()


async def test_start_up_accepts_the_redis_of_the_test_suite(redis_url: str) -> None:
    client = connect(redis_url)

    await ensure_server_ready(client, redis_url, attempts=1)

    await client.aclose()


# Redis older than 6.2 cannot be installed where the tests run, so these feed the version
# check the INFO reply such a server gives; the check takes the INFO mapping for this reason.


@pytest.mark.parametrize("version", ["6.0.16", "5.0.14", "4.0.0"])
def test_redis_older_than_6_2_is_refused_naming_its_version(version: str) -> None:
    with pytest.raises(RedisVersionError) as refused:
        check_server_version({"redis_version": version}, "10.0.0.5:6379")

    assert f"Redis at 10.0.0.5:6379 is version {version}" in str(refused.value)
    assert "needs Redis 6.2 or newer" in str(refused.value)


@pytest.mark.parametrize(
    ("info", "version"),
    [
        ({"redis_version": "6.2.0"}, (6, 2, 0)),
        ({"redis_version": "7.0.15"}, (7, 0, 15)),
        ({b"redis_version": b"8.0"}, (8, 0, 0)),
        ({"redis_version": "7.2.4-rc1"}, (7, 2, 4)),
    ],
)
def test_redis_6_2_and_newer_is_accepted(
    info: dict[object, object], version: tuple[int, ...]
) -> None:
    assert check_server_version(info) == version


def test_an_info_reply_without_a_version_is_refused() -> None:
    with pytest.raises(RedisVersionError, match="reported no usable version"):
        check_server_version({"redis_mode": "standalone"})
