"""The script layer: headers as contracts, typed wrappers that match them, NOSCRIPT recovery
and the translation of Redis errors."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import redis
from broker_state import message

from asyncq.errors import BrokerError
from asyncq.redis import task_scripts
from asyncq.redis.broker import RedisBroker
from asyncq.redis.scripts import SCRIPTS_DIR, Script, parse_header

LUA_FILES = sorted(SCRIPTS_DIR.glob("*.lua"))
WRAPPED = sorted(
    name
    for name, value in vars(task_scripts).items()
    if inspect.isfunction(value)
    and value.__module__ == task_scripts.__name__
    and (SCRIPTS_DIR / f"{name}.lua").exists()
)


@pytest.mark.parametrize("path", LUA_FILES, ids=lambda p: p.name)
def test_every_script_opens_with_its_keys_argv_and_return_codes(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    header = [line for line in source.splitlines() if line.startswith("--")]

    parsed = parse_header(source, str(path))

    assert parsed.keys or parsed.args, f"{path} declares no KEYS or ARGV"
    assert any(line.startswith("-- Returns") for line in header), f"{path} states no returns"


def test_every_broker_script_has_a_typed_wrapper() -> None:
    broker_scripts = {
        "enqueue", "schedule", "add_to_group", "enqueue_batch", "dequeue", "done",
        "mark_as_complete", "requeue", "retry", "archive", "forward",
        "delete_expired_completed", "list_lease_expired", "write_result",
        "aggregation_check", "read_aggregation_set", "delete_aggregation_set",
        "reclaim_stale_aggregation_sets", "aggregate_commit", "write_server_state",
        "clear_server_state",
    }  # fmt: skip

    assert broker_scripts <= set(WRAPPED)


@pytest.mark.parametrize("name", WRAPPED)
def test_wrapper_parameters_are_named_and_ordered_as_the_header(name: str) -> None:
    header = parse_header((SCRIPTS_DIR / f"{name}.lua").read_text(encoding="utf-8"))
    parameters = list(inspect.signature(getattr(task_scripts, name)).parameters)

    assert parameters == list(header.names)


async def test_a_script_flushed_from_redis_is_loaded_again_transparently(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    await broker.enqueue(message())
    raw_redis.script_flush()

    await broker.enqueue(message())

    assert raw_redis.llen("asynq:{default}:pending") == 2


async def test_a_call_with_the_wrong_number_of_keys_is_refused_before_sending(
    broker: RedisBroker,
) -> None:
    script = Script("write_result")

    with pytest.raises(BrokerError, match=r"takes KEYS .*task_key.* called with 2 keys"):
        await script(broker.client, ["a", "b"], [b"x"])


async def test_a_redis_error_reply_becomes_a_broker_error(
    broker: RedisBroker, raw_redis: redis.Redis
) -> None:
    raw_redis.set("asynq:{default}:pending", "not a list")

    with pytest.raises(BrokerError, match="Redis refused running the enqueue script") as failed:
        await broker.enqueue(message())

    assert not isinstance(failed.value, redis.RedisError)
    assert isinstance(failed.value.__cause__, redis.ResponseError)
