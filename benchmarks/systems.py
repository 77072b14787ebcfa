"""The queue libraries and settings the suite measures, each one a row of the table."""

from __future__ import annotations

from dataclasses import dataclass

PEER_CONCURRENCY = 10


@dataclass(frozen=True, slots=True)
class System:
    """One library with one set of settings.

    ``env`` names the virtual environment whose Python runs the adapter: ``project`` (the
    project's own), ``peers`` or ``arq`` (arq pins a redis-py older than the others need).
    """

    key: str
    label: str
    adapter: str
    env: str
    settings: str
    variant: str = "default"
    concurrency: int = PEER_CONCURRENCY

    @property
    def is_asyncq(self) -> bool:
        return self.adapter == "asyncq"


ASYNCQ_BEST_CONCURRENCY = 100

SYSTEMS: tuple[System, ...] = (
    System("asyncq", "asyncq", "asyncq", "project", "concurrency 10"),
    System(
        "asyncq-best",
        "asyncq (best)",
        "asyncq",
        "project",
        f"concurrency {ASYNCQ_BEST_CONCURRENCY}",
        concurrency=ASYNCQ_BEST_CONCURRENCY,
    ),
    System("arq", "arq", "arq", "arq", "max_jobs 10, poll_delay 0.5 s (default)"),
    System("arq-tuned", "arq (tuned)", "arq", "arq", "max_jobs 10, poll_delay 0.01 s", "tuned"),
    System("saq", "SAQ", "saq", "peers", "concurrency 10 (default)"),
    System("rq", "RQ", "rq", "peers", "SimpleWorker, one task at a time, INFO logging"),
    System("celery", "Celery", "celery", "peers", "threads pool, concurrency 10"),
    System("dramatiq", "Dramatiq", "dramatiq", "peers", "RedisBroker, 10 worker threads"),
    System("taskiq", "taskiq", "taskiq", "peers", "RedisStreamBroker, max_async_tasks 10"),
    System("huey", "Huey", "huey", "peers", "RedisHuey, 10 thread workers"),
    System("streaq", "streaq", "streaq", "peers", "concurrency 10"),
)


def select(keys: list[str] | None) -> tuple[System, ...]:
    """The systems named in ``keys`` (all of them when ``keys`` is empty)."""
    if not keys:
        return SYSTEMS
    unknown = sorted(set(keys) - {system.key for system in SYSTEMS})
    if unknown:
        known = ", ".join(system.key for system in SYSTEMS)
        raise SystemExit(f"Unknown system {unknown[0]!r}; the systems are {known}.")
    return tuple(system for system in SYSTEMS if system.key in keys)
