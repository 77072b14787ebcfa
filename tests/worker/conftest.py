"""Fixtures of the worker tests: a broker on the suite's private, flushed Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from asyncq.redis.broker import RedisBroker


@pytest.fixture
async def broker(aio_redis: aioredis.Redis, redis_url: str) -> AsyncIterator[RedisBroker]:
    """A broker on a flushed Redis (``aio_redis`` flushes it)."""
    made = RedisBroker.from_url(redis_url)
    yield made
    await made.close()
