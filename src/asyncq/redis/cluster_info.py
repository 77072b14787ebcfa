"""Where a queue lives on a Redis Cluster: its key slot and the nodes serving that slot.

Every key of a queue carries the hash tag ``{Q}``, so one slot holds the whole queue; these
two reads answer asynq's ``ClusterKeySlot`` and ``ClusterNodes`` for operators and tools.
On a Redis without cluster support Redis refuses both, and the refusal is raised as
:class:`~asyncq.errors.BrokerError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis

from asyncq.inspection_types import ClusterNodeInfo
from asyncq.redis import keys
from asyncq.redis.scripts import redis_errors_translated


async def cluster_key_slot(client: aioredis.Redis, queue: str) -> int:
    """The slot of ``asynq:{Q}:pending``, which is the slot of every key of the queue."""
    with redis_errors_translated(f"reading the key slot of queue {queue!r}"):
        command = ("CLUSTER KEYSLOT", keys.pending_key(queue))
        slot = await client.execute_command(*command)  # type: ignore[no-untyped-call]
    return int(slot)


async def cluster_nodes(client: aioredis.Redis, queue: str) -> list[ClusterNodeInfo]:
    """The master that serves the queue's slot, then its replicas, as (ID, address)."""
    slot = await cluster_key_slot(client, queue)
    with redis_errors_translated("reading CLUSTER NODES"):
        nodes: Mapping[str, Mapping[str, Any]] = await client.execute_command(  # type: ignore[no-untyped-call]
            "CLUSTER NODES"
        )

    masters = [address for address, node in nodes.items() if _serves(node, slot)]
    master_ids = {nodes[address]["node_id"] for address in masters}
    replicas = [a for a, node in nodes.items() if node.get("master_id") in master_ids]
    return [ClusterNodeInfo(nodes[a]["node_id"], a) for a in sorted(masters) + sorted(replicas)]


def _serves(node: Mapping[str, Any], slot: int) -> bool:
    """Whether a master's slot ranges (``[["0", "5460"], ["7000"]]``) cover ``slot``."""
    for bounds in node.get("slots", []):
        first, last = int(bounds[0]), int(bounds[-1])
        if first <= slot <= last:
            return True
    return False
