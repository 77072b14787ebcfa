"""Helpers of the topology tests: a fast server, and the keys each Redis node holds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from asyncq.context import ActiveTask
from asyncq.server import Server, ServerConfig

FAST: dict[str, Any] = {
    "concurrency": 4,
    "task_check_interval": 0.2,
    "delayed_task_check_interval": 0.2,
    "janitor_interval": 0.2,
    "heartbeat_interval": 0.5,
    "recoverer_interval": 0.2,
    "syncer_interval": 0.2,
    "shutdown_timeout": 1.0,
    "retry_delay_func": lambda retried, error, task: 0,
}


@asynccontextmanager
async def running_server(
    url: str, handler: Callable[[ActiveTask], Awaitable[None]], **config: Any
) -> AsyncIterator[Server]:
    """A started server with its own broker and short intervals; shut down on exit."""
    server = Server(ServerConfig(redis_url=url, **{**FAST, **config}))
    await server.start(handler)
    try:
        yield server
    finally:
        await server.shutdown()


async def keys_by_node(client: aioredis.Redis | RedisCluster) -> dict[str, set[str]]:
    """Every key, listed per node (one entry, "single", for a single Redis)."""
    if not isinstance(client, RedisCluster):
        return {"single": {text(key) for key in await client.keys("*")}}
    await client.initialize()
    return {
        f"{node.host}:{node.port}": {text(key) for key in await client.keys("*", target_nodes=node)}
        for node in client.get_primaries()
    }


def text(value: bytes | str | None) -> str:
    """A reply as text; a missing value as ""."""
    return value.decode() if isinstance(value, bytes) else value or ""
