"""Fixtures of the topology tests: a private three-master Redis Cluster for the session,
and ``topology_url``, which runs a test once on the suite's single Redis and once on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio.cluster import RedisCluster

from asyncq.devserver import RedisClusterProcesses, RedisProcess
from asyncq.redis.connection import connect


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterProcesses]:
    cluster = RedisClusterProcesses(masters=3).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def cluster_url(redis_cluster: RedisClusterProcesses) -> str:
    return redis_cluster.url


@pytest.fixture(params=["single", "cluster"])
async def topology_url(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[str]:
    """The URL of an emptied Redis: the suite's single node, then the cluster."""
    url = redis_url if request.param == "single" else request.getfixturevalue("cluster_url")
    client = connect(url)
    if isinstance(client, RedisCluster):
        await client.flushall(target_nodes=RedisCluster.PRIMARIES)
    else:
        await client.flushall()
    await client.aclose()
    yield url


@pytest.fixture
def private_redis() -> Iterator[RedisProcess]:
    """A Redis of the test's own, for settings (users, eviction policy) no other test sees."""
    server = RedisProcess().start()
    yield server
    server.stop()
