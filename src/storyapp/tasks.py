"""The clean-up task types, the queue they run on, and the tasks that the enqueuers send.

Payloads are JSON. The clean-ups take no arguments, so their payload is ``{}``; a handler also
accepts an empty payload (what a Go producer sends for "no payload").
"""

from __future__ import annotations

from enum import StrEnum

from asyncq.task import Task, TaskOptions

CLEANUP_QUEUE = "cleanup"

EMPTY_PAYLOAD = b"{}"


class CleanupType(StrEnum):
    """One task type per clean-up; the value is the type on the wire."""

    EXPIRED_TOKENS = "cleanup:expired_tokens"
    DELETED_STORIES = "cleanup:deleted_stories"
    STRIPE_WEBHOOK_EVENTS = "cleanup:stripe_webhook_events"


CLEANUP_NAMES = {
    "tokens": CleanupType.EXPIRED_TOKENS,
    "stories": CleanupType.DELETED_STORIES,
    "webhooks": CleanupType.STRIPE_WEBHOOK_EVENTS,
}
"""The short names that the CLI and the admin endpoints take."""


def cleanup_task(kind: CleanupType) -> Task:
    """The task that runs clean-up ``kind`` once, on the ``cleanup`` queue."""
    return Task(kind.value, EMPTY_PAYLOAD, options=TaskOptions(queue=CLEANUP_QUEUE))


def expired_tokens_task() -> Task:
    return cleanup_task(CleanupType.EXPIRED_TOKENS)


def deleted_stories_task() -> Task:
    return cleanup_task(CleanupType.DELETED_STORIES)


def stripe_webhook_events_task() -> Task:
    return cleanup_task(CleanupType.STRIPE_WEBHOOK_EVENTS)
