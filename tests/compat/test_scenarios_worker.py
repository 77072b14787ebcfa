"""Scenarios 08-12, 19 and 20 replayed with the Python worker: the Redis state Go leaves.

Go's client steps are done by the Python client, Go's worker by a Python Server with the
same settings and a handler that behaves like the recorded one. The documented
differences (protocol section 11) are patched into the expected state, one by one:

* decision 5: a handler's error is stored as ``<class>: <message>`` (Go stores the
  error's text, with a wrapped ``SkipRetry`` appended after a colon);
* decision 1: a task put back at shutdown gets ``pending_since``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis

from asyncq.client import Client
from asyncq.context import ActiveTask
from asyncq.errors import DuplicateTaskError, SkipRetry
from asyncq.proto import TaskMessage
from asyncq.redis.broker import RedisBroker
from asyncq.server import Server, ServerConfig
from compat.scenario import (
    WORKER_TOLERANCE_S,
    Run,
    Scenario,
    assert_same_state,
    load_state,
    patched,
)
from compat.test_scenarios_client import python_options, task_of


class PeerError(Exception):
    """What the recorded Go handler returned, raised by the Python one."""


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Client]:
    async with Client.from_url(redis_url) as made:
        yield made


@pytest.fixture
async def broker(redis_url: str) -> AsyncIterator[RedisBroker]:
    made = RedisBroker.from_url(redis_url)
    yield made
    await made.close()


def fixed(seconds: float) -> Callable[[int, BaseException, ActiveTask], float]:
    return lambda retried, error, task: seconds


def peer_handler(handled: list[str], sleep: float = 0.0) -> Callable[[ActiveTask], Any]:
    """The recorded Go handler: fail ``bad:fail``/``uniq:bad``, skip ``bad:skip``, else ok."""

    async def handler(task: ActiveTask) -> None:
        handled.append(task.id)
        if sleep:
            await asyncio.sleep(sleep)
        if task.type in ("bad:fail", "uniq:bad"):
            raise PeerError(f"asynq-peer: {task.type} configured to fail")
        if task.type == "bad:skip":
            raise PeerError(f"asynq-peer: {task.type} configured to skip retry") from SkipRetry()
        await task.result_writer.write(b"ok")

    return handler


async def enqueue_steps(client: Client, run: Run, steps: list[dict[str, Any]]) -> None:
    """The scenario's client steps, binding each stored task to the next ``<IDn>``."""
    for step in steps:
        inputs = step["inputs"]
        task, options = task_of(inputs), python_options(inputs["options"])
        if "error" in step["result"]:
            with pytest.raises(DuplicateTaskError):
                await client.enqueue(task, **options)
            continue
        info = await client.enqueue(task, **options)
        run.bind(step["result"]["task_info"]["id"], info.id)


def client_steps(scenario: Scenario, first: int, last: int) -> list[dict[str, Any]]:
    return [s for s in scenario.steps[first:last] if s["actor"] == "go-client"]


async def serve_until_handled(
    broker: RedisBroker, handled: list[str], count: int, **config: Any
) -> None:
    """Run a server until ``count`` handler calls ended and no task is active any more."""
    settings = {"delayed_task_check_interval": 0.2, "task_check_interval": 0.2, **config}
    server = Server(ServerConfig(**settings), broker=broker)
    await server.start(peer_handler(handled))
    try:
        await until(lambda: len(handled) >= count)
        await until(lambda: no_active_tasks(broker))
    finally:
        await server.shutdown()


async def until(condition: Callable[[], Any], timeout: float = 20.0) -> None:
    give_up = time.monotonic() + timeout
    while True:
        outcome = condition()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return
        assert time.monotonic() < give_up, "the worker did not get there in time"
        await asyncio.sleep(0.05)


async def no_active_tasks(broker: RedisBroker) -> bool:
    sizes = [await broker.client.llen(key) for key in await broker.client.keys("asynq:{*}:active")]
    return not any(sizes)


def with_error(key: str, error_msg: str) -> Callable[[dict[str, Any]], None]:
    """Decision 5: the task's stored error is the Python exception's class and message."""

    def change(keys: dict[str, Any]) -> None:
        keys[key]["value"]["msg"]["decoded"]["error_msg"] = error_msg

    return change


async def test_08_succeeded_tasks_are_deleted_or_kept_with_their_result(
    client: Client, broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load("08_worker_success")
    run = Run.start(raw_redis)
    await enqueue_steps(client, run, client_steps(scenario, 0, 2))
    handled: list[str] = []

    await serve_until_handled(broker, handled, 2, concurrency=1)

    assert handled == [run.ids["<ID1>"], run.ids["<ID2>"]]
    assert_same_state(scenario.redis_after, run, WORKER_TOLERANCE_S)


async def test_09_a_failure_is_retried_after_a_fixed_delay(
    client: Client, broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load("09_retry_fixed_delay")
    run = Run.start(raw_redis)
    await enqueue_steps(client, run, client_steps(scenario, 0, 1))

    await serve_until_handled(broker, [], 1, concurrency=1, retry_delay_func=fixed(600))

    expected = patched(
        scenario.redis_after,
        with_error("asynq:{default}:t:<ID1>", "PeerError: asynq-peer: bad:fail configured to fail"),
    )
    assert_same_state(expected, run, WORKER_TOLERANCE_S)


async def test_10_exhausted_retries_archive_the_task(
    client: Client, broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load("10_retry_exhausted_archived")
    run = Run.start(raw_redis)
    await enqueue_steps(client, run, client_steps(scenario, 0, 2))

    await serve_until_handled(broker, [], 3, concurrency=1, retry_delay_func=fixed(1))

    text = "PeerError: asynq-peer: bad:fail configured to fail"

    def change(keys: dict[str, Any]) -> None:
        with_error("asynq:{default}:t:<ID1>", text)(keys)
        with_error("asynq:{default}:t:<ID2>", text)(keys)

    assert_same_state(patched(scenario.redis_after, change), run, WORKER_TOLERANCE_S)


async def test_11_skip_retry_archives_at_once(
    client: Client, broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load("11_skip_retry_archived")
    run = Run.start(raw_redis)
    await enqueue_steps(client, run, client_steps(scenario, 0, 1))
    go_text = scenario.redis_after["keys"]["asynq:{default}:t:<ID1>"]["value"]["msg"]

    await serve_until_handled(broker, [], 1, concurrency=1)

    assert go_text["decoded"]["error_msg"] == (
        "asynq-peer: bad:skip configured to skip retry: skip retry for the task"
    )
    expected = patched(
        scenario.redis_after,
        with_error(
            "asynq:{default}:t:<ID1>",
            "PeerError: asynq-peer: bad:skip configured to skip retry",
        ),
    )
    assert_same_state(expected, run, WORKER_TOLERANCE_S)


async def test_19_a_task_past_its_timeout_fails_with_gos_error_text(
    client: Client, broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load("19_timeout_exceeded")
    run = Run.start(raw_redis)
    await enqueue_steps(client, run, client_steps(scenario, 0, 1))
    handled: list[str] = []
    server = Server(ServerConfig(concurrency=1, task_check_interval=0.2), broker=broker)

    async def sleeper(task: ActiveTask) -> None:
        handled.append(task.id)
        await asyncio.sleep(5)

    await server.start(sleeper)
    try:
        await until(lambda: raw_redis.zscore("asynq:{default}:archived", run.ids["<ID1>"]))
    finally:
        await server.shutdown()

    assert_same_state(scenario.redis_after, run, WORKER_TOLERANCE_S)


async def test_20_a_success_releases_its_unique_lock_and_a_retry_keeps_it(
    client: Client, broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load("20_unique_lock_lifecycle")
    run = Run.start(raw_redis)
    await enqueue_steps(client, run, client_steps(scenario, 0, 2))
    text = "PeerError: asynq-peer: uniq:bad configured to fail"
    after_worker = dict(scenario.steps[3]["redis_after"])

    await serve_until_handled(broker, [], 2, concurrency=1, retry_delay_func=fixed(3600))
    assert_same_state(
        patched(after_worker, with_error("asynq:{default}:t:<ID2>", text)),
        run,
        WORKER_TOLERANCE_S,
    )

    await enqueue_steps(client, run, client_steps(scenario, 4, 6))
    expected = patched(scenario.redis_after, with_error("asynq:{default}:t:<ID2>", text))
    assert_same_state(expected, run, WORKER_TOLERANCE_S)


def requeued_with_pending_since(offset: float) -> Callable[[dict[str, Any]], None]:
    """Decision 1: a task requeued at shutdown records when it became pending again."""

    def change(keys: dict[str, Any]) -> None:
        for key in ("asynq:{critical}:t:<ID1>", "asynq:{default}:t:<ID2>"):
            keys[key]["value"]["pending_since"] = "set at requeue"
            keys[key]["rel_s"] = {"pending_since (ns -> s)": offset}

    return change


async def test_12_a_live_server_publishes_itself_and_requeues_at_shutdown(
    client: Client, broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load("12_live_server")
    run = Run.start(raw_redis)
    steps = client_steps(scenario, 0, 3)
    await enqueue_steps(client, run, steps[:2])
    started: list[str] = []

    async def sleeper(task: ActiveTask) -> None:
        started.append(task.id)
        await asyncio.sleep(60)

    weights = {"critical": 6, "default": 3}
    config = ServerConfig(concurrency=2, queues=weights, shutdown_timeout=1.0)
    server = Server(config, broker=broker)
    await server.start(sleeper)
    for placeholder, value in (
        ("<HOST>", server.host),
        ("<PID>", server.pid),
        ("<SERVER_ID>", server.server_id),
    ):
        run.bind(placeholder, value)
    await until(lambda: len(started) == 2)
    await enqueue_steps(client, run, steps[2:])
    await asyncio.sleep(5.3)
    while_running = scenario.steps[4]["redis_after"]
    assert_same_state(while_running, run, WORKER_TOLERANCE_S)
    assert b"asynq:cancel" in raw_redis.pubsub_channels()

    await server.shutdown()
    requeued_at = run.rel(time.time())

    expected = patched(scenario.redis_after, requeued_with_pending_since(requeued_at))
    assert_same_state(expected, run, WORKER_TOLERANCE_S)
    assert sorted(started) == sorted([run.ids["<ID1>"], run.ids["<ID2>"]])


@pytest.mark.parametrize(
    "name", ["01_pending_plain", "02_pending_all_options", "03_pending_edge_values", "05_unique"]
)
async def test_the_python_worker_runs_the_tasks_a_go_client_enqueued(
    name: str, broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load(name)
    raw_redis.flushall()
    load_state(raw_redis, scenario.redis_after, scenario.ids)
    go_tasks = _go_pending(raw_redis)
    now = time.time()
    runnable = {m.id for m in go_tasks if not m.deadline or m.deadline > now + 5}
    seen: list[tuple[str, str, bytes, tuple[tuple[str, str], ...]]] = []

    async def handler(task: ActiveTask) -> None:
        seen.append((task.id, task.type, task.payload, tuple(sorted(task.headers.items()))))

    queues = {m.queue: 1 for m in go_tasks}
    server = Server(ServerConfig(concurrency=2, queues=queues), broker=broker)
    await server.start(handler)
    try:
        await until(lambda: _nothing_pending(raw_redis, queues))
        await until(lambda: no_active_tasks(broker))
    finally:
        await server.shutdown()

    expected = {
        (m.id, m.type, m.payload, tuple(sorted(m.headers.items())))
        for m in go_tasks
        if m.id in runnable
    }
    assert set(seen) == expected
    for msg in go_tasks:
        if msg.id not in runnable:
            stored = TaskMessage.FromString(raw_redis.hget(_task_key(msg), "msg"))
            assert stored.error_msg == "context deadline exceeded"


def _go_pending(raw_redis: redis.Redis) -> list[TaskMessage]:
    found = []
    for key in raw_redis.keys("asynq:{*}:pending"):
        queue = key.decode()[len("asynq:{") : -len("}:pending")]
        for task_id in raw_redis.lrange(key, 0, -1):
            raw = raw_redis.hget(f"asynq:{{{queue}}}:t:{task_id.decode()}", "msg")
            found.append(TaskMessage.FromString(raw))
    return found


def _task_key(msg: TaskMessage) -> str:
    return f"asynq:{{{msg.queue}}}:t:{msg.id}"


def _nothing_pending(raw_redis: redis.Redis, queues: dict[str, int]) -> bool:
    return all(raw_redis.llen(f"asynq:{{{queue}}}:pending") == 0 for queue in queues)
