"""Tasks and their options refuse bad values with a ConfigError that names the problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asyncq import ConfigError, Task, TaskOptions


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"max_retry": "3"}, "max_retry must be an int"),
        ({"max_retry": 2.5}, "max_retry must be an int"),
        ({"max_retry": True}, "max_retry must be an int"),
        ({"max_retry": 2**40}, "max_retry must be at most"),
        ({"retention": -5}, "retention cannot be negative"),
        ({"timeout": "30"}, "timeout must be seconds or a timedelta"),
        ({"timeout": float("inf")}, "timeout must be a finite number"),
        ({"process_at": "tomorrow"}, "process_at must be Unix seconds or a datetime"),
        ({"queue": 5}, "queue must be a str"),
        ({"task_id": b"id"}, "task_id must be a str"),
    ],
)
def test_options_of_the_wrong_type_are_refused(options: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        TaskOptions.of(options)


def test_well_formed_options_are_kept_as_given() -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)

    options = TaskOptions.of({"max_retry": 3, "timeout": timedelta(seconds=5), "deadline": when})

    assert options.given() == [
        ("max_retry", 3),
        ("timeout", timedelta(seconds=5)),
        ("deadline", when),
    ]


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: Task(None), "task type must be a str"),  # type: ignore[arg-type]
        (lambda: Task("t", "text"), "str payload"),  # type: ignore[arg-type]
        (lambda: Task("t", 42), "int payload"),  # type: ignore[arg-type]
        (lambda: Task("t", b"", headers={"a": 1}), "headers must map str to str"),  # type: ignore[dict-item]
    ],
)
def test_malformed_tasks_are_refused(make: Any, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        make()


def test_a_bytearray_payload_is_stored_as_bytes() -> None:
    assert Task("t", bytearray(b"\x00\x01")).payload == b"\x00\x01"  # type: ignore[arg-type]
