"""The asyncq handlers of the clean-up tasks: check the payload, run the clean-up, log it.

Handlers are plain functions: the clean-ups use a blocking database driver, so the server
runs them in its thread pool; a purge stops between batches once its task has ended (it was
cancelled, timed out, or the worker is shutting down). A database error propagates, so asyncq
retries the task later; a malformed payload can never succeed, so it is archived at once with
``SkipRetry``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Protocol

from sqlalchemy import Engine

from asyncq import SkipRetry
from storyapp import cleanup
from storyapp.cleanup import PurgeResult
from storyapp.config import CleanupSettings
from storyapp.tasks import CleanupType

log = logging.getLogger("storyapp.handlers")


class RunningTask(Protocol):
    """The parts of asyncq's running task that the handlers read."""

    @property
    def type(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def running(self) -> bool: ...


def check_empty_payload(task: RunningTask) -> None:
    """Accept an empty payload or the JSON object ``{}``; archive the task for anything else."""
    if not task.payload.strip():
        return
    try:
        decoded = json.loads(task.payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        decoded = None
    if decoded != {}:
        shown = task.payload[:80].decode("utf-8", errors="replace")
        raise SkipRetry(
            f"Task type={task.type} takes an empty payload or {{}}, got {shown!r}; "
            "it was archived without running. Enqueue it with no payload."
        )


class CleanupHandlers:
    """One handler per clean-up type, bound to a database and the clean-up settings."""

    def __init__(self, engine: Engine, settings: CleanupSettings) -> None:
        self._engine = engine
        self._settings = settings

    def routes(self) -> dict[str, Callable[[RunningTask], None]]:
        """Task type → handler, ready to register on a ServeMux."""
        return {
            CleanupType.EXPIRED_TOKENS.value: self.expired_tokens,
            CleanupType.DELETED_STORIES.value: self.deleted_stories,
            CleanupType.STRIPE_WEBHOOK_EVENTS.value: self.stripe_webhook_events,
        }

    def expired_tokens(self, task: RunningTask) -> None:
        self._run(task, partial(cleanup.purge_expired_tokens, self._engine, self._batch))

    def deleted_stories(self, task: RunningTask) -> None:
        days = self._settings.stories_retention_days
        self._run(task, partial(cleanup.purge_deleted_stories, self._engine, days, self._batch))

    def stripe_webhook_events(self, task: RunningTask) -> None:
        days = self._settings.webhook_events_retention_days
        self._run(task, partial(cleanup.purge_old_webhook_events, self._engine, days, self._batch))

    @property
    def _batch(self) -> int:
        return self._settings.batch_size

    def _run(self, task: RunningTask, purge: Callable[..., PurgeResult]) -> None:
        """Run ``purge`` while the task runs: it stops between batches once the task ended."""
        check_empty_payload(task)
        log.info("Processing task type=%s id=%s.", task.type, task.id)

        result = purge(keep_going=lambda: task.running)

        if result.interrupted:
            log.info(
                "Stopped task type=%s id=%s part-way: deleted=%d.", task.type, task.id, result.total
            )
            return
        log.info("Processed task type=%s id=%s: deleted=%d.", task.type, task.id, result.total)
