"""PeriodicTaskManager: keep a scheduler's entries in step with a changing set of configs.

A provider returns the periodic tasks that should exist now (from a database, a file, a
feature flag...). The manager registers them all at start, then every ``sync_interval``
asks again and registers the new ones and unregisters the removed ones. Entry IDs are
derived from spec, task and options, so an unchanged config keeps its entry (and its
record of the last fired tick), and managers running in several processes agree on every
entry: each tick is still enqueued once across all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import redis.asyncio as aioredis

from asyncq.errors import AsyncqError, ConfigError
from asyncq.redis.connection import RedisConfig
from asyncq.scheduler import MissedPolicy, Scheduler, SchedulerConfig, run_until_signalled
from asyncq.task import Task

logger = logging.getLogger("asyncq.periodic")

DEFAULT_SYNC_INTERVAL = 180.0


@dataclass(frozen=True, slots=True)
class PeriodicTaskConfig:
    """One periodic task: a cron spec, the task, its enqueue options, its missed-run policy.

    ``missed=None`` uses the scheduler's default.
    """

    spec: str
    task: Task
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    missed: MissedPolicy | None = None


ConfigProvider = Callable[
    [], Sequence[PeriodicTaskConfig] | Awaitable[Sequence[PeriodicTaskConfig]]
]


class PeriodicTaskManager:
    """Runs a scheduler whose entries follow ``provider``; see the module docstring.

    sync_interval: seconds between two reads of the provider (default 180, as asynq).
    """

    def __init__(
        self,
        redis: aioredis.Redis | RedisConfig | str,
        provider: ConfigProvider,
        scheduler_config: SchedulerConfig | None = None,
        sync_interval: float = DEFAULT_SYNC_INTERVAL,
    ) -> None:
        if sync_interval <= 0:
            raise ConfigError("sync_interval must be positive, in seconds; the default is 180.")
        self.scheduler = Scheduler(redis, scheduler_config)
        self.provider = provider
        self.sync_interval = sync_interval
        self._syncer: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Register the provider's configs and start; a failing provider fails the start."""
        configs = await self._read_configs()
        self._apply(configs)
        await self.scheduler.start()
        self._stopping.clear()
        self._syncer = asyncio.create_task(self._sync_loop())
        logger.info("Started periodic task manager with %d entries.", len(configs))

    async def shutdown(self) -> None:
        self._stopping.set()
        if self._syncer is not None:
            await self._syncer
            self._syncer = None
        await self.scheduler.shutdown()

    async def run(self) -> None:
        """Start, run until SIGINT or SIGTERM, then shut down."""
        await run_until_signalled(self.start, self.shutdown)

    async def sync(self) -> None:
        """Read the provider once and bring the entries in step with it."""
        configs = await self._read_configs()
        added, removed = self._apply(configs)
        if added or removed:
            logger.info("Synced periodic tasks: added=%d removed=%d.", added, removed)

    async def _sync_loop(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.sync_interval)
            if self._stopping.is_set():
                return
            try:
                await self.sync()
            except AsyncqError as exc:
                logger.error("Could not sync periodic tasks; keeping the current entries: %s", exc)

    async def _read_configs(self) -> list[PeriodicTaskConfig]:
        try:
            result = self.provider()
            configs = await result if inspect.isawaitable(result) else result
        except AsyncqError:
            raise
        except Exception as exc:
            raise ConfigError(f"The periodic task provider failed: {exc!r}") from exc
        for config in configs:
            _validate(config)
        return list(configs)

    def _apply(self, configs: Sequence[PeriodicTaskConfig]) -> tuple[int, int]:
        """Register every config and unregister entries no config names any more."""
        before = set(self.scheduler.entry_ids)
        wanted = {
            self.scheduler.register(c.spec, c.task, missed=c.missed, **dict(c.options))
            for c in configs
        }
        for stale in before - wanted:
            self.scheduler.unregister(stale)
        return len(wanted - before), len(before - wanted)


def _validate(config: PeriodicTaskConfig) -> None:
    if not isinstance(config, PeriodicTaskConfig):
        raise ConfigError(f"The provider returned {config!r}, not a PeriodicTaskConfig.")
    if not config.spec.strip():
        raise ConfigError(f"The periodic task {config.task.type!r} has an empty cron spec.")
