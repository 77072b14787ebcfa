"""Lua scripts loaded from ``scripts/*.lua``, and the boundary where Redis errors are translated.

Each ``.lua`` file holds one operation and opens with a header that is part of its contract::

    -- KEYS[1] task_key        asynq:{Q}:t:<ID>
    -- ARGV[1] msg             encoded TaskMessage
    -- KEYS[...] queue_keys    (a repeating group, as the last KEYS entry)
    -- Returns 1 when stored; 0 when the task ID is taken.

:class:`Script` reads the names from the header, runs the script with EVALSHA (loading it on
NOSCRIPT), and turns the return codes it was given into typed errors, so that callers see an
exception from :mod:`asyncq.errors` and never a redis-py one. Other parts of the Redis layer
use it for their own files: ``Script("name")`` reads ``scripts/name.lua`` beside this module,
``Script("name", directory=...)`` reads another folder. ``libraries=("finish",)`` prepends
``scripts/lib/finish.lua``, so that helpers shared by several scripts are written once.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions as redis_errors

from asyncq.errors import (
    AsyncqError,
    BrokerError,
    BrokerUnavailableError,
    DuplicateTaskError,
    TaskIDConflictError,
    TaskNotActiveError,
)

SCRIPTS_DIR = Path(__file__).with_name("scripts")

Arg = str | bytes | int | float
"""What a script argument may be; redis-py sends each as a bulk string."""

_HEADER_LINE = re.compile(r"^--\s+(KEYS|ARGV)\[(\d+|\.\.\.)\]\s+(\w+)")


@dataclass(frozen=True, slots=True)
class Failure:
    """How a script's return code becomes an exception.

    ``message`` is formatted with the script's KEYS and ARGV by their header names;
    ``None`` keeps the exception's own default message.
    """

    error: type[AsyncqError]
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ScriptHeader:
    """The names a script's header gives its KEYS and ARGV, in order.

    A name given with ``[...]`` is a repeating group that takes the rest of the list.
    """

    keys: tuple[str, ...]
    args: tuple[str, ...]
    variadic_keys: bool
    variadic_args: bool

    @property
    def names(self) -> tuple[str, ...]:
        return self.keys + self.args


class Script:
    """One Lua script and its contract; call it with a client, its KEYS and its ARGV."""

    def __init__(
        self,
        name: str,
        failures: Mapping[int, Failure] | None = None,
        directory: Path = SCRIPTS_DIR,
        libraries: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.path = directory / f"{name}.lua"
        own_source = self.path.read_text(encoding="utf-8")
        self.header = parse_header(own_source, self.path)
        preludes = [(directory / "lib" / f"{lib}.lua").read_text("utf-8") for lib in libraries]
        self.source = "\n".join([*preludes, own_source])
        self.sha = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()
        self.failures = dict(failures or {})
        self._loaded_on: weakref.WeakSet[aioredis.Redis] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"Script({self.name!r})"

    async def __call__(
        self, client: aioredis.Redis, keys: Sequence[str], args: Sequence[Arg] = ()
    ) -> Any:
        """Run the script; a return code listed in ``failures`` is raised as its error."""
        self._check_arity(keys, args)
        reply = await self.reply(client, keys, args)
        self.raise_for_reply(reply, keys, args)
        return reply

    async def reply(self, client: aioredis.Redis, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        """The script's raw reply: EVALSHA, and on NOSCRIPT load the script and run it again."""
        with redis_errors_translated(f"running the {self.name} script"):
            try:
                return await client.evalsha(self.sha, len(keys), *keys, *args)
            except redis_errors.NoScriptError:
                await client.script_load(self.source)
                return await client.evalsha(self.sha, len(keys), *keys, *args)

    def call(self, keys: Sequence[str], args: Sequence[Arg] = ()) -> Call:
        """A prepared call, for :func:`run_pipeline`."""
        self._check_arity(keys, args)
        return Call(self, keys, args)

    async def load(self, client: aioredis.Redis, once: bool = False) -> None:
        """SCRIPT LOAD, so that EVALSHA inside a pipeline does not fail with NOSCRIPT.

        With ``once``, skip it when this client has loaded the script before.
        """
        if once and client in self._loaded_on:
            return
        with redis_errors_translated(f"loading the {self.name} script"):
            await client.script_load(self.source)
        self._loaded_on.add(client)

    def raise_for_reply(self, reply: Any, keys: Sequence[str], args: Sequence[Arg]) -> None:
        """Raise the error that ``failures`` names for this reply, if any."""
        error = self.error_for_reply(reply, keys, args)
        if error is not None:
            raise error

    def error_for_reply(
        self, reply: Any, keys: Sequence[str], args: Sequence[Arg]
    ) -> AsyncqError | None:
        """The error that ``failures`` names for this reply, or None."""
        if not isinstance(reply, int) or reply not in self.failures:
            return None
        failure = self.failures[reply]
        if failure.message is None:
            return failure.error()
        names = {
            **dict(zip(self.header.keys, keys, strict=False)),
            **dict(zip(self.header.args, args, strict=False)),
        }
        return failure.error(failure.message.format(**names))

    def _check_arity(self, keys: Sequence[str], args: Sequence[Arg]) -> None:
        if _arity_mismatch(len(keys), len(self.header.keys), self.header.variadic_keys) or (
            _arity_mismatch(len(args), len(self.header.args), self.header.variadic_args)
        ):
            raise BrokerError(
                f"The {self.name} script takes KEYS {self.header.keys} and ARGV "
                f"{self.header.args}, but was called with {len(keys)} keys and {len(args)} args."
            )


@dataclass(frozen=True, slots=True)
class Call:
    """One prepared call of a script, to run alone or in a pipeline."""

    script: Script
    keys: Sequence[str]
    args: Sequence[Arg]

    async def run(self, client: aioredis.Redis) -> Any:
        return await self.script(client, self.keys, self.args)

    def queue_in(self, pipe: Any) -> None:
        pipe.evalsha(self.script.sha, len(self.keys), *self.keys, *self.args)

    def outcome(self, reply: Any) -> Any:
        """The reply, or the AsyncqError it stands for (returned, not raised)."""
        if isinstance(reply, AsyncqError):
            return reply
        if isinstance(reply, Exception):
            return BrokerError(f"Redis refused running the {self.script.name} script: {reply}")
        error = self.script.error_for_reply(reply, self.keys, self.args)
        return error if error is not None else reply


async def run_pipeline(
    client: aioredis.Redis,
    calls: Sequence[Call],
    doing: str,
    commands: Callable[[Any], None] | None = None,
) -> list[Any]:
    """Run ``commands`` and then ``calls`` in one pipeline; the outcome of each call, in order.

    Scripts are loaded first (once per client). A call whose script the server has lost
    since (NOSCRIPT: after a restart or SCRIPT FLUSH) is loaded and run again on its own;
    the others are not repeated. ``doing`` completes the sentence "Redis failed while ...".
    """
    for script in {call.script.name: call.script for call in calls}.values():
        await script.load(client, once=True)
    with redis_errors_translated(doing):
        pipe = client.pipeline(transaction=False)
        if commands is not None:
            commands(pipe)
        for call in calls:
            call.queue_in(pipe)
        replies = await pipe.execute(raise_on_error=False)
    replies = replies[len(replies) - len(calls) :]
    outcomes = []
    for call, reply in zip(calls, replies, strict=True):
        if isinstance(reply, redis_errors.NoScriptError):
            outcomes.append(call.outcome(await _run_alone(client, call)))
        else:
            outcomes.append(call.outcome(reply))
    return outcomes


async def _run_alone(client: aioredis.Redis, call: Call) -> Any:
    """The call's raw reply, or the AsyncqError that running it raised."""
    try:
        return await call.script.reply(client, call.keys, call.args)
    except AsyncqError as exc:
        return exc


def first_error(outcomes: Sequence[Any]) -> None:
    """Raise the first error among pipeline outcomes, if any."""
    for outcome in outcomes:
        if isinstance(outcome, AsyncqError):
            raise outcome


def parse_header(source: str, path: Path | str = "<script>") -> ScriptHeader:
    """The KEYS and ARGV names declared by the comment lines that open ``source``."""
    keys: list[str] = []
    args: list[str] = []
    variadic = {"KEYS": False, "ARGV": False}
    for line in source.splitlines():
        if not line.startswith("--"):
            break
        match = _HEADER_LINE.match(line)
        if match is None:
            continue
        kind, index, name = match.groups()
        names = keys if kind == "KEYS" else args
        if index == "...":
            variadic[kind] = True
        elif int(index) != len(names) + 1 or variadic[kind]:
            raise BrokerError(f"{path}: {kind}[{index}] {name} is out of order in the header.")
        names.append(name)
    return ScriptHeader(tuple(keys), tuple(args), variadic["KEYS"], variadic["ARGV"])


def _arity_mismatch(given: int, declared: int, variadic: bool) -> bool:
    if variadic:
        return given < declared - 1
    return given != declared


@contextmanager
def redis_errors_translated(doing: str) -> Iterator[None]:
    """Re-raise redis-py errors as BrokerUnavailableError or BrokerError.

    ``doing`` completes the sentence "Redis failed while ...".
    """
    try:
        yield
    except redis_errors.BusyLoadingError as exc:
        raise BrokerUnavailableError(
            f"Redis is still loading its data set while {doing}; retry in a moment."
        ) from exc
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        raise BrokerUnavailableError(
            f"Lost the connection to Redis while {doing} ({exc}); check that Redis is running "
            "and reachable."
        ) from exc
    except redis_errors.RedisError as exc:
        raise BrokerError(f"Redis refused {doing}: {exc}") from exc


# --- The task scripts of the broker: one typed wrapper per file, named as in its header. ---

_ID_TAKEN = Failure(TaskIDConflictError)
_LOCK_HELD = Failure(DuplicateTaskError)
_NOT_ACTIVE = Failure(
    TaskNotActiveError,
    "Task {task_id} is not active in {active_key} (its lease was lost or it was finished "
    "already); the recoverer or another worker owns it now.",
)

_ENQUEUE = Script("enqueue", {0: _ID_TAKEN, -1: _LOCK_HELD})
_SCHEDULE = Script("schedule", {0: _ID_TAKEN, -1: _LOCK_HELD})
_ADD_TO_GROUP = Script("add_to_group", {0: _ID_TAKEN, -1: _LOCK_HELD})
_ENQUEUE_BATCH = Script("enqueue_batch")
_DEQUEUE = Script("dequeue")
_DONE = Script("done", {0: _NOT_ACTIVE}, libraries=("finish",))
_MARK_AS_COMPLETE = Script(
    "mark_as_complete",
    {
        0: _NOT_ACTIVE,
        -1: Failure(BrokerError, "Task {task_id} is already in {completed_key}."),
    },
    libraries=("finish",),
)
_REQUEUE = Script("requeue", {0: _NOT_ACTIVE}, libraries=("finish",))
_RETRY = Script("retry", {0: _NOT_ACTIVE}, libraries=("finish",))
_ARCHIVE = Script("archive", {0: _NOT_ACTIVE}, libraries=("finish",))
_FORWARD = Script("forward")
_DELETE_EXPIRED_COMPLETED = Script("delete_expired_completed")
_LIST_LEASE_EXPIRED = Script("list_lease_expired")
_WRITE_RESULT = Script(
    "write_result",
    {-1: Failure(BrokerError, "Cannot store the result: {task_key} no longer exists.")},
)
_AGGREGATION_CHECK = Script("aggregation_check")
_READ_AGGREGATION_SET = Script("read_aggregation_set")
_DELETE_AGGREGATION_SET = Script("delete_aggregation_set")
_RECLAIM_STALE_AGGREGATION_SETS = Script("reclaim_stale_aggregation_sets")
_AGGREGATE_COMMIT = Script("aggregate_commit", {0: _ID_TAKEN, -1: _LOCK_HELD})
_WRITE_SERVER_STATE = Script("write_server_state")
_CLEAR_SERVER_STATE = Script("clear_server_state")


async def enqueue(
    client: aioredis.Redis,
    *,
    task_key: str,
    pending_key: str,
    queues_key: str,
    unique_key: str | None,
    msg: bytes,
    task_id: str,
    now_ns: int,
    queue: str,
    wakeup_channel: str,
    lock_ttl: int,
) -> None:
    """Store one pending task; DuplicateTaskError or TaskIDConflictError."""
    await _ENQUEUE(
        client,
        _with_optional([task_key, pending_key, queues_key], unique_key),
        [msg, task_id, now_ns, queue, wakeup_channel, lock_ttl],
    )


async def schedule(
    client: aioredis.Redis,
    *,
    task_key: str,
    scheduled_key: str,
    queues_key: str,
    unique_key: str | None,
    msg: bytes,
    process_at: int,
    task_id: str,
    queue: str,
    group: str,
    lock_ttl: int,
) -> None:
    """Store a scheduled task; DuplicateTaskError or TaskIDConflictError."""
    await _SCHEDULE(
        client,
        _with_optional([task_key, scheduled_key, queues_key], unique_key),
        [msg, process_at, task_id, queue, group, lock_ttl],
    )


async def add_to_group(
    client: aioredis.Redis,
    *,
    task_key: str,
    group_key: str,
    groups_key: str,
    queues_key: str,
    unique_key: str | None,
    msg: bytes,
    task_id: str,
    now: int,
    group: str,
    queue: str,
    lock_ttl: int,
) -> None:
    """Store a task waiting in a group; DuplicateTaskError or TaskIDConflictError."""
    await _ADD_TO_GROUP(
        client,
        _with_optional([task_key, group_key, groups_key, queues_key], unique_key),
        [msg, task_id, now, group, queue, lock_ttl],
    )


def enqueue_batch(
    *,
    pending_key: str,
    queues_key: str,
    task_keys: Sequence[str],
    now_ns: int,
    queue: str,
    wakeup_channel: str,
    entries: Sequence[Arg],
) -> Call:
    """A batch of one queue, for a pipeline; its reply lists 1 (stored) or 0 per task."""
    return _ENQUEUE_BATCH.call(
        [pending_key, queues_key, *task_keys], [now_ns, queue, wakeup_channel, *entries]
    )


async def dequeue(
    client: aioredis.Redis,
    *,
    queue_keys: Sequence[str],
    lease_expires_at: int,
    limit: int,
    task_key_prefixes: Sequence[str],
) -> list[Any]:
    """Lease up to ``limit`` tasks; a flat list of (queue position, ID, msg) triples."""
    reply = await _DEQUEUE(client, queue_keys, [lease_expires_at, limit, *task_key_prefixes])
    return list(reply)


def done(
    *,
    active_key: str,
    lease_key: str,
    task_key: str,
    processed_day_key: str,
    processed_total_key: str,
    unique_key: str | None,
    task_id: str,
    stats_expire_at: int,
    max_int64: int,
) -> Call:
    """Delete a succeeded task (run it, or pipeline it); TaskNotActiveError if not leased."""
    keys = [active_key, lease_key, task_key, processed_day_key, processed_total_key]
    return _DONE.call(_with_optional(keys, unique_key), [task_id, stats_expire_at, max_int64])


async def mark_as_complete(
    client: aioredis.Redis,
    *,
    active_key: str,
    lease_key: str,
    completed_key: str,
    task_key: str,
    processed_day_key: str,
    processed_total_key: str,
    unique_key: str | None,
    task_id: str,
    stats_expire_at: int,
    expire_at: int,
    msg: bytes,
    max_int64: int,
) -> None:
    """Keep a succeeded task as completed; TaskNotActiveError when it is no longer leased."""
    keys = [active_key, lease_key, completed_key, task_key, processed_day_key]
    await _MARK_AS_COMPLETE(
        client,
        _with_optional([*keys, processed_total_key], unique_key),
        [task_id, stats_expire_at, expire_at, msg, max_int64],
    )


async def requeue(
    client: aioredis.Redis,
    *,
    active_key: str,
    lease_key: str,
    pending_key: str,
    task_key: str,
    task_id: str,
    now_ns: int,
    queue: str,
    wakeup_channel: str,
) -> None:
    """Put an active task back at the front of pending; TaskNotActiveError if not leased."""
    await _REQUEUE(
        client,
        [active_key, lease_key, pending_key, task_key],
        [task_id, now_ns, queue, wakeup_channel],
    )


async def retry(
    client: aioredis.Redis,
    *,
    task_key: str,
    active_key: str,
    lease_key: str,
    retry_key: str,
    processed_day_key: str,
    failed_day_key: str,
    processed_total_key: str,
    failed_total_key: str,
    task_id: str,
    msg: bytes,
    retry_at: int,
    stats_expire_at: int,
    is_failure: bool,
    max_int64: int,
) -> None:
    """Move a failed task to the retry set; TaskNotActiveError when it is no longer leased."""
    await _RETRY(
        client,
        [
            *(task_key, active_key, lease_key, retry_key),
            *(processed_day_key, failed_day_key, processed_total_key, failed_total_key),
        ],
        [task_id, msg, retry_at, stats_expire_at, "1" if is_failure else "0", max_int64],
    )


async def archive(
    client: aioredis.Redis,
    *,
    task_key: str,
    active_key: str,
    lease_key: str,
    archived_key: str,
    processed_day_key: str,
    failed_day_key: str,
    processed_total_key: str,
    failed_total_key: str,
    task_id: str,
    msg: bytes,
    now: int,
    cutoff: int,
    max_size: int,
    stats_expire_at: int,
    max_int64: int,
    task_key_prefix: str,
    decode_error: str,
) -> None:
    """Move a task to the archive and trim it; TaskNotActiveError when it is not leased."""
    await _ARCHIVE(
        client,
        [
            *(task_key, active_key, lease_key, archived_key),
            *(processed_day_key, failed_day_key, processed_total_key, failed_total_key),
        ],
        [
            *(task_id, msg, now, cutoff, max_size, stats_expire_at, max_int64),
            *(task_key_prefix, decode_error),
        ],
    )


async def forward(
    client: aioredis.Redis,
    *,
    source_key: str,
    pending_key: str,
    groups_key: str,
    now: int,
    task_key_prefix: str,
    now_ns: int,
    group_key_prefix: str,
    limit: int,
    queue: str,
    wakeup_channel: str,
) -> int:
    """Move up to ``limit`` due tasks out of ``source_key``; return how many."""
    moved = await _FORWARD(
        client,
        [source_key, pending_key, groups_key],
        [now, task_key_prefix, now_ns, group_key_prefix, limit, queue, wakeup_channel],
    )
    return int(moved)


async def delete_expired_completed(
    client: aioredis.Redis,
    *,
    completed_key: str,
    now: int,
    task_key_prefix: str,
    batch_size: int,
) -> int:
    """Delete up to ``batch_size`` expired completed tasks; return how many."""
    deleted = await _DELETE_EXPIRED_COMPLETED(
        client, [completed_key], [now, task_key_prefix, batch_size]
    )
    return int(deleted)


async def list_lease_expired(
    client: aioredis.Redis, *, lease_key: str, active_key: str, cutoff: int, task_key_prefix: str
) -> list[tuple[str, bytes]]:
    """(ID, msg) of each task whose lease ended by ``cutoff``; orphan entries are removed."""
    reply = await _LIST_LEASE_EXPIRED(client, [lease_key, active_key], [cutoff, task_key_prefix])
    return [(reply[i].decode(), reply[i + 1]) for i in range(0, len(reply), 2)]


async def write_result(client: aioredis.Redis, *, task_key: str, result: bytes) -> int:
    """Store a result on an existing task; return the number of bytes written."""
    return int(await _WRITE_RESULT(client, [task_key], [result]))


async def aggregation_check(
    client: aioredis.Redis,
    *,
    group_key: str,
    set_key: str,
    aggregation_sets_key: str,
    groups_key: str,
    max_size: int,
    max_delay: int,
    grace_period: int,
    set_deadline: int,
    now: int,
    group: str,
) -> bool:
    """Move a ready group into the set ``set_key``; True when the set was created."""
    created = await _AGGREGATION_CHECK(
        client,
        [group_key, set_key, aggregation_sets_key, groups_key],
        [max_size, max_delay, grace_period, set_deadline, now, group],
    )
    return bool(created)


async def read_aggregation_set(
    client: aioredis.Redis, *, set_key: str, aggregation_sets_key: str, task_key_prefix: str
) -> tuple[float | None, list[bytes]]:
    """The set's deadline (None when unlisted) and the msg of each of its tasks."""
    reply = await _READ_AGGREGATION_SET(client, [set_key, aggregation_sets_key], [task_key_prefix])
    deadline = float(reply[0]) if reply and reply[0] is not None else None
    return deadline, list(reply[1:])


async def delete_aggregation_set(
    client: aioredis.Redis, *, set_key: str, aggregation_sets_key: str, task_key_prefix: str
) -> None:
    """Delete an aggregation set with its task hashes."""
    await _DELETE_AGGREGATION_SET(client, [set_key, aggregation_sets_key], [task_key_prefix])


async def reclaim_stale_aggregation_sets(
    client: aioredis.Redis,
    *,
    aggregation_sets_key: str,
    groups_key: str,
    now: int,
    group_key_prefix: str,
) -> int:
    """Return the tasks of sets past their deadline to their groups; return how many sets."""
    reclaimed = await _RECLAIM_STALE_AGGREGATION_SETS(
        client, [aggregation_sets_key, groups_key], [now, group_key_prefix]
    )
    return int(reclaimed)


async def aggregate_commit(
    client: aioredis.Redis,
    *,
    set_key: str,
    aggregation_sets_key: str,
    task_key: str,
    pending_key: str,
    scheduled_key: str,
    unique_key: str | None,
    task_key_prefix: str,
    task_id: str,
    msg: bytes,
    now_ns: int,
    process_at: int,
    lock_ttl: int,
    queue: str,
    wakeup_channel: str,
) -> bool:
    """Store an aggregated task and delete its set; False when the set is gone.

    DuplicateTaskError or TaskIDConflictError when the task cannot be stored.
    """
    committed = await _AGGREGATE_COMMIT(
        client,
        _with_optional(
            [set_key, aggregation_sets_key, task_key, pending_key, scheduled_key], unique_key
        ),
        [task_key_prefix, task_id, msg, now_ns, process_at, lock_ttl, queue, wakeup_channel],
    )
    return bool(committed == 1)


def write_server_state(
    *,
    server_key: str,
    workers_key: str,
    ttl: int,
    server_info: bytes,
    workers: Sequence[Arg],
) -> Call:
    """The server-state write, for a pipeline after the ZADDs that list both keys."""
    return _WRITE_SERVER_STATE.call([server_key, workers_key], [ttl, server_info, *workers])


async def clear_server_state(client: aioredis.Redis, *, server_key: str, workers_key: str) -> None:
    """Delete a server's info and workers records."""
    await _CLEAR_SERVER_STATE(client, [server_key, workers_key])


def _with_optional(keys: list[str], optional: str | None) -> list[str]:
    return [*keys, optional] if optional else keys
