"""Conversions between the broker's values and its scripts' arguments."""

from __future__ import annotations

from collections.abc import Sequence

from asyncq.errors import ConfigError
from asyncq.proto import TaskMessage
from asyncq.redis import keys


def counter_keys(q: str, now: float) -> dict[str, str]:
    """The four counters a failed attempt increments: today's and the all-time ones."""
    return {
        "processed_day_key": keys.processed_key(q, now),
        "failed_day_key": keys.failed_key(q, now),
        "processed_total_key": keys.processed_total_key(q),
        "failed_total_key": keys.failed_total_key(q),
    }


def chunks_by_queue(msgs: Sequence[TaskMessage], size: int) -> list[tuple[str, list[int]]]:
    """Message positions grouped by queue (in first-seen order), at most ``size`` per chunk."""
    by_queue: dict[str, list[int]] = {}
    for index, msg in enumerate(msgs):
        by_queue.setdefault(msg.queue, []).append(index)
    return [
        (queue, positions[start : start + size])
        for queue, positions in by_queue.items()
        for start in range(0, len(positions), size)
    ]


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def copy_message(msg: TaskMessage) -> TaskMessage:
    copy = TaskMessage()
    copy.CopyFrom(msg)
    return copy


def unix_ns(now: float) -> int:
    """Unix nanoseconds; the whole seconds are kept exact, which ``now * 1e9`` would not."""
    whole = int(now)
    return whole * 1_000_000_000 + round((now - whole) * 1_000_000_000)


def unique_lock(msg: TaskMessage, unique_ttl: int | None) -> str | None:
    """The lock a unique enqueue takes: the message's, as the client computed it."""
    if unique_ttl is None:
        return None
    if not msg.unique_key:
        raise ConfigError(
            f"Task {msg.id} asks for uniqueness but its message has no unique_key; "
            "build it with asyncq.redis.keys.unique_key."
        )
    return msg.unique_key


def lock_ttl(unique_ttl: int | None) -> int:
    return 0 if unique_ttl is None else whole_ttl(unique_ttl)


def whole_ttl(seconds: float) -> int:
    """A TTL in whole seconds; Redis refuses fractions, so they are refused here first."""
    if seconds != int(seconds) or seconds < 1:
        raise ConfigError(f"A TTL must be a whole number of seconds, at least 1; got {seconds}.")
    return int(seconds)
