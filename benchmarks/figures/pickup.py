"""Figures 3 and 4: how soon an idle worker starts a task, and how late scheduled tasks start.

One warm worker (it has run a few tasks) sits idle for half a second; then a client
enqueues tasks 20 ms apart and each handler records ``start - enqueue``. Then the same
worker gets tasks scheduled for whole seconds at least one second ahead, and each handler
records ``start - due``. For asyncq, the worker's client round trips per task while it
trickles along come with it (figure 6).
"""

from __future__ import annotations

import time

from benchmarks.context import Context
from benchmarks.processes import BenchmarkError, WorkerProcess, wait_for_count
from benchmarks.stats import percentile
from benchmarks.systems import System

WARMUP_TIMEOUT = 60.0
IDLE_BEFORE = 0.5
SETTLE_TIMEOUT = 15.0
MS = 1000.0


def measure(ctx: Context, system: System) -> dict[str, float | None]:
    ctx.flush()
    worker = ctx.worker(system)
    try:
        _warm_up(ctx, system, worker)
        figures = _pickup(ctx, system, worker)
        figures.update(_lateness(ctx, system, worker))
    finally:
        worker.stop()
    return figures


def _warm_up(ctx: Context, system: System, worker: WorkerProcess) -> None:
    ctx.client(system, "fill", count=ctx.plan.warmup_count)
    if not wait_for_count([worker], ctx.plan.warmup_count, WARMUP_TIMEOUT):
        raise BenchmarkError(f"{system.key} did not finish its warm-up tasks.")
    time.sleep(IDLE_BEFORE)
    worker.take_latencies()


def _pickup(ctx: Context, system: System, worker: WorkerProcess) -> dict[str, float | None]:
    plan = ctx.plan
    calls_before = worker.report.get("calls")
    ctx.client(system, "trickle", count=plan.pickup_count, interval=plan.pickup_interval)
    target = plan.warmup_count + plan.pickup_count
    if not wait_for_count([worker], target, SETTLE_TIMEOUT):
        raise BenchmarkError(f"{system.key} did not run every trickled task.")

    latencies = worker.take_latencies()
    figures: dict[str, float | None] = {
        "pickup_p50": percentile(latencies, 0.50) * MS,
        "pickup_p95": percentile(latencies, 0.95) * MS,
        "pickup_p99": percentile(latencies, 0.99) * MS,
    }
    if calls_before is not None:
        figures["rt_worker_idle"] = (worker.report["calls"] - calls_before) / plan.pickup_count
    return figures


def _lateness(ctx: Context, system: System, worker: WorkerProcess) -> dict[str, float | None]:
    plan = ctx.plan
    result = ctx.client(system, "schedule", count=plan.schedule_count, spread=plan.schedule_spread)
    if result.get("unsupported"):
        return {"late_p50": None, "late_p99": None}
    target = plan.warmup_count + plan.pickup_count + plan.schedule_count
    if not wait_for_count([worker], target, plan.schedule_spread + SETTLE_TIMEOUT):
        raise BenchmarkError(f"{system.key} did not run every scheduled task.")

    latencies = worker.take_latencies()
    return {
        "late_p50": percentile(latencies, 0.50) * MS,
        "late_p99": percentile(latencies, 0.99) * MS,
    }
