"""Helpers for running a real server against the suite's private Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis

from asyncq.mux import Handler
from asyncq.proto import TaskMessage
from asyncq.redis.broker import BrokerSettings, RedisBroker
from asyncq.server import Server, ServerConfig

FAST = {
    "task_check_interval": 0.2,
    "delayed_task_check_interval": 0.2,
    "janitor_interval": 0.2,
    "heartbeat_interval": 0.5,
    "recoverer_interval": 0.5,
    "syncer_interval": 0.2,
    "shutdown_timeout": 2.0,
}


def make_broker(redis_url: str, lease_duration: float = 30.0) -> RedisBroker:
    return RedisBroker.from_url(redis_url, BrokerSettings(lease_duration=lease_duration))


def message(
    task_type: str = "test:task",
    *,
    payload: bytes = b"",
    queue: str = "default",
    retry: int = 25,
    timeout: int = 1800,
    deadline: int = 0,
    retention: int = 0,
    task_id: str | None = None,
) -> TaskMessage:
    return TaskMessage(
        type=task_type,
        payload=payload,
        id=task_id or str(uuid.uuid4()),
        queue=queue,
        retry=retry,
        timeout=timeout,
        deadline=deadline,
        retention=retention,
    )


async def enqueue(broker: RedisBroker, task_type: str = "test:task", **fields: Any) -> str:
    """Store one pending task, as a client would, and return its ID."""
    msg = message(task_type, **fields)
    await broker.publish_queue(msg.queue)
    await broker.enqueue(msg)
    return msg.id


@asynccontextmanager
async def running_server(
    broker: RedisBroker, handler: Handler, **config: Any
) -> AsyncIterator[Server]:
    """A started server with short intervals; shut down on exit."""
    settings = {"concurrency": 2, **FAST, **config}
    server = Server(ServerConfig(**settings), broker=broker)
    await server.start(handler)
    try:
        yield server
    finally:
        await server.shutdown()


async def wait_for(
    condition: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 10.0
) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    give_up = time.monotonic() + timeout
    while True:
        outcome = condition()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > give_up:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


async def task_hash(redis: aioredis.Redis, queue: str, task_id: str) -> dict[bytes, bytes]:
    return await redis.hgetall(f"asynq:{{{queue}}}:t:{task_id}")  # type: ignore[no-any-return,misc]


async def stored_message(redis: aioredis.Redis, queue: str, task_id: str) -> TaskMessage:
    fields = await task_hash(redis, queue, task_id)
    return TaskMessage.FromString(fields[b"msg"])


async def counter(redis: aioredis.Redis, key: str) -> int:
    value = await redis.get(key)
    return int(value) if value is not None else 0
