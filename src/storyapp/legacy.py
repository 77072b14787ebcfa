"""The legacy in-process scheduler (phase 1 of the migration), on APScheduler.

It calls the same clean-up functions on the same schedules as the asyncq worker does, inside
the API process. While both run, a clean-up may run twice at the same time; the clean-ups are
built for that (see :mod:`storyapp.cleanup`). Turn it off with ``APP_LEGACY_SCHEDULER=off``
once the worker has proven itself (phase 2).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import Engine

from storyapp import cleanup
from storyapp.config import CleanupSettings
from storyapp.schedule import Schedule
from storyapp.tasks import CleanupType, cleanup_schedules

log = logging.getLogger("storyapp.legacy")


class ScheduleTrigger(BaseTrigger):  # type: ignore[misc]
    """An APScheduler trigger that reads fire times from a :class:`Schedule`.

    APScheduler's own crontab parser counts weekdays from Monday; this trigger keeps classic
    cron's numbering, so both schedulers read ``45 20 * * 0`` as Sunday.
    """

    def __init__(self, schedule: Schedule, timezone: tzinfo) -> None:
        self.schedule = schedule
        self.timezone = timezone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = previous_fire_time or now
        return self.schedule.next_after(after.astimezone(self.timezone))

    def __str__(self) -> str:
        return f"schedule[{self.schedule.spec}]"


def cleanup_jobs(
    engine: Engine, settings: CleanupSettings, keep_going: cleanup.KeepGoing | None = None
) -> dict[CleanupType, Callable[[], object]]:
    """The clean-up each legacy job runs, called directly in this process.

    ``keep_going`` is asked before each batch, so a job stops soon after the scheduler does.
    """
    batch = settings.batch_size
    return {
        CleanupType.EXPIRED_TOKENS: partial(
            cleanup.purge_expired_tokens, engine, batch, keep_going=keep_going
        ),
        CleanupType.DELETED_STORIES: partial(
            cleanup.purge_deleted_stories,
            engine, settings.stories_retention_days, batch, keep_going=keep_going,
        ),
        CleanupType.STRIPE_WEBHOOK_EVENTS: partial(
            cleanup.purge_old_webhook_events,
            engine, settings.webhook_events_retention_days, batch, keep_going=keep_going,
        ),
    }  # fmt: skip


def start_legacy_scheduler(engine: Engine, settings: CleanupSettings) -> BackgroundScheduler:
    """Start the in-process scheduler with one job per clean-up; stop it with ``shutdown()``."""
    scheduler = BackgroundScheduler(
        timezone=settings.tzinfo,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    jobs = cleanup_jobs(engine, settings, keep_going=lambda: scheduler.running)
    for kind, schedule in cleanup_schedules(settings).items():
        trigger = ScheduleTrigger(schedule, settings.tzinfo)
        scheduler.add_job(jobs[kind], trigger, id=kind.value, name=kind.value)
    scheduler.start()
    for job in scheduler.get_jobs():
        log.info(
            "Scheduled legacy job type=%s spec=%r next_run=%s.",
            job.id, job.trigger.schedule.spec, job.next_run_time.isoformat(),
        )  # fmt: skip
    return scheduler
