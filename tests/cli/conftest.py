"""Run ``asyncq`` commands against the suite's private Redis."""

from __future__ import annotations

import pytest
import redis

from cli.runner import Cli


@pytest.fixture
def cli(redis_url: str, raw_redis: redis.Redis) -> Cli:
    """A command runner on a freshly flushed Redis."""
    return Cli(redis_url)
