"""The forwarder steps just after each multiple of its interval on the clock, so a task
due at a whole second is forwarded in that second, and it moves what is due."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from asyncq.clock import ManualClock
from asyncq.proto import TaskMessage
from asyncq.redis.broker import RedisBroker
from asyncq.worker.forwarder import ALIGN_AFTER_S, Forwarder, ForwarderParams


def forwarder(redis_url: str, now: float, interval: float = 1.0) -> Forwarder:
    broker = RedisBroker.from_url(redis_url, clock=ManualClock(now))
    return Forwarder(ForwarderParams(broker, ["default"], interval))


@pytest.mark.parametrize(
    ("now", "interval", "expected"),
    [
        (1_800_000_000.25, 1.0, 0.75),
        (1_800_000_000.0, 1.0, 1.0),
        (1_800_000_000.999, 1.0, 0.001),
        (1_800_000_003.5, 5.0, 1.5),
    ],
)
def test_the_next_step_comes_just_after_the_next_multiple_of_the_interval(
    redis_url: str, now: float, interval: float, expected: float
) -> None:
    delay = forwarder(redis_url, now, interval).next_delay()

    assert delay == pytest.approx(expected + ALIGN_AFTER_S, abs=1e-6)


async def test_a_step_just_after_the_second_moves_the_tasks_due_in_it(
    redis_url: str, aio_redis: aioredis.Redis
) -> None:
    due = 1_800_000_001
    woken: list[bool] = []
    broker = RedisBroker.from_url(redis_url, clock=ManualClock(due + ALIGN_AFTER_S))
    params = ForwarderParams(broker, ["default"], 1.0, lambda: woken.append(True))
    msg = TaskMessage(type="t", id="due-now", queue="default", retry=1, timeout=60)
    await broker.schedule(msg, due)
    await broker.schedule(TaskMessage(type="t", id="later", queue="default"), due + 1)

    await Forwarder(params).step()
    await broker.close()

    assert await aio_redis.lrange("asynq:{default}:pending", 0, -1) == [b"due-now"]
    assert woken == [True]
