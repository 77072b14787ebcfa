"""The time arithmetic of processing: retry delays and the deadline of one attempt."""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncq.context import ActiveTask
    from asyncq.proto import TaskMessage

logger = logging.getLogger("asyncq.processor")

FALLBACK_TIMEOUT_S = 30 * 60


def default_retry_delay(retried: int, error: BaseException, task: ActiveTask) -> float:
    """asynq's back-off in seconds: ``n**4 + 15 + R*(n + 1)`` with R uniform in 0..29.

    ``retried`` is the number of failures counted before this one, so the first retry
    waits 15 to 44 seconds and the 25th about 3.8 days.
    """
    n = retried
    return float(int(float(n) ** 4) + 15 + random.randint(0, 29) * (n + 1))


def attempt_deadline(msg: TaskMessage, now: float) -> float:
    """When the attempt that starts at ``now`` must end (Unix seconds), per the protocol.

    With both a timeout and a deadline the earlier one wins, in whole seconds; a message
    with neither (which no client writes) gets 30 minutes.
    """
    if msg.timeout and msg.deadline:
        return float(min(int(now) + msg.timeout, msg.deadline))
    if msg.timeout:
        return now + msg.timeout
    if msg.deadline:
        return float(msg.deadline)
    logger.error(
        "Task id=%s has neither a timeout nor a deadline; allowing %d seconds.",
        msg.id,
        FALLBACK_TIMEOUT_S,
    )
    return now + FALLBACK_TIMEOUT_S
