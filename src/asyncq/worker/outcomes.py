"""How an attempt ends in Redis: done, completed, retried, archived or requeued.

The decision follows asynq: success keeps the task as completed when it has a retention
and deletes it otherwise; on failure the error handler runs first, then ``RevokeTask``
deletes, ``SkipRetry`` or exhausted retries archive, and anything else is retried after
the retry delay. Writes are skipped once the lease is lost (the recoverer owns the task
then) and handed to the syncer when Redis fails.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from asyncq.broker import Broker
from asyncq.context import ActiveTask
from asyncq.errors import BrokerError, TaskNotActiveError
from asyncq.proto import TaskMessage
from asyncq.worker.acks import DoneBatcher
from asyncq.worker.execution import Execution
from asyncq.worker.failures import error_text, is_revoke, is_skip_retry
from asyncq.worker.policy import default_retry_delay
from asyncq.worker.syncer import Syncer

logger = logging.getLogger("asyncq.processor")

RetryDelayFunc = Callable[[int, BaseException, ActiveTask], "float | timedelta"]
IsFailureFunc = Callable[[BaseException], bool]
ErrorHandler = Callable[[ActiveTask, BaseException], "Awaitable[None] | None"]
Write = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class OutcomeParams:
    broker: Broker
    syncer: Syncer
    retry_delay: RetryDelayFunc
    is_failure: IsFailureFunc
    error_handler: ErrorHandler | None
    task_log_level: int


class Outcomes:
    """Writes the end of each attempt, as the protocol's processor does."""

    def __init__(self, params: OutcomeParams) -> None:
        self._broker = params.broker
        self._syncer = params.syncer
        self._retry_delay = params.retry_delay
        self._is_failure = params.is_failure
        self._error_handler = params.error_handler
        self._level = params.task_log_level
        self._acks = DoneBatcher(params.broker)

    async def succeed(self, ex: Execution) -> None:
        msg = ex.msg
        written = await self._write(ex, lambda: self._acks.succeed(msg), "completion")
        if written:
            logger.log(self._level, "Processed task id=%s type=%s.", msg.id, msg.type)

    async def fail(self, ex: Execution, error: BaseException) -> None:
        await self._report(ex.task, error)
        write, verb = self.failure_write(ex.msg, ex.task, error)
        await self._write(ex, write, verb)

    async def requeue(self, ex: Execution) -> None:
        msg = ex.msg
        await self._write(ex, lambda: self._broker.requeue(msg), "requeue")
        logger.log(self._level, "Requeued unfinished task id=%s type=%s.", msg.id, msg.type)

    def failure_write(
        self, msg: TaskMessage, task: ActiveTask, error: BaseException
    ) -> tuple[Write, str]:
        """The write that ends a failed attempt, and the verb that names it."""
        text = error_text(error)
        if is_revoke(error):
            logger.log(self._level, "Revoked task id=%s type=%s.", msg.id, msg.type)
            return (lambda: self._broker.done(msg)), "revocation"
        if msg.retried >= msg.retry or is_skip_retry(error):
            logger.log(self._level, "Archived task id=%s type=%s: %s", msg.id, msg.type, text)
            return (lambda: self._broker.archive(msg, text)), "archive"
        seconds, failure = self._retry_policy(msg, task, error)
        retry_at = self._broker.clock.now() + seconds
        logger.log(
            self._level,
            "Failed task id=%s type=%s, retrying in %.0f s: %s",
            msg.id, msg.type, seconds, text,
        )  # fmt: skip
        return (lambda: self._broker.retry(msg, retry_at, text, failure)), "retry"

    def _retry_policy(
        self, msg: TaskMessage, task: ActiveTask, error: BaseException
    ) -> tuple[float, bool]:
        """Seconds until the retry and whether the error counts; defaults if a hook fails."""
        try:
            delay = self._retry_delay(msg.retried, error, task)
            failure = self._is_failure(error)
        except Exception:
            logger.exception(
                "The retry_delay_func or is_failure hook failed for task id=%s; "
                "retrying with the default delay.",
                msg.id,
            )
            return default_retry_delay(msg.retried, error, task), True
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        return seconds, failure

    async def _report(self, task: ActiveTask, error: BaseException) -> None:
        if self._error_handler is None:
            return
        try:
            outcome = self._error_handler(task, error)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            logger.exception("The error handler failed for task id=%s.", task.id)

    async def _write(self, ex: Execution, write: Write, verb: str) -> bool:
        """Write the outcome while the lease holds; False when it was skipped."""
        now = self._broker.clock.now()
        if not ex.lease_valid(now):
            logger.debug(
                "Skipped the %s of task id=%s: its lease expired, so the recoverer takes it.",
                verb, ex.msg.id,
            )  # fmt: skip
            return False
        try:
            await write()
        except TaskNotActiveError:
            logger.debug(
                "Skipped the %s of task id=%s: it is no longer leased to this worker.",
                verb, ex.msg.id,
            )  # fmt: skip
            return False
        except BrokerError as exc:
            logger.debug("The %s of task id=%s failed; retrying: %s", verb, ex.msg.id, exc)
            self._syncer.add(write, ex.lease_expires_at, f"{verb} of task id={ex.msg.id}")
        return True
