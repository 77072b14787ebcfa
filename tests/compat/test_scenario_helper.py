"""The scenario helper agrees with itself on Go's data: every recorded state, loaded into
Redis as Go wrote it and snapshotted back, compares equal; and a changed value is found."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from compat.scenario import (
    WORKER_TOLERANCE_S,
    Run,
    Scenario,
    compare,
    load_state,
    patched,
)


def go_run(raw_redis: redis.Redis, scenario: Scenario, state: dict[str, Any]) -> Run:
    """Go's state in the db, with Go's own IDs and start time standing for the run's."""
    raw_redis.flushall()
    load_state(raw_redis, state, scenario.ids)
    return Run(raw_redis, scenario.t_ref, dict(scenario.ids))


@pytest.mark.parametrize("name", Scenario.all_names())
def test_every_recorded_state_loads_and_compares_equal_to_itself(
    name: str, raw_redis: redis.Redis
) -> None:
    scenario = Scenario.load(name)
    states = [scenario.redis_after, *(state for _, state in scenario.step_states())]

    for state in states:
        run = go_run(raw_redis, scenario, state)

        assert compare(state, run, WORKER_TOLERANCE_S) == []


def test_a_changed_field_a_missing_key_and_a_moved_score_are_each_reported(
    raw_redis: redis.Redis,
) -> None:
    scenario = Scenario.load("04_scheduled")
    run = go_run(raw_redis, scenario, scenario.redis_after)
    raw_redis.delete("asynq:{low}:scheduled")
    raw_redis.zadd("asynq:{default}:scheduled", {scenario.ids["<ID1>"]: scenario.t_ref + 400})

    def drop_retry(keys: dict[str, Any]) -> None:
        keys["asynq:{default}:t:<ID3>"]["value"]["msg"]["decoded"]["retry"] = 3

    diffs = compare(patched(scenario.redis_after, drop_retry), run)

    assert "missing key asynq:{low}:scheduled" in diffs
    assert any(d.startswith("asynq:{default}:scheduled score: +400.0 s") for d in diffs)
    assert any(d.endswith("msg retry: 25, Go has 3") for d in diffs)
    assert any("msg: bytes" in d for d in diffs)
    assert len(diffs) == 4
