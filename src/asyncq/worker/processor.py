"""The processor: leases tasks into free worker slots and runs their handlers.

It never leases more tasks than it has free slots, tries the queues in the order the
selector gives for each attempt, and waits for a wake-up (or the fallback poll) when all
queues are empty. Each task runs under its attempt deadline; an async handler is
cancelled when it passes it, a plain handler runs in a daemon thread that keeps its slot
until it returns. How each attempt ends is written by :class:`Outcomes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asyncq.broker import Broker, Dequeued
from asyncq.context import ActiveTask, bind
from asyncq.errors import BrokerError
from asyncq.mux import Handler, Route, ServeMux, SyncHandler, route_of, thread_runner
from asyncq.proto import TaskMessage
from asyncq.worker.component import Backoff, ThrottledLog
from asyncq.worker.execution import Execution
from asyncq.worker.failures import (
    DeadlineExceeded,
    LeaseExpired,
    ShutdownAbort,
    TaskCanceled,
)
from asyncq.worker.outcomes import Outcomes
from asyncq.worker.policy import attempt_deadline
from asyncq.worker.queues import QueueSelector
from asyncq.worker.threads import DaemonThreadPool

logger = logging.getLogger("asyncq.processor")

PRIMED_WAIT_S = 0.5
"""Longest wait inside Redis for a task, so that a stopping worker returns soon."""

ABANDON_GRACE_S = 2.0
"""Seconds interrupted tasks get at shutdown to write their requeue before being abandoned."""


BaseContext = Callable[[], Mapping[contextvars.ContextVar[Any], Any]]
"""Returns the context variables to set for one task's handler (Go asynq's BaseContext)."""


@dataclass(frozen=True, slots=True)
class ProcessorParams:
    broker: Broker
    handler: Handler
    outcomes: Outcomes
    queues: QueueSelector
    concurrency: int
    task_check_interval: float
    shutdown_timeout: float
    task_log_level: int = logging.DEBUG
    base_context: BaseContext | None = None


class Processor:
    """Runs up to ``concurrency`` tasks at a time until shut down."""

    name = "processor"

    def __init__(self, params: ProcessorParams) -> None:
        self._params = params
        self._broker = params.broker
        self._clock = params.broker.clock
        self._outcomes = params.outcomes
        self._level = params.task_log_level
        self.running: dict[str, Execution] = {}
        self._free = params.concurrency
        self._slot_freed = asyncio.Event()
        self._wake = asyncio.Event()
        self._fetching = True
        self._threads = DaemonThreadPool(params.concurrency)
        handler = params.handler
        self._fixed_route = None if isinstance(handler, ServeMux) else route_of(handler, "")
        self._workers: set[asyncio.Task[None]] = set()
        self._errors = ThrottledLog(logger)
        self._backoff = Backoff()
        self._fetcher: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._fetcher = asyncio.create_task(self._fetch_loop(), name="asyncq-processor")

    def stop(self) -> None:
        """Stop leasing new tasks; running ones go on."""
        self._fetching = False
        self._wake.set()
        self._slot_freed.set()

    async def shutdown(self) -> None:
        """Stop leasing, let running tasks finish within the timeout, requeue the rest."""
        self.stop()
        if self._fetcher is not None:
            await self._fetcher
        if self._workers:
            await asyncio.wait(set(self._workers), timeout=self._params.shutdown_timeout)
        for ex in list(self.running.values()):
            ex.interrupt(ShutdownAbort())
        if self._workers:
            await asyncio.wait(set(self._workers), timeout=ABANDON_GRACE_S)
        for ex in self.running.values():
            logger.warning(
                "Abandoned task id=%s type=%s: its handler ignored the shutdown; the "
                "recoverer will retry it after its lease expires.",
                ex.msg.id, ex.msg.type,
            )  # fmt: skip
        self._threads.shutdown()

    # --- signals from other components -------------------------------------------------

    def wake(self) -> None:
        """Try to lease at once: a producer announced new work."""
        self._wake.set()

    def cancel(self, task_id: str) -> bool:
        """Cancel the running task ``task_id``; False when it does not run here."""
        ex = self.running.get(task_id)
        return ex is not None and ex.interrupt(TaskCanceled())

    def lose_lease(self, ex: Execution) -> None:
        """Stop a task whose lease ran out: another worker may already run it."""
        if ex.interrupt(LeaseExpired()):
            logger.warning(
                "Stopped task id=%s type=%s because its lease expired.", ex.msg.id, ex.msg.type
            )

    # --- leasing -----------------------------------------------------------------------

    async def _fetch_loop(self) -> None:
        thread_runner.set(self._run_plain)
        while self._fetching:
            if self._free <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                await asyncio.sleep(0)  # let slots freed in the same tick join this lease
                continue
            self._wake.clear()
            wanted = self._free
            leased = await self._lease_guarded(wanted)
            if leased is None:
                await self._idle(self._backoff.next_delay())
                continue
            self._backoff.reset()
            for item in leased:
                self._spawn(item)
            if len(leased) < wanted:
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        """Wait until a task may be ready, leasing it at once when the broker can.

        A worker of one queue waits inside Redis and leases the first task pushed, in the
        same round trip; others, and a paused queue, wait for a wake-up or the fallback
        poll. The wait inside Redis is kept short so that stop() takes effect quickly.
        """
        queues = self._params.queues.names
        if len(queues) != 1:
            await self._idle(self._poll_delay())
            return
        while self._fetching and self._free > 0:
            wanted = self._free
            leased = await self._lease_when_ready(queues[0], wanted)
            if leased is None:
                await self._idle(self._poll_delay())
                return
            for item in leased:
                self._spawn(item)
            if not leased or len(leased) == wanted:
                return

    async def _lease_when_ready(self, queue: str, wanted: int) -> list[Dequeued] | None:
        # The lease is dated when the request is sent, so a long wait would shorten it.
        wait = min(self._poll_delay(), PRIMED_WAIT_S, self._broker.lease_duration / 10)
        try:
            return await self._broker.dequeue_when_ready(queue, wanted, wait)
        except BrokerError as exc:
            self._errors.error("Could not wait for tasks in Redis: %s", exc)
            return None

    def _poll_delay(self) -> float:
        """The fallback poll, jittered so that workers started together spread out.

        The processor waits for it (or a wake-up) as soon as a lease comes back short: the
        queues were empty then, and a producer that adds to an empty queue wakes the
        workers, so leasing again at once would cost a round trip and find nothing.
        """
        return self._params.task_check_interval * (0.5 + random.random())

    async def _lease_guarded(self, slots: int) -> list[Dequeued] | None:
        """Leased tasks, or None after a Redis error (logged at most once per 3 s)."""
        try:
            return await self._lease(slots)
        except BrokerError as exc:
            self._errors.error("Could not lease tasks from Redis: %s", exc)
            return None

    async def _lease(self, slots: int) -> list[Dequeued]:
        plan = self._params.queues.split(slots)
        if len(plan) == 1:
            order, count = plan[0]
            return await self._broker.dequeue(order, count)
        results = await asyncio.gather(
            *(self._broker.dequeue(order, count) for order, count in plan),
            return_exceptions=True,
        )
        return _merge(results)

    async def _idle(self, seconds: float) -> None:
        """Wait at most ``seconds`` for a wake-up (a producer's signal, or stop)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    # --- running -----------------------------------------------------------------------

    def _spawn(self, leased: Dequeued) -> None:
        if leased.decode_error is not None:
            self._spawn_worker(self._archive_corrupt(leased))
            return
        msg = leased.message
        now = self._clock.now()
        task = ActiveTask(msg, self._broker, self._loop)
        ex = Execution(msg, task, now, attempt_deadline(msg, now), leased.lease_expires_at)
        self._free -= 1
        self.running[msg.id] = ex
        ex.runner = self._spawn_worker(self._work(ex), self._task_context(msg))

    def _task_context(self, msg: TaskMessage) -> contextvars.Context | None:
        """The context a handler starts in: the server's, plus the base context's values."""
        base_context = self._params.base_context
        if base_context is None:
            return None
        context = contextvars.copy_context()
        try:
            values = base_context()
        except Exception as exc:
            self._errors.error(
                "The base_context hook failed for task id=%s (%s: %s); the handler runs "
                "without its values.",
                msg.id, type(exc).__name__, exc,
            )  # fmt: skip
            return context
        for var, value in values.items():
            context.run(var.set, value)
        return context

    def _spawn_worker(
        self, work: Coroutine[None, None, None], context: contextvars.Context | None = None
    ) -> asyncio.Task[None]:
        runner = asyncio.create_task(work, context=context)
        self._workers.add(runner)
        runner.add_done_callback(self._workers.discard)
        return runner

    async def _archive_corrupt(self, leased: Dequeued) -> None:
        """Archive a task whose message cannot be decoded; the worker keeps serving."""
        reason = leased.decode_error or "the stored message cannot be decoded"
        logger.warning(
            "Archiving task id=%s queue=%s because %s.", leased.task_id, leased.queue, reason
        )
        try:
            await self._broker.archive_corrupt(leased.queue, leased.task_id, reason)
        except BrokerError as exc:
            self._errors.error("Could not archive task id=%s: %s", leased.task_id, exc)

    async def _work(self, ex: Execution) -> None:
        bind(ex.task)
        logger.log(self._level, "Started task id=%s type=%s.", ex.msg.id, ex.msg.type)
        try:
            error = await self._invoke(ex)
            if isinstance(error, ShutdownAbort):
                await self._outcomes.requeue(ex)
            elif error is None:
                await self._outcomes.succeed(ex)
            else:
                await self._outcomes.fail(ex, error)
        finally:
            ex.task.running = False
            del self.running[ex.msg.id]
            self._release(ex)

    async def _invoke(self, ex: Execution) -> BaseException | None:
        """Run the handler until its deadline; return what ended it badly, or None.

        The deadline is a timer that interrupts the handler like a cancellation does,
        which costs less per task than a timeout scope. Once interrupted, the attempt
        fails with the interruption's reason even if the handler swallowed it.
        """
        remaining = ex.deadline - self._clock.now()
        if remaining <= 0:
            ex.in_handler = False
            return DeadlineExceeded()
        timer = self._loop.call_later(remaining, ex.expire)
        error: BaseException | None = None
        try:
            await self._call_handler(ex.task)
        except asyncio.CancelledError:
            if ex.abort is None:
                raise
        except Exception as exc:
            error = exc
        finally:
            timer.cancel()
            ex.in_handler = False
        if ex.abort is None:
            return error
        runner = asyncio.current_task()
        if runner is not None and runner.cancelling():
            runner.uncancel()
        return ex.abort

    async def _call_handler(self, task: ActiveTask) -> None:
        route = self._route(task.type)
        if route.is_async:
            await route.handler(task)  # type: ignore[misc]
        else:
            await self._run_plain(route.handler, task)  # type: ignore[arg-type]

    def _route(self, task_type: str) -> Route:
        if self._fixed_route is not None:
            return self._fixed_route
        return route_of(self._params.handler, task_type)

    async def _run_plain(self, handler: SyncHandler, task: ActiveTask) -> None:
        """Run a plain handler in the pool; if abandoned, its thread keeps the slot."""
        future = self._threads.submit(handler, task)
        try:
            await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            ex = self.running.get(task.id)
            if ex is not None and not future.done():
                ex.thread = future
                logger.warning(
                    "Plain handler of task id=%s type=%s is still running after the task "
                    "ended (%s); its thread keeps a worker slot until it returns.",
                    task.id, task.type, ex.abort or "deadline exceeded",
                )  # fmt: skip
            raise

    def _release(self, ex: Execution) -> None:
        thread = ex.thread
        if thread is None or thread.done():
            self._free_slot()
            return
        loop = asyncio.get_running_loop()
        thread.add_done_callback(lambda _: loop.call_soon_threadsafe(self._free_slot))

    def _free_slot(self) -> None:
        self._free += 1
        self._slot_freed.set()


def _merge(results: Sequence[list[Dequeued] | BaseException]) -> list[Dequeued]:
    """The leases of a split dequeue; an error is raised only when nothing was leased."""
    leased: list[Dequeued] = []
    error: BaseException | None = None
    for result in results:
        if isinstance(result, BaseException):
            error = error or result
        else:
            leased.extend(result)
    if error is not None and not leased:
        raise error
    return leased
