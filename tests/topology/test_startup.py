"""Start-up checks: the version floor and the eviction-policy warning, on every topology."""

from __future__ import annotations

import logging
import re

import pytest
import redis

from asyncq.context import ActiveTask
from asyncq.devserver import RedisClusterProcesses, RedisProcess
from asyncq.errors import ConfigError, RedisVersionError
from asyncq.redis.connection import check_server_version, connect, ensure_server_ready

from .helpers import running_server


async def nothing(task: ActiveTask) -> None:
    pass


def set_eviction_policy(server: RedisProcess, policy: str) -> None:
    admin = redis.Redis(port=server.port)
    admin.config_set("maxmemory-policy", policy)
    admin.close()


async def test_a_server_on_a_redis_that_may_evict_logs_one_warning_with_the_fix(
    private_redis: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    set_eviction_policy(private_redis, "allkeys-lru")

    with caplog.at_level(logging.WARNING, logger="asyncq.redis"):
        async with running_server(private_redis.url, nothing):
            pass

    warnings = [r.getMessage() for r in caplog.records if r.name == "asyncq.redis"]
    assert len(warnings) == 1
    assert "maxmemory-policy allkeys-lru" in warnings[0]
    assert "CONFIG SET maxmemory-policy noeviction" in warnings[0]


async def test_a_volatile_policy_is_warned_about_too(
    private_redis: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    set_eviction_policy(private_redis, "volatile-ttl")
    client = connect(private_redis.url)

    with caplog.at_level(logging.WARNING, logger="asyncq.redis"):
        await ensure_server_ready(client, attempts=1)
    await client.aclose()

    assert ["volatile-ttl" in r.getMessage() for r in caplog.records] == [True]


async def test_every_cluster_master_is_checked_and_noeviction_passes_quietly(
    cluster_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = connect(cluster_url)

    with caplog.at_level(logging.DEBUG, logger="asyncq.redis"):
        await ensure_server_ready(client, attempts=1)
    await client.aclose()

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_plain_url_to_a_cluster_node_is_refused_with_the_url_to_use(
    redis_cluster: RedisClusterProcesses,
) -> None:
    node = redis_cluster.nodes[0]
    client = connect(f"redis://127.0.0.1:{node.port}/0")

    with pytest.raises(ConfigError, match=f"redis-cluster://127.0.0.1:{node.port}"):
        await ensure_server_ready(client, attempts=1)
    await client.aclose()


def test_a_redis_older_than_6_2_is_refused_naming_its_version() -> None:
    with pytest.raises(RedisVersionError, match=re.escape("127.0.0.1:7001 is version 6.0.16")):
        check_server_version({"redis_version": "6.0.16"}, "127.0.0.1:7001")
