"""``storyapp worker``: the asyncq server and scheduler that run the clean-ups.

Every replica may run this worker. Each starts a scheduler beside its server; asyncq's
scheduler enqueues every tick exactly once however many replicas run one, and a clean-up
whose tick was missed while no worker ran is run once when a worker comes back.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine

from asyncq import AsyncqError, SkipRetry, TaskInfo
from asyncq.context import ActiveTask
from asyncq.mux import ServeMux
from asyncq.scheduler import Scheduler, SchedulerConfig
from asyncq.server import Server, ServerConfig
from storyapp.config import Settings
from storyapp.db import engine_from_settings, require_schema
from storyapp.handlers import CleanupHandlers
from storyapp.tasks import cleanup_schedules, cleanup_task

log = logging.getLogger("storyapp.worker")

QUEUES = {"critical": 6, "onboarding": 5, "default": 3, "cleanup": 2, "low": 1}
"""Queue weights: each queue's share of dequeue first-choices is its weight over 17."""


def log_failure(task: ActiveTask, error: BaseException) -> None:
    """Say what asyncq does with a failed clean-up: archive it, or retry it later."""
    if isinstance(error, SkipRetry):
        log.error("Archived task type=%s id=%s without retrying: %s", task.type, task.id, error)
        return
    log.warning(
        "Task type=%s id=%s failed, asyncq retries it later (retried=%d max_retry=%d): %s: %s",
        task.type, task.id, task.retry_count, task.max_retry, type(error).__name__,
        first_line(error),
    )  # fmt: skip


def first_line(error: BaseException) -> str:
    """The first line of an error; SQLAlchemy's carry the whole statement after it."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


def log_enqueue(info: TaskInfo | None, error: AsyncqError | None) -> None:
    """Log each periodic enqueue once, in the replica whose scheduler handled the tick."""
    if info is not None:
        log.info("Enqueued periodic task type=%s id=%s queue=%s.", info.type, info.id, info.queue)


def server_config(settings: Settings, **overrides: Any) -> ServerConfig:
    """The worker's server settings; ``overrides`` are ServerConfig fields (tests shorten them)."""
    fields: dict[str, Any] = {
        "queues": QUEUES,
        "concurrency": 4,
        "error_handler": log_failure,
        **overrides,
    }
    return ServerConfig.from_url(settings.redis.url, **fields)


def scheduler_config(settings: Settings, **overrides: Any) -> SchedulerConfig:
    """Clean-up schedules run in ``APP_TIMEZONE``; a missed tick runs once on return."""
    base = SchedulerConfig(
        location=settings.cleanup.timezone, missed="run_once", post_enqueue=log_enqueue
    )
    return replace(base, **overrides)


class StoryWorker:
    """The database, the clean-up handlers, one asyncq server and one asyncq scheduler."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        server: ServerConfig | None = None,
        scheduler: SchedulerConfig | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or engine_from_settings(settings.db)
        self._owns_engine = engine is None
        self.server = Server(server or server_config(settings))
        self.scheduler = Scheduler(settings.redis.url, scheduler or scheduler_config(settings))
        self._started = False

    async def start(self) -> None:
        """Check the database's tables, then start the server (it checks Redis), the scheduler."""
        await asyncio.to_thread(require_schema, self.engine)
        log.info("Connected to the database: %s.", self.engine.url.render_as_string())
        self._started = True

        mux = ServeMux()
        for task_type, handler in (
            CleanupHandlers(self.engine, self.settings.cleanup).routes().items()
        ):
            mux.handle(task_type, handler)
        self._register_periodic_tasks()

        await self.server.start(mux)
        await self.scheduler.start()
        log.info("Cleanup scheduler started timezone=%s.", self.settings.cleanup.timezone)
        log.info("Worker serving queues=%s redis=%s:%d.", QUEUES, *self._redis_address())

    async def shutdown(self) -> None:
        """Stop scheduling first, then let running clean-ups finish, then close the database."""
        if self._started:
            await self.scheduler.shutdown()
            await self.server.shutdown()
            log.info("Worker stopped.")
        if self._owns_engine:
            self.engine.dispose()

    def _register_periodic_tasks(self) -> None:
        for kind, schedule in cleanup_schedules(self.settings.cleanup).items():
            entry_id = self.scheduler.register(schedule.spec, cleanup_task(kind), missed="run_once")
            log.info(
                "Registered periodic task type=%s spec=%r entry_id=%s missed=run_once.",
                kind.value, schedule.spec, entry_id,
            )  # fmt: skip

    def _redis_address(self) -> tuple[str, int]:
        return self.settings.redis.host, self.settings.redis.port


async def serve_until_signalled(worker: StoryWorker) -> None:
    """Run ``worker`` until SIGINT or SIGTERM, then shut it down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await worker.start()
        await stop.wait()
        log.info("Stopping the worker.")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await worker.shutdown()


def run_worker(settings: Settings) -> None:
    asyncio.run(serve_until_signalled(StoryWorker(settings)))
