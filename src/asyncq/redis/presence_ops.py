"""The broker's presence operations: server heartbeat records, cancellations, pub/sub."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import redis.asyncio as aioredis

from asyncq.clock import Clock
from asyncq.proto import ServerInfo, WorkerInfo
from asyncq.redis import keys
from asyncq.redis import task_scripts as scripts
from asyncq.redis.scripts import first_error, redis_errors_translated, run_pipeline
from asyncq.redis.values import text, whole_ttl

logger = logging.getLogger("asyncq.broker")


class PresenceOperations:
    """Part of :class:`asyncq.redis.broker.RedisBroker`, which provides the attributes below."""

    client: aioredis.Redis
    clock: Clock

    async def write_server_state(
        self, info: ServerInfo, workers: Sequence[WorkerInfo], ttl: int
    ) -> None:
        """Two ZADDs listing the keys, then the script writing them: one round trip."""
        ttl = whole_ttl(ttl)
        server_key = keys.server_info_key(info.host, info.pid, info.server_id)
        workers_key = keys.workers_key(info.host, info.pid, info.server_id)
        expires_at = int(self.clock.now()) + ttl

        def listing(pipe: Any) -> None:
            pipe.zadd(keys.ALL_SERVERS, {server_key: expires_at})
            pipe.zadd(keys.ALL_WORKERS, {workers_key: expires_at})

        call = scripts.write_server_state(
            server_key=server_key,
            workers_key=workers_key,
            ttl=ttl,
            server_info=info.SerializeToString(),
            workers=[v for w in workers for v in (w.task_id, w.SerializeToString())],
        )
        outcomes = await run_pipeline(self.client, [call], "writing server state", listing)
        first_error(outcomes)

    async def clear_server_state(self, host: str, pid: int, server_id: str) -> None:
        server_key = keys.server_info_key(host, pid, server_id)
        workers_key = keys.workers_key(host, pid, server_id)

        def unlisting(pipe: Any) -> None:
            pipe.zrem(keys.ALL_SERVERS, server_key)
            pipe.zrem(keys.ALL_WORKERS, workers_key)

        call = scripts.clear_server_state(server_key=server_key, workers_key=workers_key)
        outcomes = await run_pipeline(self.client, [call], "clearing server state", unlisting)
        first_error(outcomes)

    async def publish_cancel(self, task_id: str) -> None:
        with redis_errors_translated(f"publishing the cancellation of task {task_id}"):
            await self.client.publish(keys.CANCEL_CHANNEL, task_id)

    async def listen(self, channels: Sequence[str]) -> AsyncIterator[tuple[str, str]]:
        """Messages of ``channels`` from a dedicated connection, until it drops."""
        pubsub = self.client.pubsub()
        try:
            with redis_errors_translated(f"listening on {', '.join(channels)}"):
                await pubsub.subscribe(*channels)
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message["type"] == "message":
                        text = pubsub_text(message)
                        if text is not None:
                            yield text
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()


def pubsub_text(message: dict[str, Any]) -> tuple[str, str] | None:
    """(channel, data) as text, or None for a message that is not UTF-8: task IDs and queue
    names always are, so such a message is noise and must not break the listener."""
    try:
        return text(message["channel"]), text(message["data"])
    except UnicodeDecodeError:
        logger.warning(
            "Ignored a message on channel %r that is not UTF-8 text: %r.",
            message["channel"], message["data"][:100],
        )  # fmt: skip
        return None
