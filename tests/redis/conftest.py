"""Fixtures of the Redis data-layer tests: a broker with a hand-moved clock on a flushed db."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis

from asyncq.clock import ManualClock
from asyncq.redis.broker import BrokerSettings, RedisBroker

NOW = 1_800_000_000.25
"""2027-01-15T08:00:00.25Z: a fixed instant, so scores and dates are known in advance."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def broker(
    raw_redis: redis.Redis, redis_url: str, clock: ManualClock
) -> AsyncIterator[RedisBroker]:
    """A broker on a flushed db (``raw_redis`` flushes it) with a small archive cap."""
    made = RedisBroker.from_url(redis_url, BrokerSettings(archive_max_size=5), clock)
    yield made
    await made.close()
