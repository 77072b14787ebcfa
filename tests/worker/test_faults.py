"""Faults a worker must survive: Redis restarting, corrupt messages, a killed process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from asyncq.context import ActiveTask
from asyncq.devserver import RedisProcess
from asyncq.redis.broker import RedisBroker
from worker.helpers import (
    counter,
    enqueue,
    make_broker,
    running_server,
    stored_message,
    task_hash,
    wait_for,
)

WORKER_SCRIPT = Path(__file__).with_name("worker_process.py")
STATE_KEYS = ("pending", "active", "lease", "scheduled", "retry", "archived")


def no_delay(retried: int, error: BaseException, task: ActiveTask) -> float:
    return 0.0


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A private Redis with an append-only file, so it can restart with its data."""
    server = RedisProcess(appendonly=True).start()
    yield server
    server.stop()


def restart(server: RedisProcess) -> RedisProcess:
    """SHUTDOWN the server (it writes its AOF) and start it again on the same port and dir."""
    client = redis.Redis.from_url(server.url)
    with contextlib.suppress(redis.ConnectionError):
        client.shutdown()
    client.close()
    server.stop()
    return server


async def queues_empty(client: aioredis.Redis) -> bool:
    """Whether no task is in any state, read in one transaction (tasks move meanwhile)."""
    async with client.pipeline(transaction=True) as pipe:
        for name in STATE_KEYS:
            key = f"asynq:{{default}}:{name}"
            if name in ("pending", "active"):
                pipe.llen(key)
            else:
                pipe.zcard(key)
        sizes = await pipe.execute()
    return sum(sizes) == 0


async def test_the_worker_survives_a_redis_restart_and_loses_nothing(
    own_redis: RedisProcess,
) -> None:
    # Lease scores are whole seconds, so a 1 s lease can end at once; 2 s always leaves the
    # 0.3 s heartbeat time to extend it.
    broker = make_broker(own_redis.url, lease_duration=2)
    client = aioredis.Redis.from_url(own_redis.url)
    task_ids = {await enqueue(broker, "work") for _ in range(30)}
    succeeded: set[str] = set()

    async def handler(task: ActiveTask) -> None:
        await asyncio.sleep(0.1)
        succeeded.add(task.id)

    async with running_server(
        broker, handler, retry_delay_func=no_delay, recoverer_cutoff=0.5, heartbeat_interval=0.3
    ):
        await wait_for(lambda: len(succeeded) >= 5)
        restart(own_redis)
        await asyncio.sleep(3)  # longer than the lease, so active tasks need recovery
        own_redis.start()
        await wait_for(lambda: succeeded >= task_ids, timeout=30)
        await wait_for(lambda: queues_empty(client), timeout=15)
        leftovers = await client.keys("asynq:{default}:t:*")
        recovered = await counter(client, "asynq:{default}:failed")

    await broker.close()
    await client.aclose()
    assert leftovers == []
    assert recovered >= 1


async def test_a_task_with_an_undecodable_message_is_archived_and_the_worker_goes_on(
    broker: RedisBroker, aio_redis: aioredis.Redis
) -> None:
    corrupt_id = await enqueue(broker, "corrupt")
    await aio_redis.hset(f"asynq:{{default}}:t:{corrupt_id}", "msg", b"\xff\xfe not protobuf")
    handled: list[str] = []

    async def handler(task: ActiveTask) -> None:
        handled.append(task.id)

    async with running_server(broker, handler):
        await wait_for(lambda: aio_redis.zscore("asynq:{default}:archived", corrupt_id))
        good_id = await enqueue(broker, "good")
        await wait_for(lambda: handled == [good_id])

    fields = await task_hash(aio_redis, "default", corrupt_id)
    assert fields[b"state"] == b"archived"
    assert b"decode_error" in fields
    assert await aio_redis.llen("asynq:{default}:active") == 0


@pytest.fixture
def start_worker() -> Iterator[Callable[[str, Path], subprocess.Popen[bytes]]]:
    """Starts ``worker_process.py`` processes; any still running at the end is killed."""
    started: list[subprocess.Popen[bytes]] = []

    def start(redis_url: str, marker: Path) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), redis_url, str(marker)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_a_task_of_a_killed_worker_runs_again_elsewhere_after_its_lease(
    aio_redis: aioredis.Redis,
    redis_url: str,
    tmp_path: Path,
    start_worker: Callable[[str, Path], subprocess.Popen[bytes]],
) -> None:
    broker = make_broker(redis_url, lease_duration=2)
    task_id = await enqueue(broker, "block", retention=3600)
    marker = tmp_path / "started"
    worker = start_worker(redis_url, marker)
    await wait_for(marker.exists, timeout=20)

    worker.send_signal(signal.SIGKILL)
    worker.wait()
    runs: list[str] = []

    async def handler(task: ActiveTask) -> None:
        runs.append(task.id)

    async with running_server(
        broker, handler, retry_delay_func=no_delay, recoverer_cutoff=0.5, recoverer_interval=0.3
    ):
        await wait_for(lambda: aio_redis.zscore("asynq:{default}:completed", task_id), 15)
    await broker.close()

    msg = await stored_message(aio_redis, "default", task_id)
    assert runs == [task_id]
    assert msg.retried == 1
    assert msg.error_msg == "asynq: task lease expired"
    assert await counter(aio_redis, "asynq:{default}:processed") == 2
    assert await counter(aio_redis, "asynq:{default}:failed") == 1


async def test_sigterm_shuts_a_running_worker_down_and_requeues_its_task(
    aio_redis: aioredis.Redis,
    redis_url: str,
    tmp_path: Path,
    start_worker: Callable[[str, Path], subprocess.Popen[bytes]],
) -> None:
    broker = make_broker(redis_url)
    task_id = await enqueue(broker, "block")
    await broker.close()
    marker = tmp_path / "started"
    worker = start_worker(redis_url, marker)
    await wait_for(marker.exists, timeout=20)

    worker.send_signal(signal.SIGTERM)
    exit_code = await asyncio.to_thread(worker.wait, 20)

    msg = await stored_message(aio_redis, "default", task_id)
    assert exit_code == 0
    assert await aio_redis.lrange("asynq:{default}:pending", 0, -1) == [task_id.encode()]
    assert msg.retried == 0
    assert await aio_redis.zcard("asynq:servers") == 0


async def test_a_handler_that_ignores_cancellation_does_not_keep_the_process_alive(
    redis_url: str,
    tmp_path: Path,
    start_worker: Callable[[str, Path], subprocess.Popen[bytes]],
) -> None:
    broker = make_broker(redis_url)
    await enqueue(broker, "stubborn")
    await broker.close()
    marker = tmp_path / "started"
    worker = start_worker(redis_url, marker)
    await wait_for(marker.exists, timeout=20)

    worker.send_signal(signal.SIGTERM)
    exit_code = await asyncio.to_thread(worker.wait, 20)

    assert exit_code == 0


async def test_after_a_redis_restart_wake_ups_and_cancellations_arrive_again(
    own_redis: RedisProcess,
) -> None:
    broker = make_broker(own_redis.url)
    client = aioredis.Redis.from_url(own_redis.url)
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(60)

    async with running_server(broker, handler, task_check_interval=60):
        await wait_for(lambda: subscribers(client))
        restart(own_redis)
        own_redis.start()
        await wait_for(lambda: subscribers(client), timeout=15)
        await asyncio.sleep(0.5)

        task_id = await enqueue(broker, "long")
        await asyncio.wait_for(started.wait(), 10)
        await client.publish("asynq:cancel", task_id)
        await wait_for(lambda: client.zscore("asynq:{default}:retry", task_id))

    msg = await stored_message(client, "default", task_id)
    await broker.close()
    await client.aclose()
    assert msg.error_msg == "context canceled"


async def subscribers(client: aioredis.Redis) -> bool:
    try:
        counts = await client.pubsub_numsub("asynq:cancel", "asyncq:wakeup")
    except redis.ConnectionError:
        return False
    return all(count >= 1 for _, count in counts)
