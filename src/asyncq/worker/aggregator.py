"""The aggregator: turns the tasks waiting in a group into one task made by the user.

On every tick it starts a check (at most three run at once). A check walks the served
queues and their groups; a group that is ready (full, waited long enough, or quiet for the
grace period) is moved into an aggregation set, the user's ``aggregate(group, tasks)``
builds one task from the set's tasks, and that task is stored in the group's queue in the
same script that deletes the set. A crash before that script leaves the set to the
recoverer, which returns its tasks to the group after the set's deadline; a crash after it
leaves nothing behind. So each grouped task ends up in exactly one aggregated task.

A server whose queues hold groups but that has no aggregator logs one warning instead
(:class:`UnservedGroupsWatch`): Go servers stay silent and the tasks wait forever.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from asyncq.broker import Broker
from asyncq.errors import BrokerError, ConfigError, EnqueueError
from asyncq.mux import is_async_handler
from asyncq.preparation import prepare
from asyncq.proto import TaskMessage
from asyncq.task import Task, TaskOptions, TaskState
from asyncq.worker.component import PeriodicComponent
from asyncq.worker.threads import DaemonThreadPool

GroupAggregator = Callable[[str, list[Task]], Task | Awaitable[Task]]
"""``aggregate(group, tasks) -> Task``, plain or ``async``: one task made from a group's tasks.

The tasks come in the order they joined the group. The returned task is enqueued in the
group's queue (a ``queue`` option on it is overridden); its other options apply, except
``group``, which is refused. A plain function runs in a worker thread. Raising leaves
the tasks to be aggregated again after the aggregation set's deadline (2 minutes).
"""

MAX_CHECKS_IN_FLIGHT = 3
MAX_CHECK_INTERVAL = 7.0
DEFAULT_GRACE_PERIOD = 60.0


@dataclass(frozen=True, slots=True)
class AggregatorParams:
    """What the aggregator serves and when a group is ready.

    grace_period: seconds without a new task after which a group is aggregated (≥ 1).
    max_delay: seconds after which a group is aggregated however busy it is; 0 = no limit.
    max_size: number of tasks at which a group is aggregated at once, and the most tasks
        one aggregation takes; 0 = no limit.
    interval: seconds between checks; ``None`` means ``min(7, grace_period)``.
    shutdown_timeout: seconds running checks get at shutdown before they are abandoned
        (their sets return to their groups after the deadline).
    """

    broker: Broker
    queues: Sequence[str]
    aggregate: GroupAggregator
    grace_period: float = DEFAULT_GRACE_PERIOD
    max_delay: float = 0.0
    max_size: int = 0
    interval: float | None = None
    shutdown_timeout: float = 8.0


def check_group_settings(grace_period: float, max_delay: float, max_size: int) -> None:
    """Refuse group settings that asynq refuses, or that make no sense."""
    if grace_period < 1:
        raise ConfigError(
            f"group_grace_period must be at least 1 second, got {grace_period}; "
            "set it to 1 or more (default 60)."
        )
    if max_delay < 0:
        raise ConfigError(f"group_max_delay must be 0 (no limit) or positive, got {max_delay}.")
    if max_size < 0:
        raise ConfigError(f"group_max_size must be 0 (no limit) or positive, got {max_size}.")


class Aggregator(PeriodicComponent):
    """Every interval starts a check of the served groups, unless three still run."""

    name = "aggregator"

    def __init__(self, params: AggregatorParams) -> None:
        check_group_settings(params.grace_period, params.max_delay, params.max_size)
        interval = params.interval or min(MAX_CHECK_INTERVAL, params.grace_period)
        super().__init__(interval)
        self._params = params
        self._broker = params.broker
        self._queues = list(params.queues)
        self._checks: set[asyncio.Task[None]] = set()
        self._threads = DaemonThreadPool(MAX_CHECKS_IN_FLIGHT, name="asyncq-aggregate")
        self._is_async = is_async_handler(params.aggregate)

    async def step(self) -> None:
        if len(self._checks) >= MAX_CHECKS_IN_FLIGHT:
            self.logger.debug(
                "Skipped an aggregation check: %d checks are still running.", len(self._checks)
            )
            return
        check = asyncio.create_task(self._guarded_check(), name="asyncq-aggregation-check")
        self._checks.add(check)
        check.add_done_callback(self._checks.discard)

    async def shutdown(self) -> None:
        await super().shutdown()
        if self._checks:
            await asyncio.wait(set(self._checks), timeout=self._params.shutdown_timeout)
        if self._checks:
            await self._abandon_checks()
        self._threads.shutdown()

    async def _abandon_checks(self) -> None:
        """Cancel the checks that outlived the shutdown timeout; their sets stay staged."""
        self.logger.warning(
            "Abandoned %d aggregation checks still running at shutdown; their tasks go back "
            "to their groups after the aggregation sets' deadline.",
            len(self._checks),
        )
        for check in list(self._checks):
            check.cancel()
        await asyncio.wait(set(self._checks))

    async def check(self) -> None:
        """One pass over every group of every served queue."""
        for queue in self._queues:
            for group in await self._broker.list_groups(queue):
                await self.aggregate_group(queue, group)

    async def aggregate_group(self, queue: str, group: str) -> None:
        """Aggregate ``group`` of ``queue`` if it is ready."""
        params = self._params
        set_id = await self._broker.aggregation_check(
            queue, group, params.grace_period, params.max_delay, params.max_size
        )
        if set_id is None:
            return

        msgs, deadline = await self._broker.read_aggregation_set(queue, group, set_id)
        if not msgs:
            await self._drop_empty_set(queue, group, set_id)
            return

        tasks = [Task(msg.type, msg.payload, dict(msg.headers)) for msg in msgs]
        made = await self._call_aggregate(queue, group, tasks, deadline)
        if made is None:
            return

        await self._commit(queue, group, set_id, made, len(tasks))

    async def _drop_empty_set(self, queue: str, group: str, set_id: str) -> None:
        """Delete a set whose task hashes are all gone (deleted while they waited)."""
        await self._broker.delete_aggregation_set(queue, group, set_id)
        self.logger.debug(
            "Deleted an aggregation set of group=%s queue=%s whose tasks no longer exist.",
            group, queue,
        )  # fmt: skip

    async def _guarded_check(self) -> None:
        """A check whose errors are logged: the next tick simply tries again."""
        try:
            await self.check()
        except BrokerError as exc:
            self._errors.error("An aggregation check could not reach Redis: %s", exc)
        except Exception:
            self.logger.exception("An aggregation check failed.")

    async def _call_aggregate(
        self, queue: str, group: str, tasks: list[Task], deadline: float
    ) -> Task | None:
        """The user's task for ``tasks``, or None (logged) when it failed or overran."""
        remaining = deadline - self._broker.clock.now()
        try:
            async with asyncio.timeout(max(remaining, 0.0)):
                made = await self._run_aggregate(group, tasks)
        except TimeoutError:
            self.logger.warning(
                "The aggregator did not return before the deadline of its aggregation set "
                "group=%s queue=%s; the %d tasks go back to the group.",
                group, queue, len(tasks),
            )  # fmt: skip
            return None
        except Exception as exc:
            self.logger.warning(
                "The aggregator raised %s: %s for group=%s queue=%s; the %d tasks go back "
                "to the group after the aggregation set's deadline.",
                type(exc).__name__, exc, group, queue, len(tasks),
            )  # fmt: skip
            return None
        return self._accepted(queue, group, made)

    async def _run_aggregate(self, group: str, tasks: list[Task]) -> object:
        aggregate = self._params.aggregate
        if self._is_async:
            return await aggregate(group, tasks)  # type: ignore[misc]
        result = await asyncio.wrap_future(self._threads.submit(aggregate, group, tasks))
        if inspect.isawaitable(result):
            return await result
        return result

    def _accepted(self, queue: str, group: str, made: object) -> Task | None:
        if not isinstance(made, Task):
            self.logger.warning(
                "The aggregator returned %s instead of a Task for group=%s queue=%s; "
                "the tasks go back to the group after the aggregation set's deadline.",
                type(made).__name__, group, queue,
            )  # fmt: skip
            return None
        if made.options.group is not None:
            self.logger.warning(
                "The aggregator returned a task with the group option (%s) for group=%s "
                "queue=%s; an aggregated task cannot join a group, so the tasks go back to "
                "the group after the aggregation set's deadline.",
                made.options.group, group, queue,
            )  # fmt: skip
            return None
        return made

    async def _commit(self, queue: str, group: str, set_id: str, made: Task, count: int) -> None:
        try:
            prepared = prepare(made, TaskOptions(queue=queue), self._broker.clock.now())
            process_at = int(prepared.process_at) if prepared.state is TaskState.SCHEDULED else None
            committed = await self._broker.commit_aggregation(
                prepared.msg, group, set_id, process_at, prepared.unique_ttl
            )
        except (ConfigError, EnqueueError) as exc:
            self.logger.warning(
                "Could not enqueue the aggregated task for group=%s queue=%s (%s); the tasks "
                "go back to the group after the aggregation set's deadline.",
                group, queue, exc,
            )  # fmt: skip
            return
        self._log_commit(queue, group, count, prepared.msg if committed else None)

    def _log_commit(self, queue: str, group: str, count: int, msg: TaskMessage | None) -> None:
        if msg is None:
            self.logger.warning(
                "The aggregation set of group=%s queue=%s was reclaimed before its task was "
                "enqueued; its tasks are back in the group and will be aggregated again.",
                group, queue,
            )  # fmt: skip
            return
        self.logger.info(
            "Aggregated %d tasks of group=%s queue=%s into task id=%s type=%s.",
            count, group, queue, msg.id, msg.type,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class UnservedGroupsWatchParams:
    broker: Broker
    queues: Sequence[str]
    interval: float = 60.0


class UnservedGroupsWatch(PeriodicComponent):
    """Warns once when a served queue holds groups but this server has no aggregator."""

    name = "group_watch"

    def __init__(self, params: UnservedGroupsWatchParams) -> None:
        super().__init__(params.interval, run_first=True)
        self._broker = params.broker
        self._queues = list(params.queues)
        self.warned = False

    async def step(self) -> None:
        if self.warned:
            return
        for queue in self._queues:
            groups = await self._broker.list_groups(queue)
            if groups:
                self._warn(queue, groups)
                return

    def _warn(self, queue: str, groups: list[str]) -> None:
        self.warned = True
        self.logger.warning(
            "Queue %s holds grouped tasks (groups: %s) but this server has no group "
            "aggregator, so they wait until a server with group_aggregator set runs.",
            queue, ", ".join(sorted(groups)[:5]),
        )  # fmt: skip
