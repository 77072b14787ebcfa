"""Reading a whole Redis db back, so data-layer tests can assert it key by key."""

from __future__ import annotations

import uuid
from typing import Any

import redis

from asyncq.proto import TaskMessage


def dump(client: redis.Redis) -> dict[str, Any]:
    """Every key: strings as text, hashes as dicts (``msg`` decoded), lists in order,
    sets sorted, zsets as (member, score) pairs in score order."""
    state: dict[str, Any] = {}
    for raw_key in sorted(client.keys("*")):
        key = raw_key.decode()
        kind = client.type(raw_key).decode()
        if kind == "string":
            state[key] = client.get(key).decode()  # type: ignore[union-attr]
        elif kind == "hash":
            state[key] = {
                f.decode(): TaskMessage.FromString(v) if f == b"msg" else v.decode()
                for f, v in client.hgetall(key).items()
            }
        elif kind == "list":
            state[key] = [v.decode() for v in client.lrange(key, 0, -1)]
        elif kind == "set":
            state[key] = sorted(v.decode() for v in client.smembers(key))
        else:
            state[key] = [(m.decode(), s) for m, s in client.zrange(key, 0, -1, withscores=True)]
    return state


def message(queue: str = "default", task_id: str | None = None, **fields: Any) -> TaskMessage:
    """A task message as the client builds it (retry 25, timeout 1800) unless told otherwise."""
    values: dict[str, Any] = {"type": "email:send", "payload": b'{"user_id":42}', "retry": 25}
    values.update(timeout=1800, id=task_id or str(uuid.uuid4()), queue=queue)
    values.update(fields)
    return TaskMessage(**values)


def pending_hash(msg: TaskMessage, now_ns: int, **extra: str) -> dict[str, Any]:
    return {"msg": msg, "state": "pending", "pending_since": str(now_ns), **extra}
