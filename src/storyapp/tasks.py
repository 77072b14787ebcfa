"""The clean-up task types, the queue they run on, and the tasks that the enqueuers send.

Payloads are JSON. The clean-ups take no arguments, so their payload is ``{}``; a handler also
accepts an empty payload (what a Go producer sends for "no payload").
"""

from __future__ import annotations

import logging
from enum import StrEnum

from asyncq import Task, TaskInfo, TaskOptions
from asyncq.client import Client, SyncClient
from storyapp.config import CleanupSettings
from storyapp.schedule import Schedule

log = logging.getLogger("storyapp.tasks")

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


def cleanup_schedules(settings: CleanupSettings) -> dict[CleanupType, Schedule]:
    """When each clean-up runs; the worker and the legacy scheduler both read this table."""
    return {
        CleanupType.EXPIRED_TOKENS: settings.tokens_schedule,
        CleanupType.DELETED_STORIES: settings.stories_schedule,
        CleanupType.STRIPE_WEBHOOK_EVENTS: settings.webhooks_schedule,
    }


def cleanup_task(kind: CleanupType) -> Task:
    """The task that runs clean-up ``kind`` once, on the ``cleanup`` queue."""
    return Task(kind.value, EMPTY_PAYLOAD, options=TaskOptions(queue=CLEANUP_QUEUE))


def expired_tokens_task() -> Task:
    return cleanup_task(CleanupType.EXPIRED_TOKENS)


def deleted_stories_task() -> Task:
    return cleanup_task(CleanupType.DELETED_STORIES)


def stripe_webhook_events_task() -> Task:
    return cleanup_task(CleanupType.STRIPE_WEBHOOK_EVENTS)


async def enqueue_cleanup(client: Client, kind: CleanupType) -> TaskInfo:
    """Put clean-up ``kind`` on the ``cleanup`` queue now; a worker runs it next."""
    info = await client.enqueue(cleanup_task(kind))
    log.info("Enqueued task type=%s id=%s queue=%s.", info.type, info.id, info.queue)
    return info


async def enqueue_token_cleanup(client: Client) -> TaskInfo:
    return await enqueue_cleanup(client, CleanupType.EXPIRED_TOKENS)


async def enqueue_delete_stories(client: Client) -> TaskInfo:
    return await enqueue_cleanup(client, CleanupType.DELETED_STORIES)


async def enqueue_webhook_cleanup(client: Client) -> TaskInfo:
    return await enqueue_cleanup(client, CleanupType.STRIPE_WEBHOOK_EVENTS)


def enqueue_now(redis_url: str, kind: CleanupType) -> TaskInfo:
    """:func:`enqueue_cleanup` for plain code, such as the CLI, with a client of its own."""
    with SyncClient.from_url(redis_url) as client:
        info = client.enqueue(cleanup_task(kind))
    log.info("Enqueued task type=%s id=%s queue=%s.", info.type, info.id, info.queue)
    return info
