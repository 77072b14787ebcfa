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
``Script("name", directory=...)`` reads another folder.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions as redis_errors

from asyncq.errors import AsyncqError, BrokerError, BrokerUnavailableError

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
    ) -> None:
        self.name = name
        self.path = directory / f"{name}.lua"
        self.source = self.path.read_text(encoding="utf-8")
        self.sha = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()
        self.header = parse_header(self.source, self.path)
        self.failures = dict(failures or {})

    def __repr__(self) -> str:
        return f"Script({self.name!r})"

    async def __call__(
        self, client: aioredis.Redis, keys: Sequence[str], args: Sequence[Arg] = ()
    ) -> Any:
        """Run the script; a return code listed in ``failures`` is raised as its error."""
        self._check_arity(keys, args)
        with redis_errors_translated(f"running the {self.name} script"):
            try:
                reply = await client.evalsha(self.sha, len(keys), *keys, *args)
            except redis_errors.NoScriptError:
                await self.load(client)
                reply = await client.evalsha(self.sha, len(keys), *keys, *args)
        self.raise_for_reply(reply, keys, args)
        return reply

    def queue_in(self, pipe: Any, keys: Sequence[str], args: Sequence[Arg] = ()) -> None:
        """Add a call to a pipeline; :meth:`load` must have run on that server first."""
        self._check_arity(keys, args)
        pipe.evalsha(self.sha, len(keys), *keys, *args)

    async def load(self, client: aioredis.Redis) -> None:
        """SCRIPT LOAD, so that EVALSHA inside a pipeline cannot fail with NOSCRIPT."""
        with redis_errors_translated(f"loading the {self.name} script"):
            await client.script_load(self.source)

    def raise_for_reply(self, reply: Any, keys: Sequence[str], args: Sequence[Arg]) -> None:
        """Raise the error that ``failures`` names for this reply, if any."""
        if not isinstance(reply, int) or reply not in self.failures:
            return
        failure = self.failures[reply]
        if failure.message is None:
            raise failure.error()
        names = dict(zip(self.header.names, [*keys, *args], strict=False))
        raise failure.error(failure.message.format(**names))

    def _check_arity(self, keys: Sequence[str], args: Sequence[Arg]) -> None:
        if _arity_mismatch(len(keys), len(self.header.keys), self.header.variadic_keys) or (
            _arity_mismatch(len(args), len(self.header.args), self.header.variadic_args)
        ):
            raise BrokerError(
                f"The {self.name} script takes KEYS {self.header.keys} and ARGV "
                f"{self.header.args}, but was called with {len(keys)} keys and {len(args)} args."
            )


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
