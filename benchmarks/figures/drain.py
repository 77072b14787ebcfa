"""Figure 2: how fast worker processes drain a queue of pre-enqueued tasks.

The queue is filled first; then the workers start. The rate is the number of completions
divided by the time from the first task's start to the last task's end, both taken in the
workers. A library too slow to finish within the plan's cap is measured on what it did
finish by then. The single no-op worker also gives the peak RSS of figure 5 and, for
asyncq, the worker's client round trips per task at full load (figure 6).
"""

from __future__ import annotations

from benchmarks.context import Context
from benchmarks.processes import BenchmarkError, WorkerProcess, wait_for_count
from benchmarks.systems import System

STARTUP_TIMEOUT = 60.0
KIB_PER_MIB = 1024


def measure(ctx: Context, system: System) -> dict[str, float | None]:
    figures: dict[str, float | None] = {}
    workers = _drain(ctx, system, workers=1, sleep=False)
    figures["drain_noop"] = _rate(workers)
    figures["rss_peak"] = workers[0].report["maxrss"] / KIB_PER_MIB
    if "calls" in workers[0].report:
        figures["rt_worker_drain"] = workers[0].report["calls"] / workers[0].count

    if ctx.plan.sleep_drain:
        figures["drain_sleep"] = _rate(_drain(ctx, system, workers=1, sleep=True))
    if ctx.plan.two_workers:
        figures["drain_two"] = _rate(_drain(ctx, system, workers=2, sleep=False))
    return figures


def _drain(ctx: Context, system: System, workers: int, sleep: bool) -> list[WorkerProcess]:
    ctx.flush()
    ctx.client(system, "fill", count=ctx.plan.drain_count, sleep=sleep)

    group = [ctx.worker(system) for _ in range(workers)]
    try:
        if not wait_for_count(group, 1, STARTUP_TIMEOUT):
            raise BenchmarkError(f"{system.key} started no task within {STARTUP_TIMEOUT} s.")
        wait_for_count(group, ctx.plan.drain_count, ctx.plan.drain_cap)
    finally:
        for worker in group:
            worker.stop()
    return group


def _rate(group: list[WorkerProcess]) -> float:
    reports = [worker.report for worker in group if worker.report["first"] is not None]
    done = sum(report["n"] for report in reports)
    first = min(report["first"] for report in reports)
    last = max(report["last"] for report in reports)
    return float(done / (last - first))
