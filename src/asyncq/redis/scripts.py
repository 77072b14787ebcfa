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

import asyncio
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

from asyncq.errors import AsyncqError, BrokerError, BrokerUnavailableError
from asyncq.redis.lane import Lane

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
        pipe.evalsha(*self.command()[1:])

    def command(self) -> list[Arg]:
        """The EVALSHA command that runs this call, as its words."""
        return ["EVALSHA", self.script.sha, len(self.keys), *self.keys, *self.args]

    def outcome_or_raise(self, reply: Any) -> Any:
        """The reply, or raise the AsyncqError it stands for."""
        outcome = self.outcome(reply)
        if isinstance(outcome, AsyncqError):
            raise outcome
        return outcome

    def outcome(self, reply: Any) -> Any:
        """The reply, or the AsyncqError it stands for (returned, not raised)."""
        if isinstance(reply, AsyncqError):
            return reply
        if isinstance(reply, Exception):
            refused = BrokerError(f"Redis refused running the {self.script.name} script: {reply}")
            refused.__cause__ = reply
            return refused
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
    except redis_errors.AuthenticationError as exc:
        raise BrokerError(
            f"Redis refused the credentials while {doing} ({exc}); check the username and "
            "password in the Redis URL or config."
        ) from exc
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        raise BrokerUnavailableError(
            f"Lost the connection to Redis while {doing} ({exc}); check that Redis is running "
            "and reachable."
        ) from exc
    except redis_errors.RedisError as exc:
        raise BrokerError(f"Redis refused {doing}: {exc}") from exc


class CallBatcher:
    """Runs script calls, sharing round trips between calls made at the same time.

    A request goes out at once while fewer than ``max_in_flight`` requests are waiting for
    Redis; beyond that, calls queue and the queue goes out as one pipeline as soon as a
    request comes back. A lone caller therefore pays no extra latency, and many coroutines
    using one broker at once (a web server enqueueing, workers finishing tasks) share round
    trips. Every caller gets its own reply or error.

    With one request in flight at most (the default) on a non-cluster client, requests go
    through a :class:`~asyncq.redis.lane.Lane`, a connection kept aside for them; when
    that connection fails, the request is sent again through the pool, with redis-py's
    reconnection and retries.
    """

    def __init__(self, client: aioredis.Redis, max_in_flight: int = 1) -> None:
        self._client = client
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._waiting: list[tuple[Call, asyncio.Future[Any]]] = []
        self._flushes: set[asyncio.Task[None]] = set()
        self._lane = Lane(client) if max_in_flight == 1 and Lane.usable(client) else None

    async def run(self, call: Call) -> Any:
        """The call's reply; a failure code or a Redis failure is raised as an AsyncqError."""
        (outcome,) = await self.outcomes([call])
        if isinstance(outcome, AsyncqError):
            raise outcome
        return outcome

    async def outcomes(self, calls: Sequence[Call]) -> list[Any]:
        """Each call's reply or the AsyncqError it stands for, in one request when idle.

        A failure of the whole request (Redis unreachable) is raised.
        """
        if self._in_flight < self._max_in_flight and not self._waiting:
            self._in_flight += 1
            try:
                return await self._send(calls)
            finally:
                self._in_flight -= 1
                self._flush_waiting()
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in calls]
        self._waiting.extend(zip(calls, futures, strict=True))
        if len(futures) == 1:
            return [await futures[0]]
        return list(await asyncio.gather(*futures))

    async def _send(self, calls: Sequence[Call]) -> list[Any]:
        if self._lane is not None:
            return await self._send_on_lane(self._lane, calls)
        if len(calls) == 1:
            return [calls[0].outcome(await _run_alone(self._client, calls[0]))]
        return await run_pipeline(self._client, calls, f"running {len(calls)} scripts")

    async def _send_on_lane(self, lane: Lane, calls: Sequence[Call]) -> list[Any]:
        """The outcomes through the lane; through the pool when the lane's connection fails."""
        try:
            with redis_errors_translated(f"running {len(calls)} scripts"):
                replies = await lane.send([call.command() for call in calls])
        except BrokerUnavailableError:
            replies = [await _run_alone(self._client, call) for call in calls]
        outcomes = []
        for call, reply in zip(calls, replies, strict=True):
            if isinstance(reply, redis_errors.NoScriptError):
                outcomes.append(call.outcome(await _run_alone(self._client, call)))
            else:
                outcomes.append(call.outcome(reply))
        return outcomes

    def _flush_waiting(self) -> None:
        if not self._waiting or self._in_flight >= self._max_in_flight:
            return
        self._in_flight += 1
        batch, self._waiting = self._waiting, []
        flush = asyncio.get_running_loop().create_task(self._flush(batch))
        self._flushes.add(flush)
        flush.add_done_callback(self._flushes.discard)

    async def _flush(self, batch: list[tuple[Call, asyncio.Future[Any]]]) -> None:
        try:
            outcomes: list[Any] = await self._send([call for call, _ in batch])
        except BaseException as exc:
            outcomes = [exc] * len(batch)
        finally:
            self._in_flight -= 1
            self._flush_waiting()
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
