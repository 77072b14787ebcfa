"""Every Redis URL form, read into a RedisConfig, and connections made with ACL users."""

from __future__ import annotations

import pytest
import redis

from asyncq.client import Client
from asyncq.devserver import RedisClusterProcesses, RedisProcess
from asyncq.errors import BrokerError, ConfigError
from asyncq.redis.connection import RedisConfig, connect, ensure_server_ready
from asyncq.task import Task


def test_a_redis_url_gives_host_port_db_and_acl_credentials() -> None:
    config = RedisConfig.from_url("redis://worker:s%40cret@10.0.0.5:6380/3")

    assert (config.host, config.port, config.db) == ("10.0.0.5", 6380, 3)
    assert (config.username, config.password, config.ssl) == ("worker", "s@cret", False)
    assert RedisConfig.from_url("redis://:pw@h?db=2").password == "pw"
    assert RedisConfig.from_url("redis://:pw@h?db=2").db == 2


def test_a_rediss_url_turns_on_tls_with_its_certificate_options() -> None:
    url = "rediss://h:6380/0?ssl_ca_certs=/etc/ca.pem&ssl_cert_reqs=none"
    config = RedisConfig.from_url(url)
    kwargs = connect(config).connection_pool.connection_kwargs

    assert (config.ssl, config.ssl_ca_certs, config.ssl_cert_reqs) == (True, "/etc/ca.pem", "none")
    assert (kwargs["ssl_ca_certs"], kwargs["ssl_cert_reqs"]) == ("/etc/ca.pem", "none")
    assert RedisConfig.from_url("rediss://h").ssl_cert_reqs == "required"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://h?ssl_ca_certs=/ca.pem", "TLS options without TLS"),
        ("rediss://h?ssl_cert_reqs=maybe", "ssl_cert_reqs must be one of"),
        ("http://h:6379", "the scheme must be redis://"),
        ("redis://h:port", "Cannot read the port"),
        ("redis://h/zero", "must be a number"),
        ("redis-sentinel://h1,h2/0", "names no master"),
        ("redis-sentinel://h1:notaport?master=m", "Cannot read the address"),
        ("redis-cluster://", "names no host"),
        ("redis-cluster://h1:7000/2", "Redis Cluster has only db 0"),
        ("redis-cluster://h1?ssl=perhaps", "must be true or false"),
    ],
)
def test_a_bad_url_is_refused_naming_the_problem(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        RedisConfig.from_url(url)


def test_the_password_of_a_refused_url_is_never_shown() -> None:
    with pytest.raises(ConfigError) as refused:
        RedisConfig.from_url("redis-sentinel://:topsecret@h1,h2?sentinel_password=hush")

    assert "topsecret" not in str(refused.value)
    assert "hush" not in str(refused.value)


def test_socket_urls_give_the_socket_path_and_db() -> None:
    for scheme in ("redis-socket", "unix"):
        config = RedisConfig.from_url(f"{scheme}://:pw@/run/redis.sock?db=4")
        assert (config.unix_socket, config.db, config.password) == ("/run/redis.sock", 4, "pw")


def test_a_sentinel_url_in_asynqs_form_gives_its_password_to_the_sentinels() -> None:
    config = RedisConfig.from_url("redis-sentinel://:hush@s1,s2:26380,[::1]:26381/2?master=main")

    assert config.sentinel_master == "main"
    assert config.sentinels == (("s1", 26379), ("s2", 26380), ("::1", 26381))
    assert (config.sentinel_password, config.password, config.db) == ("hush", None, 2)
    assert config.address == "Sentinel master main (s1:26379,s2:26380,::1:26381)"


def test_a_sentinel_url_naming_sentinel_password_gives_the_userinfo_to_the_master() -> None:
    config = RedisConfig.from_url(
        "redis-sentinel://app:pw@s1:26379?master=main&sentinel_password=hush&ssl=true"
    )

    assert (config.username, config.password) == ("app", "pw")
    assert (config.sentinel_username, config.sentinel_password) == (None, "hush")
    assert config.ssl


def test_a_cluster_url_lists_its_start_up_nodes_and_credentials() -> None:
    config = RedisConfig.from_url("redis-cluster://app:pw@n1:7000,n2:7001,n3")

    assert config.cluster
    assert config.cluster_nodes == (("n1", 7000), ("n2", 7001), ("n3", 6379))
    assert (config.username, config.password, config.db) == ("app", "pw", 0)


def test_sentinel_and_cluster_cannot_be_asked_for_at_once() -> None:
    with pytest.raises(ConfigError, match="Sentinel and Cluster at once"):
        RedisConfig(sentinel_master="m", sentinels=(("h", 26379),), cluster=True)
    with pytest.raises(ConfigError, match="needs the sentinels' addresses"):
        RedisConfig(sentinel_master="m")


@pytest.fixture
def acl_redis(private_redis: RedisProcess) -> RedisProcess:
    """A private Redis with a user ``worker`` (password ``s3cret``) and no default user."""
    admin = redis.Redis(port=private_redis.port)
    admin.acl_setuser("worker", enabled=True, passwords=["+s3cret"], keys=["*"],
                      channels=["*"], commands=["+@all"])  # fmt: skip
    admin.acl_setuser("default", enabled=False)
    admin.close()
    return private_redis


async def test_an_acl_user_connects_and_enqueues(acl_redis: RedisProcess) -> None:
    url = f"redis://worker:s3cret@127.0.0.1:{acl_redis.port}/0"
    client = Client.from_url(url)
    await ensure_server_ready(client.broker.client, attempts=1)  # type: ignore[attr-defined]

    info = await client.enqueue(Task("acl:check"))
    await client.close()

    check = redis.Redis(port=acl_redis.port, username="worker", password="s3cret")
    assert check.lrange("asynq:{default}:pending", 0, -1) == [info.id.encode()]
    check.close()


async def test_a_wrong_password_is_refused_with_a_clear_error(acl_redis: RedisProcess) -> None:
    url = f"redis://worker:wrong-pw@127.0.0.1:{acl_redis.port}/0"
    client = Client.from_url(url)

    with pytest.raises(ConfigError, match="refused the credentials") as at_start:
        await ensure_server_ready(client.broker.client, attempts=1)  # type: ignore[attr-defined]
    with pytest.raises(BrokerError, match="check the username and password"):
        await client.enqueue(Task("acl:check"))
    await client.close()
    assert "wrong-pw" not in str(at_start.value)


async def test_a_socket_url_connects_through_the_socket(tmp_path: object) -> None:
    socket_path = f"{tmp_path}/redis.sock"
    server = RedisProcess(extra_args=["--unixsocket", socket_path]).start()
    try:
        client = Client.from_url(f"redis-socket://{socket_path}?db=1")
        info = await client.enqueue(Task("socket:check"))
        await client.close()
        check = redis.Redis(port=server.port, db=1)
        assert check.lrange("asynq:{default}:pending", 0, -1) == [info.id.encode()]
        check.close()
    finally:
        server.stop()


async def test_a_cluster_config_with_start_up_nodes_connects_without_a_url(
    redis_cluster: RedisClusterProcesses,
) -> None:
    config = RedisConfig(cluster=True, cluster_nodes=tuple(redis_cluster.startup_nodes[1:]))
    client = Client.from_url(config)

    info = await client.enqueue(Task("cluster:check"), queue="via-config")
    await client.close()

    node = redis.RedisCluster(host="127.0.0.1", port=redis_cluster.nodes[0].port)
    assert node.lrange("asynq:{via-config}:pending", 0, -1) == [info.id.encode()]
    node.close()
