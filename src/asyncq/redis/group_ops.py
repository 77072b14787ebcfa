"""The broker's group operations: waiting groups, aggregation sets and their commit."""

from __future__ import annotations

import uuid
from typing import Any

import redis.asyncio as aioredis

from asyncq.clock import Clock
from asyncq.proto import TaskMessage
from asyncq.redis import keys
from asyncq.redis import task_scripts as scripts
from asyncq.redis.scripts import Call, redis_errors_translated
from asyncq.redis.values import lock_ttl, text, unique_lock, unix_ns

AGGREGATION_SET_TIMEOUT_S = 120


class GroupOperations:
    """Part of :class:`asyncq.redis.broker.RedisBroker`, which provides the attributes below."""

    client: aioredis.Redis
    clock: Clock

    async def _run(self, call: Call) -> Any:
        raise NotImplementedError

    async def list_groups(self, queue: str) -> list[str]:
        with redis_errors_translated(f"listing the groups of queue {queue!r}"):
            members = await self.client.smembers(keys.groups_key(queue))
        return sorted(text(m) for m in members)

    async def aggregation_check(
        self, queue: str, group: str, grace_period: float, max_delay: float, max_size: int
    ) -> str | None:
        set_id = str(uuid.uuid4())
        now = int(self.clock.now())
        created = await self._run(
            scripts.aggregation_check(
                group_key=keys.group_key(queue, group),
                set_key=keys.aggregation_set_key(queue, group, set_id),
                aggregation_sets_key=keys.aggregation_sets_key(queue),
                groups_key=keys.groups_key(queue),
                max_size=max_size,
                max_delay=int(max_delay),
                grace_period=int(grace_period),
                set_deadline=now + AGGREGATION_SET_TIMEOUT_S,
                now=now,
                group=group,
            )
        )
        return set_id if created else None

    async def read_aggregation_set(
        self, queue: str, group: str, set_id: str
    ) -> tuple[list[TaskMessage], float]:
        reply = await self._run(
            scripts.read_aggregation_set(
                set_key=keys.aggregation_set_key(queue, group, set_id),
                aggregation_sets_key=keys.aggregation_sets_key(queue),
                task_key_prefix=keys.task_key_prefix(queue),
            )
        )
        messages = [TaskMessage.FromString(raw) for raw in reply[1:]]
        deadline = float(reply[0]) if reply[0] is not None else self.clock.now()
        return messages, deadline

    async def delete_aggregation_set(self, queue: str, group: str, set_id: str) -> None:
        await self._run(
            scripts.delete_aggregation_set(
                set_key=keys.aggregation_set_key(queue, group, set_id),
                aggregation_sets_key=keys.aggregation_sets_key(queue),
                task_key_prefix=keys.task_key_prefix(queue),
            )
        )

    async def reclaim_stale_aggregation_sets(self, queue: str) -> None:
        await self._run(
            scripts.reclaim_stale_aggregation_sets(
                aggregation_sets_key=keys.aggregation_sets_key(queue),
                groups_key=keys.groups_key(queue),
                now=int(self.clock.now()),
                group_key_prefix=keys.group_key_prefix(queue),
            )
        )

    async def commit_aggregation(
        self,
        msg: TaskMessage,
        group: str,
        set_id: str,
        process_at: int | None = None,
        unique_ttl: int | None = None,
    ) -> bool:
        q = msg.queue
        committed = await self._run(
            scripts.aggregate_commit(
                set_key=keys.aggregation_set_key(q, group, set_id),
                aggregation_sets_key=keys.aggregation_sets_key(q),
                task_key=keys.task_key(q, msg.id),
                pending_key=keys.pending_key(q),
                scheduled_key=keys.scheduled_key(q),
                unique_key=unique_lock(msg, unique_ttl),
                task_key_prefix=keys.task_key_prefix(q),
                task_id=msg.id,
                msg=msg.SerializeToString(),
                now_ns=unix_ns(self.clock.now()),
                process_at=int(process_at or 0),
                lock_ttl=lock_ttl(unique_ttl),
                queue=q,
                wakeup_channel=keys.WAKEUP_CHANNEL,
            )
        )
        return bool(committed == 1)
