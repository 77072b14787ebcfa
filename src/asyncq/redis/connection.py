"""How asyncq connects to Redis: one config object, URL parsing, and the start-up check.

Every component gets its client from :func:`connect`, so the connection policy (binary
replies, pool size, timeouts, TLS) lives in this one place. :func:`connect` chooses the
client class from the config: a plain client, a Sentinel-managed one that follows the
master through a failover, or a Redis Cluster client.

URL forms accepted by :meth:`RedisConfig.from_url`::

    redis://[[user]:password@]host[:port][/db]
    rediss://[[user]:password@]host[:port][/db][?ssl_ca_certs=PATH&ssl_cert_reqs=required]
    redis-socket://[[user]:password@]/path/to/socket[?db=N]
    unix://[[user]:password@]/path/to/socket[?db=N]
    redis-sentinel://[[user]:password@]host1[:port][,host2[:port]...][/db]?master=NAME
    redis-cluster://[[user]:password@]host1[:port][,host2[:port]...]

A Sentinel URL's credentials follow asynq: without ``sentinel_password`` in the query, the
userinfo is what the sentinels are asked with and the master gets none. With
``sentinel_password`` (and optionally ``sentinel_username``) in the query, the userinfo is
the master's ACL user and password. The multi-node forms also take the TLS options, with
``ssl=true`` to turn TLS on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis.asyncio as aioredis
import redis.exceptions as redis_errors
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from asyncq.errors import BrokerUnavailableError, ConfigError, RedisVersionError
from asyncq.redis.scripts import redis_errors_translated

logger = logging.getLogger("asyncq.redis")

MIN_REDIS_VERSION = (6, 2, 0)

_TCP_SCHEMES = {"redis": False, "rediss": True}
_SOCKET_SCHEMES = {"redis-socket", "unix"}
_MULTI_NODE_SCHEMES = {"redis-sentinel", "redis-cluster"}
_CERT_REQS = ("required", "optional", "none")
SENTINEL_PORT = 26379

Address = tuple[str, int]


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
    ssl_ca_certs: CA bundle that verifies the server's certificate; ``None`` uses the
        system's.
    ssl_cert_reqs: "required" (default), "optional" or "none" (no verification).
    sentinel_master: name of the master that the sentinels watch; set, it turns Sentinel on.
    sentinels: the sentinels' addresses, as (host, port) pairs.
    sentinel_username, sentinel_password: credentials for the sentinels; ``None``: none.
    cluster: talk to a Redis Cluster, discovering it from ``cluster_nodes`` (or from
        host:port when that is empty); db must then be 0.
    cluster_nodes: start-up nodes of the cluster, as (host, port) pairs.
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
    ssl_ca_certs: str | None = None
    ssl_cert_reqs: str = "required"
    sentinel_master: str | None = None
    sentinels: tuple[Address, ...] = ()
    sentinel_username: str | None = None
    sentinel_password: str | None = None
    cluster: bool = False
    cluster_nodes: tuple[Address, ...] = ()

    def __post_init__(self) -> None:
        if self.db < 0:
            raise ConfigError(f"Redis db must be 0 or more, got {self.db}; pick a db number.")
        if not 0 < self.port < 65536:
            raise ConfigError(f"Redis port must be within 1..65535, got {self.port}.")
        if self.pool_size < 1:
            raise ConfigError(f"Redis pool_size must be at least 1, got {self.pool_size}.")
        if self.ssl_cert_reqs not in _CERT_REQS:
            raise ConfigError(
                f"ssl_cert_reqs must be one of {', '.join(_CERT_REQS)}, "
                f"got {self.ssl_cert_reqs!r}; 'required' verifies the server's certificate."
            )
        self._check_topology()

    def _check_topology(self) -> None:
        if self.sentinel_master is not None and self.cluster:
            raise ConfigError(
                "A Redis config cannot use Sentinel and Cluster at once; "
                "set either sentinel_master or cluster."
            )
        if self.sentinel_master == "":
            raise ConfigError("The Sentinel master name is empty; pass the name sentinels watch.")
        if self.sentinel_master is not None and not self.sentinels:
            raise ConfigError(
                f"Sentinel master {self.sentinel_master!r} needs the sentinels' addresses; "
                "pass sentinels=[('host', 26379), ...]."
            )
        if self.cluster and self.db != 0:
            raise ConfigError(
                f"Redis Cluster has only db 0, got db {self.db}; drop the db from the config."
            )

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
        if self.sentinel_master is not None:
            return f"Sentinel master {self.sentinel_master} ({_joined(self.sentinels)})"
        if self.cluster:
            return f"Redis Cluster ({_joined(self.cluster_nodes or ((self.host, self.port),))})"
        return f"{self.host}:{self.port}"


def connect(config: RedisConfig | str) -> aioredis.Redis:
    """A binary (non-decoding) asyncio client for ``config`` or a URL.

    The client connects lazily; call :func:`ensure_server_ready` to wait for Redis and check
    its version before relying on it. On a cluster config the client is a
    :class:`~redis.asyncio.cluster.RedisCluster`; :func:`is_cluster` tells the two apart.
    """
    if isinstance(config, str):
        config = RedisConfig.from_url(config)
    if config.cluster:
        return _cluster_client(config)  # type: ignore[return-value]
    if config.sentinel_master is not None:
        return _sentinel_client(config)
    pool = aioredis.BlockingConnectionPool(
        max_connections=config.pool_size,
        timeout=config.connect_timeout,
        **_connection_kwargs(config),
    )
    return aioredis.Redis(connection_pool=pool)


def is_cluster(client: object) -> bool:
    """True for a Redis Cluster client: scripts must then stay within one slot."""
    return isinstance(client, RedisCluster)


def _connection_kwargs(config: RedisConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "db": config.db,
        **_credentials_and_timeouts(config),
    }
    if config.unix_socket:
        kwargs["connection_class"] = aioredis.UnixDomainSocketConnection
        kwargs["path"] = config.unix_socket
        return kwargs
    kwargs["host"] = config.host
    kwargs["port"] = config.port
    if config.ssl:
        kwargs["connection_class"] = aioredis.SSLConnection
        kwargs.update(_ssl_options(config))
    return kwargs


def _credentials_and_timeouts(config: RedisConfig) -> dict[str, Any]:
    return {
        "username": config.username,
        "password": config.password,
        "socket_connect_timeout": config.connect_timeout,
        "socket_timeout": config.socket_timeout,
        "decode_responses": False,
    }


def _ssl_options(config: RedisConfig) -> dict[str, Any]:
    return {"ssl_ca_certs": config.ssl_ca_certs, "ssl_cert_reqs": config.ssl_cert_reqs}


def _cluster_client(config: RedisConfig) -> RedisCluster:
    """A cluster client; it learns the slot map from the first start-up node that answers."""
    nodes = config.cluster_nodes or ((config.host, config.port),)
    tls = {"ssl": True, **_ssl_options(config)} if config.ssl else {}
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in nodes],
        max_connections=config.pool_size,
        **_credentials_and_timeouts(config),
        **tls,
    )


def _sentinel_client(config: RedisConfig) -> aioredis.Redis:
    """A client whose connections ask the sentinels for the master, again after a failover."""
    assert config.sentinel_master is not None
    sentinel_kwargs: dict[str, Any] = {
        "username": config.sentinel_username,
        "password": config.sentinel_password,
        "socket_connect_timeout": config.connect_timeout,
        "socket_timeout": config.socket_timeout,
    }
    tls = {"ssl": True, **_ssl_options(config)} if config.ssl else {}
    sentinel = Sentinel(list(config.sentinels), sentinel_kwargs=sentinel_kwargs)
    client: aioredis.Redis = sentinel.master_for(
        config.sentinel_master,
        db=config.db,
        max_connections=config.pool_size,
        **_credentials_and_timeouts(config),
        **tls,
    )
    return client


async def ensure_server_ready(
    client: aioredis.Redis | RedisCluster,
    address: str | None = None,
    attempts: int | None = None,
    first_delay: float = 0.5,
    max_delay: float = 8.0,
) -> None:
    """Wait until Redis answers PING, then refuse a server older than 6.2.

    Retries with exponential backoff (``first_delay`` doubling up to ``max_delay``) and logs
    one WARNING per failed attempt. ``attempts=None`` retries forever; otherwise the last
    failure is raised as BrokerUnavailableError. ``address`` names the server in log lines
    and errors; by default it is read from the client. On a cluster every master is checked;
    behind Sentinel, the current master. Each checked server whose eviction policy could
    drop asyncq's keys gets one WARNING (see :func:`warn_if_evicting`).
    """
    address = address or client_address(client)
    await _ping_until_answered(client, address, attempts, first_delay, max_delay)
    for node_address, info in await _server_infos(client, address):
        check_server_version(info, node_address)
        warn_if_evicting(info, node_address)


async def _server_infos(
    client: aioredis.Redis | RedisCluster, address: str
) -> list[tuple[str, Mapping[Any, Any]]]:
    """The ``INFO server`` and ``INFO memory`` fields of each server the client writes to."""
    with redis_errors_translated(f"reading INFO from Redis at {address}"):
        if not isinstance(client, RedisCluster):
            info = {**await client.info("server"), **await client.info("memory")}
            _refuse_cluster_node(await client.info("cluster"), address)
            return [(address, info)]
        infos: list[tuple[str, Mapping[Any, Any]]] = []
        for node in client.get_primaries():
            server = await client.info("server", target_nodes=node)
            memory = await client.info("memory", target_nodes=node)
            infos.append((f"{node.host}:{node.port}", {**server, **memory}))
        return infos


def _refuse_cluster_node(info: Mapping[Any, Any], address: str) -> None:
    """A plain client on a Redis Cluster node fails on every multi-key script; say so now."""
    enabled = info.get("cluster_enabled", info.get(b"cluster_enabled"))
    if str(enabled) == "1":
        raise ConfigError(
            f"Redis at {address} is a Redis Cluster node; connect with a redis-cluster:// URL "
            f"(e.g. redis-cluster://{address}) so keys are routed to their slots."
        )


def warn_if_evicting(info: Mapping[Any, Any], address: str = "Redis") -> str:
    """Log one WARNING unless ``maxmemory-policy`` is ``noeviction``; returns the policy.

    Every other policy may drop asyncq's keys once Redis is full. The ``allkeys-*`` ones can
    drop pending tasks, task hashes and lease sets, losing work. The ``volatile-*`` ones
    spare keys without a TTL (tasks, queues, leases) but drop keys with one, and asyncq
    relies on those: a uniqueness lock that is evicted lets a duplicate in, and an evicted
    heartbeat makes a live server look gone. So asyncq asks for ``noeviction``, where a full
    Redis refuses writes and the caller sees the error.
    """
    raw = info.get("maxmemory_policy", info.get(b"maxmemory_policy"))
    policy = raw.decode() if isinstance(raw, bytes) else str(raw or "noeviction")
    if policy != "noeviction":
        logger.warning(
            "Redis at %s has maxmemory-policy %s, which may evict asyncq's tasks, leases or "
            "locks when memory runs out; run CONFIG SET maxmemory-policy noeviction "
            "(and set it in redis.conf).",
            address,
            policy,
        )
    return policy


def client_address(client: aioredis.Redis | RedisCluster) -> str:
    """The address a client connects to: ``host:port``, a socket path, or what it follows."""
    if isinstance(client, RedisCluster):
        nodes = client.get_nodes() or client.nodes_manager.startup_nodes.values()
        return f"Redis Cluster ({_joined((n.host, int(n.port)) for n in nodes)})"
    pool = client.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        return f"Sentinel master {pool.service_name}"
    kwargs = pool.connection_kwargs
    if kwargs.get("path"):
        return str(kwargs["path"])
    return f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}"


async def _ping_until_answered(
    client: aioredis.Redis | RedisCluster,
    address: str,
    attempts: int | None,
    first_delay: float,
    max_delay: float,
) -> None:
    attempt = 1
    delay = first_delay
    while True:
        failure = await _ping_failure(client, address)
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


async def _ping_failure(client: aioredis.Redis | RedisCluster, address: str) -> Exception | None:
    """The error that made PING fail, or None when Redis answered.

    Refused credentials raise ConfigError at once: retrying cannot fix them.
    """
    try:
        await client.ping()
    except redis_errors.AuthenticationError as exc:
        raise ConfigError(
            f"Redis at {address} refused the credentials ({exc}); check the username and "
            "password in the Redis URL or config (an ACL user also needs to be 'on')."
        ) from exc
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
    if scheme in _MULTI_NODE_SCHEMES:
        return _parse_multi_node_url(url, scheme)
    raise ConfigError(
        f"Cannot read the Redis URL {_redacted(url)!r}: the scheme must be redis://, rediss://, "
        "redis-socket://, unix://, redis-sentinel:// or redis-cluster://, "
        "for example redis://127.0.0.1:6379/0."
    )


def _parse_multi_node_url(url: str, scheme: str) -> RedisConfig:
    """A Sentinel or Cluster URL: several comma-separated hosts, which urlsplit cannot read."""
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user, _, password = (_unquoted(text) for text in userinfo.partition(":"))
    query = _query(url)
    db = _db_number(parts.path.strip("/") or query.get("db", ""), url)
    tls = _tls_query(query, url)
    if scheme == "redis-cluster":
        nodes = _addresses(hosts, 6379, url)
        return RedisConfig(
            cluster=True, cluster_nodes=nodes, db=db, username=user, password=password, **tls
        )

    master = _sentinel_master(query, url)
    sentinels = _addresses(hosts, SENTINEL_PORT, url)
    credentials = _sentinel_credentials(query, user, password)
    return RedisConfig(sentinel_master=master, sentinels=sentinels, db=db, **credentials, **tls)


def _sentinel_credentials(
    query: dict[str, str], user: str | None, password: str | None
) -> dict[str, Any]:
    """asynq's form gives the userinfo to the sentinels; naming ``sentinel_password`` or
    ``sentinel_username`` in the query gives the userinfo to the master instead."""
    if "sentinel_password" not in query and "sentinel_username" not in query:
        return {"sentinel_username": user, "sentinel_password": password}
    return {
        "username": user,
        "password": password,
        "sentinel_username": query.get("sentinel_username"),
        "sentinel_password": query.get("sentinel_password"),
    }


def _sentinel_master(query: dict[str, str], url: str) -> str:
    if not query.get("master"):
        raise ConfigError(
            f"The Sentinel URL {_redacted(url)!r} names no master; add ?master=<name>, "
            "the name the sentinels monitor, for example "
            "redis-sentinel://127.0.0.1:26379/0?master=mymaster."
        )
    return query["master"]


def _addresses(hosts: str, default_port: int, url: str) -> tuple[Address, ...]:
    addresses = tuple(_address(host, default_port, url) for host in hosts.split(",") if host)
    if not addresses:
        raise ConfigError(
            f"The Redis URL {_redacted(url)!r} names no host; write host:port pairs separated "
            "by commas, for example redis-cluster://127.0.0.1:7000,127.0.0.1:7001."
        )
    return addresses


def _address(text: str, default_port: int, url: str) -> Address:
    """``host``, ``host:port`` or ``[v6 address]:port``, as a (host, port) pair."""
    match = re.fullmatch(r"(\[[^\]]+\]|[^:\[\]]+)(?::(\d{1,5}))?", text)
    port = int(match.group(2) or default_port) if match else 0
    if match is None or not 0 < port < 65536:
        raise ConfigError(
            f"Cannot read the address {text!r} in the Redis URL {_redacted(url)!r}; "
            "write host or host:port with a port within 1..65535, for example 127.0.0.1:7000."
        )
    host: str = match.group(1).strip("[]")
    return host, port


def _query(url: str) -> dict[str, str]:
    """The URL's query parameters, each given once."""
    return {name: values[-1] for name, values in parse_qs(urlsplit(url).query).items()}


def _tls_query(query: dict[str, str], url: str, tls: bool = False) -> dict[str, Any]:
    """The TLS settings named in the query: ``ssl``, ``ssl_ca_certs`` and ``ssl_cert_reqs``."""
    flag = query.get("ssl", "").lower()
    if flag not in ("", "true", "false", "1", "0"):
        raise ConfigError(
            f"The ssl option of the Redis URL {_redacted(url)!r} must be true or false, "
            f"got {flag!r}."
        )
    options: dict[str, Any] = {"ssl": tls or flag in ("true", "1")}
    if "ssl_ca_certs" in query:
        options["ssl_ca_certs"] = query["ssl_ca_certs"]
    if "ssl_cert_reqs" in query:
        options["ssl_cert_reqs"] = query["ssl_cert_reqs"].lower()
    if not options["ssl"] and len(options) > 1:
        raise ConfigError(
            f"The Redis URL {_redacted(url)!r} sets TLS options without TLS; use rediss:// "
            "(or ssl=true on a Sentinel or Cluster URL)."
        )
    return options


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
    query = _query(url)
    return RedisConfig(
        host=parts.hostname,
        port=port,
        db=_db_number(path_db or query.get("db", ""), url),
        username=_unquoted(parts.username),
        password=_unquoted(parts.password),
        **_tls_query(query, url, tls=ssl),
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
    userinfo, at, _ = urlsplit(url).netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    hidden = url.replace(f"{userinfo}@", f"{user}:***@", 1) if at and colon and password else url
    return re.sub(r"(sentinel_password=)[^&]*", r"\1***", hidden)


def _joined(addresses: Iterable[Address]) -> str:
    return ",".join(f"{host}:{port}" for host, port in addresses)
