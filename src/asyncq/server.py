"""Server: leases tasks from the served queues and runs them with a handler.

One :class:`ServerConfig` says everything a server does; :class:`Server` wires the
components of :mod:`asyncq.worker` around a broker and runs them::

    mux = ServeMux()

    @mux.handle("email:")
    async def send_email(task: ActiveTask) -> None: ...

    Server.from_url("redis://127.0.0.1:6379/0", concurrency=8).run(mux)

Lease duration comes from the broker, because every server sharing a queue must agree
on it (the recoverer of any server reclaims a task whose lease is older than that).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from asyncq.broker import Broker
from asyncq.errors import AsyncqError, BrokerError, ConfigError, ServerClosedError
from asyncq.mux import Handler
from asyncq.worker.aggregator import (
    DEFAULT_GRACE_PERIOD,
    Aggregator,
    AggregatorParams,
    GroupAggregator,
    UnservedGroupsWatch,
    UnservedGroupsWatchParams,
    check_group_settings,
)
from asyncq.worker.forwarder import Forwarder, ForwarderParams
from asyncq.worker.healthcheck import HealthCheck, HealthCheckFunc, HealthCheckParams
from asyncq.worker.heartbeat import Heartbeat, HeartbeatParams, ServerIdentity
from asyncq.worker.janitor import Janitor, JanitorParams
from asyncq.worker.outcomes import (
    ErrorHandler,
    IsFailureFunc,
    OutcomeParams,
    Outcomes,
    RetryDelayFunc,
)
from asyncq.worker.policy import default_retry_delay
from asyncq.worker.processor import BaseContext, Processor, ProcessorParams
from asyncq.worker.queues import QueueSelector, normalized_weights
from asyncq.worker.recoverer import Recoverer, RecovererParams
from asyncq.worker.subscriber import Subscriber, SubscriberParams
from asyncq.worker.syncer import Syncer, SyncerParams

logger = logging.getLogger("asyncq.server")


def _always_failure(error: BaseException) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How a server runs. Every field has a working default; ``None`` means "derive it".

    redis_url: the Redis to serve from when the server builds its own broker
        (default ``redis://127.0.0.1:6379/0``); ignored when a broker is passed in.
    concurrency: most tasks run at once, and the size of the plain-handler thread pool;
        ``None`` means the number of CPUs.
    queues: queue name → weight; ``None`` means ``{"default": 1}``. Weights are relative:
        {"critical": 6, "default": 3, "low": 1} starts about 60/30/10 percent of tasks.
    strict_priority: drain higher-weight queues completely before trying lower ones
        (default False: weighted random choice per attempt).
    shutdown_timeout: seconds running tasks get to finish at shutdown before they are put
        back at the front of their queue without counting a retry (default 8).
    task_check_interval: seconds an idle worker waits before polling the queues again
        when no wake-up signal came (default 1; asyncq producers wake workers at once,
        Go producers do not, so this bounds their pickup delay). Jittered by ±50%.
    delayed_task_check_interval: seconds between moves of due scheduled and retry tasks
        to pending (default 1). Go uses 5 s; 1 s keeps a retry or a scheduled task at most
        about a second late for the cost of one cheap script call per queue per second.
    janitor_interval: seconds between deletions of expired completed tasks (default 8).
    janitor_batch_size: completed tasks deleted per script call (default 100).
    heartbeat_interval: seconds between server-state writes and lease extensions
        (default 5); the server records live for twice this long.
    recoverer_interval: seconds between recoveries of lease-expired tasks (default 60).
    recoverer_cutoff: seconds a lease must be overdue before its task is recovered, an
        allowance for clock skew; ``None`` means the broker's lease duration (30 s).
    syncer_interval: seconds between retries of completion writes that failed (default 5).
    startup_attempts: how often ``start`` tries to reach Redis, waiting 0.5 s, then twice
        as long each time up to 8 s, with one WARNING per failed attempt; ``None`` (the
        default) keeps trying, so a worker started before Redis simply waits for it.
    retry_delay_func: ``(retried, error, task) -> seconds | timedelta`` before a failed
        task runs again; default asynq's ``n**4 + 15 + randint(0, 29) * (n + 1)``.
    is_failure: ``error -> bool``; False retries without counting a retry or a failure
        (default: every error is a failure).
    error_handler: ``(task, error) -> None`` (plain or async), called for every failed
        attempt before its outcome is written; ``None`` means no hook.
    base_context: ``() -> {ContextVar: value}``, called as each task starts; its values are
        set in the context the handler runs in (plain handlers too), like asynq's
        BaseContext. Context variables set before ``start`` are inherited anyway; use this
        for values computed per task. ``None`` (the default) adds nothing.
    health_check_func: ``(error | None) -> None`` (plain or async), called every
        ``health_check_interval`` seconds (default 15) with the result of a PING;
        ``None`` disables the health check.
    task_log_level: level of the one line logged when a task starts and when it ends
        (default DEBUG, so the hot path stays quiet; set logging.INFO to see every task).
    group_aggregator: ``aggregate(group, tasks) -> Task`` (plain or async) that turns the
        tasks of a ready group into one task, enqueued in the group's queue; ``None``
        means grouped tasks are not aggregated by this server (a warning says so once
        when a served queue holds groups).
    group_grace_period: seconds without a new task after which a group is ready
        (default 60; at least 1). Groups are checked every ``min(7, grace period)`` s.
    group_max_delay: seconds after its oldest task joined at which a group is ready
        however busy it is (default 0: no limit).
    group_max_size: number of tasks at which a group is ready at once, and the most
        tasks one aggregation takes (default 0: no limit).
    """

    redis_url: str = "redis://127.0.0.1:6379/0"
    concurrency: int | None = None
    queues: Mapping[str, int] | None = None
    strict_priority: bool = False
    shutdown_timeout: float = 8.0
    task_check_interval: float = 1.0
    delayed_task_check_interval: float = 1.0
    janitor_interval: float = 8.0
    janitor_batch_size: int = 100
    heartbeat_interval: float = 5.0
    recoverer_interval: float = 60.0
    recoverer_cutoff: float | None = None
    syncer_interval: float = 5.0
    startup_attempts: int | None = None
    retry_delay_func: RetryDelayFunc = default_retry_delay
    is_failure: IsFailureFunc = _always_failure
    error_handler: ErrorHandler | None = None
    base_context: BaseContext | None = None
    health_check_func: HealthCheckFunc | None = None
    health_check_interval: float = 15.0
    task_log_level: int = logging.DEBUG
    group_aggregator: GroupAggregator | None = None
    group_grace_period: float = DEFAULT_GRACE_PERIOD
    group_max_delay: float = 0.0
    group_max_size: int = 0
    weights: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        concurrency = self.concurrency if self.concurrency is not None else os.cpu_count() or 1
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}.")
        object.__setattr__(self, "concurrency", concurrency)
        object.__setattr__(self, "weights", dict(self.queues or {"default": 1}))
        normalized_weights(self.weights)
        for name in _INTERVALS:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds.")
        check_group_settings(self.group_grace_period, self.group_max_delay, self.group_max_size)

    @classmethod
    def from_url(cls, url: str, **fields: Any) -> ServerConfig:
        """A config serving from the Redis at ``url``, with any other fields given."""
        return cls(redis_url=url, **fields)

    @property
    def workers(self) -> int:
        """The resolved concurrency."""
        return self.concurrency or 1


_INTERVALS = (
    "shutdown_timeout",
    "task_check_interval",
    "delayed_task_check_interval",
    "janitor_interval",
    "heartbeat_interval",
    "recoverer_interval",
    "syncer_interval",
    "health_check_interval",
)


class _Component(Protocol):
    def start(self) -> None: ...

    async def shutdown(self) -> None: ...


async def _shut_down(component: _Component) -> None:
    """Shut ``component`` down; a Redis failure is logged so the others still stop."""
    try:
        await component.shutdown()
    except BrokerError as exc:
        logger.warning("Could not shut down %s cleanly: %s", type(component).__name__, exc)


class Server:
    """Runs handlers for the tasks of the configured queues until shut down."""

    def __init__(self, config: ServerConfig | None = None, broker: Broker | None = None) -> None:
        self.config = config or ServerConfig()
        self.queues = QueueSelector(self.config.weights, self.config.strict_priority)
        self.server_id = str(uuid.uuid4())
        self.host = socket.gethostname() or "unknown-host"
        self.pid = os.getpid()
        self.status = "new"
        self._broker = broker
        self._owns_broker = broker is None
        self._processor: Processor | None = None
        self._components: list[_Component] = []

    @classmethod
    def from_url(cls, url: str, **fields: Any) -> Server:
        """A server for the Redis at ``url``; ``fields`` are :class:`ServerConfig` fields."""
        return cls(ServerConfig.from_url(url, **fields))

    @property
    def broker(self) -> Broker:
        if self._broker is None:
            from asyncq.redis.broker import RedisBroker

            self._broker = RedisBroker.from_url(self.config.redis_url)
        return self._broker

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self, handler: Handler) -> None:
        """Start every component; return once they run. Raises when started before."""
        self._check_startable()
        config = self.config
        logger.info(
            "Starting server id=%s queues=%s strict_priority=%s concurrency=%d.",
            self.server_id, self.queues.weights, config.strict_priority, config.workers,
        )  # fmt: skip
        await self._check_redis()

        self._components = self._build(handler)
        self.status = "active"
        for component in reversed(self._components):
            component.start()
        logger.info("Server started id=%s.", self.server_id)

    def stop(self) -> None:
        """Stop leasing new tasks; running tasks finish. ``shutdown`` still has to follow."""
        if self._processor is not None and self.status == "active":
            logger.info("Stopping task leasing for server id=%s.", self.server_id)
            self._processor.stop()
            self.status = "stopped"

    async def shutdown(self) -> None:
        """Stop leasing, wait for running tasks (up to the timeout), requeue the rest."""
        if self.status == "closed":
            return
        started, self.status = self.status != "new", "closed"
        if started:
            logger.info("Shutting down server id=%s.", self.server_id)
            for component in self._components:
                await _shut_down(component)
        if self._owns_broker and self._broker is not None:
            with contextlib.suppress(BrokerError):
                await self._broker.close()
        if started:
            logger.info("Server shut down id=%s.", self.server_id)

    def run(self, handler: Handler) -> None:
        """Start, then block until SIGTERM or SIGINT and shut down gracefully.

        SIGTSTP stops leasing new tasks, as in asynq.
        """
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._run(handler))
        finally:
            _close_loop(loop)

    async def _run(self, handler: Handler) -> None:
        await self.start(handler)
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, done.set)
        loop.add_signal_handler(signal.SIGTSTP, self.stop)
        try:
            await done.wait()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGTSTP):
                loop.remove_signal_handler(signum)
            await self.shutdown()

    async def _check_redis(self) -> None:
        """Wait for Redis (``startup_attempts``), refuse one before 6.2, warn on eviction."""
        from asyncq.redis.broker import RedisBroker
        from asyncq.redis.connection import ensure_server_ready

        broker = self.broker
        if isinstance(broker, RedisBroker):
            await ensure_server_ready(broker.client, attempts=self.config.startup_attempts)
        else:
            await broker.ping()

    def _check_startable(self) -> None:
        if self.status == "closed":
            raise ServerClosedError(
                f"Server id={self.server_id} was shut down; create a new Server to run again."
            )
        if self.status != "new":
            raise AsyncqError(
                f"Server id={self.server_id} is already running; call start() only once."
            )

    # --- wiring ------------------------------------------------------------------------

    def _build(self, handler: Handler) -> list[_Component]:
        """The components in asynq's stop order; they start in the reverse order."""
        config = self.config
        broker = self.broker
        names = self.queues.names
        syncer = Syncer(SyncerParams(broker.clock, config.syncer_interval))
        outcomes = self._outcomes(syncer)
        processor = self._processor = self._new_processor(handler, outcomes)
        interval = config.delayed_task_check_interval

        components: list[_Component] = [
            Forwarder(ForwarderParams(broker, names, interval, processor.wake)),
            processor,
            Recoverer(self._recoverer_params(outcomes)),
            syncer,
            Subscriber(SubscriberParams(broker, processor.cancel, processor.wake)),
            Janitor(
                JanitorParams(broker, names, config.janitor_interval, config.janitor_batch_size)
            ),
            self._group_component(),
        ]
        if config.health_check_func is not None:
            check = HealthCheckParams(
                broker, config.health_check_func, config.health_check_interval
            )
            components.append(HealthCheck(check))
        components.append(Heartbeat(self._heartbeat_params(processor)))
        return components

    def _outcomes(self, syncer: Syncer) -> Outcomes:
        config = self.config
        return Outcomes(
            OutcomeParams(
                self.broker, syncer, config.retry_delay_func, config.is_failure,
                config.error_handler, config.task_log_level,
            )
        )  # fmt: skip

    def _new_processor(self, handler: Handler, outcomes: Outcomes) -> Processor:
        config = self.config
        return Processor(
            ProcessorParams(
                self.broker, handler, outcomes, self.queues, config.workers,
                config.task_check_interval, config.shutdown_timeout, config.task_log_level,
                config.base_context,
            )
        )  # fmt: skip

    def _group_component(self) -> _Component:
        """The aggregator, or a watch that warns once about groups nobody aggregates."""
        config = self.config
        if config.group_aggregator is None:
            return UnservedGroupsWatch(UnservedGroupsWatchParams(self.broker, self.queues.names))
        return Aggregator(
            AggregatorParams(
                self.broker, self.queues.names, config.group_aggregator,
                config.group_grace_period, config.group_max_delay, config.group_max_size,
                shutdown_timeout=config.shutdown_timeout,
            )
        )  # fmt: skip

    def _recoverer_params(self, outcomes: Outcomes) -> RecovererParams:
        cutoff = self.config.recoverer_cutoff
        return RecovererParams(
            self.broker,
            outcomes,
            self.queues.names,
            self.config.recoverer_interval,
            self.broker.lease_duration if cutoff is None else cutoff,
        )

    def _heartbeat_params(self, processor: Processor) -> HeartbeatParams:
        identity = ServerIdentity(
            self.host,
            self.pid,
            self.server_id,
            self.config.workers,
            dict(self.config.weights),
            self.config.strict_priority,
        )
        return HeartbeatParams(
            self.broker,
            identity,
            processor.running,
            lambda: self.status,
            processor.lose_lease,
            self.config.heartbeat_interval,
        )


def _close_loop(loop: asyncio.AbstractEventLoop, grace: float = 1.0) -> None:
    """Close ``loop`` like ``asyncio.run`` does, but never wait on a task that ignores
    cancellation: the server has already abandoned it, and the process must be able to exit.
    """
    leftovers = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        loop.run_until_complete(asyncio.wait(leftovers, timeout=grace))
    stubborn = [task for task in leftovers if not task.done()]
    if stubborn:
        logger.warning(
            "Exiting with %d handler(s) that ignored cancellation; their tasks return "
            "through lease recovery.",
            len(stubborn),
        )
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
