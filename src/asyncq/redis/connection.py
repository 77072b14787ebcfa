"""How asyncq connects to Redis: one config object, URL parsing, and the start-up check.

Every component gets its client from :func:`connect`, so the connection policy (binary
replies, pool size, timeouts, TLS) lives in this one place. Sentinel and Cluster are not
supported yet; :func:`connect` is the seam where they would plug in, choosing the client
class from the config.

URL forms accepted by :meth:`RedisConfig.from_url`::

    redis://[[user]:password@]host[:port][/db]
    rediss://[[user]:password@]host[:port][/db]          (TLS)
    redis-socket://[[user]:password@]/path/to/socket[?db=N]
    unix://[[user]:password@]/path/to/socket[?db=N]
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis.asyncio as aioredis
import redis.exceptions as redis_errors

from asyncq.errors import BrokerUnavailableError, ConfigError, RedisVersionError
from asyncq.redis.scripts import redis_errors_translated

logger = logging.getLogger("asyncq.redis")

MIN_REDIS_VERSION = (6, 2, 0)

_TCP_SCHEMES = {"redis": False, "rediss": True}
_SOCKET_SCHEMES = {"redis-socket", "unix"}


@dataclass(frozen=True, slots=True)
class RedisConfig:
    """Where Redis is and how to talk to it.

    host, port: TCP address (default 127.0.0.1:6379); ignored when ``unix_socket`` is set.
    unix_socket: path of a Unix socket; ``None`` means connect over TCP.
    db: database number (default 0).
    username, password: ACL credentials; ``None`` means none are sent.
    ssl: use TLS (default off); ``rediss://`` URLs turn it on.
    connect_timeout: seconds to wait for a connection (default 5, as go-redis).
    socket_timeout: seconds to wait for a reply (default 3, as go-redis); ``None`` waits forever.
    pool_size: most connections open at once; callers beyond it wait (default 50).
    """

    host: str = "127.0.0.1"
    port: int = 6379
    unix_socket: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: bool = False
    connect_timeout: float = 5.0
    socket_timeout: float | None = 3.0
    pool_size: int = 50

    def __post_init__(self) -> None:
        if self.db < 0:
            raise ConfigError(f"Redis db must be 0 or more, got {self.db}; pick a db number.")
        if not 0 < self.port < 65536:
            raise ConfigError(f"Redis port must be within 1..65535, got {self.port}.")
        if self.pool_size < 1:
            raise ConfigError(f"Redis pool_size must be at least 1, got {self.pool_size}.")

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> RedisConfig:
        """A config read from ``url``; keyword arguments override what the URL says."""
        parsed = _parse_url(url)
        return dataclasses.replace(parsed, **overrides) if overrides else parsed

    @property
    def address(self) -> str:
        """The address as an operator would write it, for log lines and errors."""
        if self.unix_socket:
            return self.unix_socket
        return f"{self.host}:{self.port}"


def connect(config: RedisConfig | str) -> aioredis.Redis:
    """A binary (non-decoding) asyncio client for ``config`` or a URL.

    The client connects lazily; call :func:`ensure_server_ready` to wait for Redis and check
    its version before relying on it.
    """
    if isinstance(config, str):
        config = RedisConfig.from_url(config)
    pool = aioredis.BlockingConnectionPool(
        max_connections=config.pool_size,
        timeout=config.connect_timeout,
        **_connection_kwargs(config),
    )
    return aioredis.Redis(connection_pool=pool)


def _connection_kwargs(config: RedisConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "db": config.db,
        "username": config.username,
        "password": config.password,
        "socket_connect_timeout": config.connect_timeout,
        "socket_timeout": config.socket_timeout,
        "decode_responses": False,
    }
    if config.unix_socket:
        kwargs["connection_class"] = aioredis.UnixDomainSocketConnection
        kwargs["path"] = config.unix_socket
        return kwargs
    kwargs["host"] = config.host
    kwargs["port"] = config.port
    if config.ssl:
        kwargs["connection_class"] = aioredis.SSLConnection
    return kwargs


async def ensure_server_ready(
    client: aioredis.Redis,
    address: str | None = None,
    attempts: int | None = None,
    first_delay: float = 0.5,
    max_delay: float = 8.0,
) -> None:
    """Wait until Redis answers PING, then refuse a server older than 6.2.

    Retries with exponential backoff (``first_delay`` doubling up to ``max_delay``) and logs
    one WARNING per failed attempt. ``attempts=None`` retries forever; otherwise the last
    failure is raised as BrokerUnavailableError. ``address`` names the server in log lines
    and errors; by default it is read from the client.
    """
    address = address or client_address(client)
    await _ping_until_answered(client, address, attempts, first_delay, max_delay)
    with redis_errors_translated(f"reading INFO from Redis at {address}"):
        info = await client.info("server")
    check_server_version(info, address)


def client_address(client: aioredis.Redis) -> str:
    """The address a client connects to, as ``host:port`` or a socket path."""
    kwargs = client.connection_pool.connection_kwargs
    if kwargs.get("path"):
        return str(kwargs["path"])
    return f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}"


async def _ping_until_answered(
    client: aioredis.Redis,
    address: str,
    attempts: int | None,
    first_delay: float,
    max_delay: float,
) -> None:
    attempt = 1
    delay = first_delay
    while True:
        failure = await _ping_failure(client)
        if failure is None:
            return
        if attempts is not None and attempt >= attempts:
            raise BrokerUnavailableError(
                f"Cannot reach Redis at {address} ({_reason(failure)}) after {attempt} attempts; "
                "check that Redis runs there and that the URL is right."
            ) from failure

        logger.warning(
            "Cannot reach Redis at %s (%s); retrying in %.1f s (attempt %d).",
            address,
            _reason(failure),
            delay,
            attempt,
        )
        await asyncio.sleep(delay)
        attempt += 1
        delay = min(delay * 2, max_delay)


async def _ping_failure(client: aioredis.Redis) -> Exception | None:
    """The error that made PING fail, or None when Redis answered."""
    try:
        await client.ping()
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        return exc
    return None


def check_server_version(info: Mapping[Any, Any], address: str = "Redis") -> tuple[int, ...]:
    """The server's version from an ``INFO server`` reply; RedisVersionError below 6.2.

    Takes the INFO mapping rather than a client so that the refusal can be tested without
    an old Redis: no Redis older than 6.2 can be installed where the tests run, so the
    tests feed this function the INFO of one.
    """
    raw = info.get("redis_version", info.get(b"redis_version"))
    text = raw.decode() if isinstance(raw, bytes) else str(raw or "")
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        raise RedisVersionError(
            f"Redis at {address} reported no usable version ({text!r}); "
            "asyncq needs Redis 6.2 or newer."
        )
    version = tuple(int(part or 0) for part in match.groups())
    if version < MIN_REDIS_VERSION:
        raise RedisVersionError(
            f"Redis at {address} is version {text}; asyncq needs Redis 6.2 or newer "
            "(its scripts use ZRANGE ... BYSCORE). Upgrade Redis or point asyncq at another server."
        )
    return version


def _reason(exc: BaseException) -> str:
    """A short cause such as "Connection refused", without redis-py's wording around it."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and (cause.errno or cause.strerror):
            return os.strerror(cause.errno) if cause.errno else str(cause.strerror)
        cause = cause.__cause__ or cause.__context__
    errno = re.match(r"^Error (\d+) ", str(exc))
    if errno:
        return os.strerror(int(errno.group(1)))
    return str(exc).rstrip(".") or type(exc).__name__


def _parse_url(url: str) -> RedisConfig:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _TCP_SCHEMES:
        return _parse_tcp_url(url, _TCP_SCHEMES[scheme])
    if scheme in _SOCKET_SCHEMES:
        return _parse_socket_url(url)
    raise ConfigError(
        f"Cannot read the Redis URL {_redacted(url)!r}: the scheme must be redis://, rediss://, "
        "redis-socket:// or unix://, for example redis://127.0.0.1:6379/0."
    )


def _parse_tcp_url(url: str, ssl: bool) -> RedisConfig:
    parts = urlsplit(url)
    try:
        port = parts.port or 6379
    except ValueError:
        raise ConfigError(
            f"Cannot read the port of the Redis URL {_redacted(url)!r}; "
            "write it as a number, for example redis://127.0.0.1:6379/0."
        ) from None
    if not parts.hostname:
        raise ConfigError(
            f"The Redis URL {_redacted(url)!r} names no host; "
            "write one, for example redis://127.0.0.1:6379/0."
        )
    path_db = parts.path.strip("/")
    query_db = parse_qs(parts.query).get("db", [""])[0]
    return RedisConfig(
        host=parts.hostname,
        port=port,
        db=_db_number(path_db or query_db, url),
        username=_unquoted(parts.username),
        password=_unquoted(parts.password),
        ssl=ssl,
    )


def _parse_socket_url(url: str) -> RedisConfig:
    parts = urlsplit(url)
    if not parts.path or parts.path == "/":
        raise ConfigError(
            f"The Redis URL {_redacted(url)!r} names no socket path; "
            "write one, for example redis-socket:///run/redis.sock?db=0."
        )
    return RedisConfig(
        unix_socket=unquote(parts.path),
        db=_db_number(parse_qs(parts.query).get("db", [""])[0], url),
        username=_unquoted(parts.username),
        password=_unquoted(parts.password),
    )


def _db_number(text: str, url: str) -> int:
    if not text:
        return 0
    if not text.isdigit():
        raise ConfigError(
            f"The db of the Redis URL {_redacted(url)!r} must be a number, got {text!r}; "
            "for example redis://127.0.0.1:6379/0."
        )
    return int(text)


def _unquoted(value: str | None) -> str | None:
    return unquote(value) if value else None


def _redacted(url: str) -> str:
    """The URL with its password hidden, so errors and logs never show it."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
