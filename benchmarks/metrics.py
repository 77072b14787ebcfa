"""Every figure the suite reports: its column, unit and which direction is better."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    column: str
    unit: str
    higher_is_better: bool
    asyncq_only: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("enqueue_one", "enqueue 1 at a time", "tasks/s", True),
    Metric("enqueue_inflight", "enqueue 100 in flight", "tasks/s", True),
    Metric("enqueue_batch", "enqueue batched", "tasks/s", True),
    Metric("drain_noop", "drain no-op", "tasks/s", True),
    Metric("drain_sleep", "drain sleep 1 ms", "tasks/s", True),
    Metric("drain_two", "drain no-op, 2 workers", "tasks/s", True),
    Metric("pickup_p50", "idle pickup p50", "ms", False),
    Metric("pickup_p95", "idle pickup p95", "ms", False),
    Metric("pickup_p99", "idle pickup p99", "ms", False),
    Metric("late_p50", "scheduled lateness p50", "ms", False),
    Metric("late_p99", "scheduled lateness p99", "ms", False),
    Metric("rss_peak", "worker peak RSS", "MiB", False),
    Metric("rss_growth", "RSS growth over the leak run", "MiB", False, asyncq_only=True),
    Metric("cmds_enqueue", "commands per enqueue (MONITOR)", "cmds", False),
    Metric("cmds_worker", "worker commands per task (MONITOR)", "cmds", False),
    Metric("rt_enqueue_one", "round trips per enqueue", "calls", False, asyncq_only=True),
    Metric("rt_enqueue_batch", "round trips per batched enqueue", "calls", False, True),
    Metric("rt_worker_drain", "worker round trips per task, busy", "calls", False, True),
    Metric("rt_worker_idle", "worker round trips per task, idle", "calls", False, True),
    Metric("inspect_queues", "Inspector: list 300 queues", "ms", False, True),
    Metric("inspect_queue_infos", "Inspector: statistics of 300 queues", "ms", False, True),
    Metric("inspect_first_page", "Inspector: first page of the big queue", "ms", False, True),
    Metric("inspect_last_page", "Inspector: last page of the big queue", "ms", False, True),
    Metric("cleanup_total", "token clean-up: total time", "s", False, True),
    Metric("cleanup_longest", "token clean-up: longest statement", "ms", False, True),
    Metric("cleanup_reader_p99", "token clean-up: concurrent reader p99", "ms", False, True),
)

BY_KEY = {metric.key: metric for metric in METRICS}
