"""Retry delays, attempt deadlines, queue order and stored error text, without Redis."""

from __future__ import annotations

import collections

import pytest

from asyncq.errors import ConfigError, RevokeTask, SkipRetry
from asyncq.proto import TaskMessage
from asyncq.worker.failures import (
    DeadlineExceeded,
    LeaseExpired,
    TaskCanceled,
    error_text,
    is_revoke,
    is_skip_retry,
)
from asyncq.worker.policy import attempt_deadline, default_retry_delay
from asyncq.worker.queues import QueueSelector


@pytest.mark.parametrize(
    ("retried", "low", "high"),
    [(0, 15, 44), (1, 16, 74), (5, 640, 814), (24, 331_791, 332_516)],
)
def test_default_retry_delay_stays_within_asynqs_range(retried: int, low: int, high: int) -> None:
    delays = {default_retry_delay(retried, ValueError(), None) for _ in range(400)}  # type: ignore[arg-type]

    assert min(delays) >= low
    assert max(delays) <= high
    assert len(delays) > 10


def test_deadline_is_the_earlier_of_timeout_and_deadline_in_whole_seconds() -> None:
    now = 1_700_000_000.7

    both_timeout_first = TaskMessage(timeout=10, deadline=1_700_000_100)
    both_deadline_first = TaskMessage(timeout=600, deadline=1_700_000_100)

    assert attempt_deadline(both_timeout_first, now) == 1_700_000_010
    assert attempt_deadline(both_deadline_first, now) == 1_700_000_100
    assert attempt_deadline(TaskMessage(timeout=10), now) == now + 10
    assert attempt_deadline(TaskMessage(deadline=1_700_000_100), now) == 1_700_000_100
    assert attempt_deadline(TaskMessage(), now) == now + 1800


def test_error_text_keeps_gos_strings_for_runtime_failures() -> None:
    assert error_text(ValueError("bad id")) == "ValueError: bad id"
    assert error_text(KeyError()) == "KeyError"
    assert error_text(DeadlineExceeded()) == "context deadline exceeded"
    assert error_text(TaskCanceled()) == "context canceled"
    assert error_text(LeaseExpired()) == "asynq: task lease expired"


def test_skip_retry_and_revoke_are_found_through_raise_from() -> None:
    try:
        try:
            raise SkipRetry()
        except SkipRetry as inner:
            raise ValueError("payload is not JSON") from inner
    except ValueError as outer:
        assert is_skip_retry(outer)
        assert not is_revoke(outer)

    assert is_revoke(RevokeTask())
    assert not is_skip_retry(ValueError())


def test_strict_order_is_by_weight_highest_first() -> None:
    selector = QueueSelector({"low": 1, "critical": 6, "default": 3}, strict=True)

    assert selector.order() == ["critical", "default", "low"]
    assert selector.split(4) == [(["critical", "default", "low"], 4)]


def test_weighted_order_puts_each_queue_first_in_proportion_to_its_weight() -> None:
    selector = QueueSelector({"critical": 6, "default": 3, "low": 1})
    firsts = collections.Counter(selector.order()[0] for _ in range(20_000))

    assert abs(firsts["critical"] / 20_000 - 0.6) < 0.02
    assert abs(firsts["default"] / 20_000 - 0.3) < 0.02
    assert abs(firsts["low"] / 20_000 - 0.1) < 0.02
    assert sorted(selector.order()) == ["critical", "default", "low"]


def test_split_draws_one_order_per_slot_and_counts_every_slot() -> None:
    selector = QueueSelector({"a": 2, "b": 2})

    plan = selector.split(50)

    assert sum(count for _, count in plan) == 50
    assert {order[0] for order, _ in plan} == {"a", "b"}


def test_weights_are_reduced_and_invalid_queues_refused() -> None:
    assert QueueSelector({"a": 6, "b": 3}).weights == {"a": 2, "b": 1}
    assert QueueSelector({}).names == ["default"]
    with pytest.raises(ConfigError):
        QueueSelector({" ": 1})
    with pytest.raises(ConfigError):
        QueueSelector({"a": 0})
