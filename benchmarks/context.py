"""What every figure module gets: the plan, the private Redis, and process helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import redis

from benchmarks.processes import WorkerProcess, log_file, run_client
from benchmarks.systems import System


@dataclass(frozen=True, slots=True)
class Plan:
    """How much work each figure does; ``QUICK`` and ``FULL`` are the two used."""

    runs: int
    enqueue_count: int
    drain_count: int
    drain_cap: float
    warmup_count: int
    pickup_count: int
    pickup_interval: float
    schedule_count: int
    schedule_spread: int
    leak_count: int
    monitor_count: int
    two_workers: bool
    sleep_drain: bool
    inspector_pending: int
    cleanup_expired: int


FULL = Plan(
    runs=3, enqueue_count=5000, drain_count=20_000, drain_cap=20.0, warmup_count=20,
    pickup_count=200, pickup_interval=0.02, schedule_count=60, schedule_spread=3,
    leak_count=200_000, monitor_count=2000, two_workers=True, sleep_drain=True,
    inspector_pending=1_000_000, cleanup_expired=1_000_000,
)  # fmt: skip

QUICK = Plan(
    runs=1, enqueue_count=300, drain_count=1000, drain_cap=2.0, warmup_count=3,
    pickup_count=25, pickup_interval=0.02, schedule_count=5, schedule_spread=1,
    leak_count=0, monitor_count=100, two_workers=False, sleep_drain=False,
    inspector_pending=20_000, cleanup_expired=20_000,
)  # fmt: skip


@dataclass
class Context:
    plan: Plan
    url: str
    logs: Path
    admin: redis.Redis = field(init=False)
    _log: IO[bytes] | None = None

    def __post_init__(self) -> None:
        self.admin = redis.Redis.from_url(self.url)

    def use_log(self, name: str) -> None:
        """Send the output of the following processes to ``logs/<name>.log``."""
        if self._log is not None:
            self._log.close()
        self._log = log_file(self.logs, name)

    @property
    def log(self) -> IO[bytes]:
        assert self._log is not None, "use_log() first"
        return self._log

    def flush(self) -> None:
        self.admin.flushall()

    def client(self, system: System, command: str, **options: Any) -> dict[str, Any]:
        return run_client(system, command, self.url, self.log, **options)

    def worker(self, system: System) -> WorkerProcess:
        return WorkerProcess(system, self.url, self.log)

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
        self.admin.close()
