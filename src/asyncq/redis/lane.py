"""A connection of its own for script calls that never overlap, written to without redis-py's
per-command machinery: hiredis packs the commands, and the connection writes them at once.

redis-py's asyncio client spends more CPU on one EVALSHA than Redis does: it checks a
connection out of the pool and back in, runs health checks, response callbacks, retry and
observability hooks. :class:`~asyncq.redis.scripts.CallBatcher` sends at most one request
at a time, so it can keep one connection aside and write packed commands to it directly.
Whatever goes wrong on the connection (a timeout, a reset, a cancelled caller) closes it
and gives it back to the pool; the next request takes a fresh one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions as redis_errors
from hiredis import pack_command
from redis.asyncio.connection import AbstractConnection


class Lane:
    """Sends a list of commands in one write and reads their replies, one request at a time.

    The caller guarantees that requests do not overlap.
    """

    def __init__(self, client: aioredis.Redis) -> None:
        self._pool = client.connection_pool
        self._connection: AbstractConnection | None = None
        self._timeout: float | None = None

    @staticmethod
    def usable(client: object) -> bool:
        """True for a plain or Sentinel client; a cluster client routes every command itself."""
        return isinstance(client, aioredis.Redis)

    async def send(self, commands: Sequence[Sequence[Any]], blocking: float = 0.0) -> list[Any]:
        """The reply of each command; a reply that is an error comes back as its exception.

        A failure of the connection itself is raised as redis-py raised it, a request that
        outlasts the socket timeout (plus ``blocking``, the seconds a blocking command in it
        may wait) as TimeoutError.
        """
        connection = self._connection or await self._take()
        timeout = None if self._timeout is None else self._timeout + blocking
        try:
            async with asyncio.timeout(timeout):
                await connection.send_packed_command(_packed(commands), check_health=False)
                return [await _reply(connection) for _ in commands]
        except BaseException:
            await self._drop(connection)
            raise

    async def _take(self) -> AbstractConnection:
        """A connection from the pool, its own timeouts replaced by one for the request.

        redis-py bounds a write with ``asyncio.wait_for``, which costs a task per command;
        one ``asyncio.timeout`` around the whole request bounds it as well.
        """
        pool: Any = self._pool
        connection: AbstractConnection = await pool.get_connection()
        self._timeout = connection.socket_timeout
        connection.socket_timeout = None
        self._connection = connection
        return connection

    async def _drop(self, connection: AbstractConnection) -> None:
        """Close the connection, so no late reply is read as another's, and hand it back."""
        self._connection = None
        connection.socket_timeout = self._timeout
        try:
            await connection.disconnect()
        finally:
            await self._pool.release(connection)


def _packed(commands: Sequence[Sequence[Any]]) -> bytes:
    """The commands in the Redis protocol, packed by hiredis in one step each."""
    return b"".join([pack_command(tuple(command)) for command in commands])


async def _reply(connection: AbstractConnection) -> Any:
    try:
        return await connection.read_response()
    except redis_errors.ResponseError as exc:
        return exc
