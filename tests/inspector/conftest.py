"""An inspector on the suite's private Redis, with a clock the test controls."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis

from asyncq.clock import ManualClock
from asyncq.inspector import Inspector


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(float(int(time.time())))


@pytest.fixture
def inspector(aio_redis: aioredis.Redis, clock: ManualClock) -> Inspector:
    return Inspector(aio_redis, clock)
