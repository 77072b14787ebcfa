"""Figure 5's leak check: one worker runs a long queue of no-op tasks, RSS sampled on the way.

The growth is the RSS after the last task minus the RSS once a tenth of the tasks had run
(when caches, pools and the interpreter have settled). Only asyncq runs it: at the peers'
rates it would take most of an hour.
"""

from __future__ import annotations

from benchmarks.context import Context
from benchmarks.processes import BenchmarkError, wait_for_count
from benchmarks.systems import System

KIB_PER_MIB = 1024
MIN_RATE = 500.0


def measure(ctx: Context, system: System) -> dict[str, float | None]:
    total = ctx.plan.leak_count
    if not system.is_asyncq or total == 0:
        return {}
    ctx.flush()
    ctx.client(system, "fill", count=total)

    worker = ctx.worker(system)
    try:
        timeout = total / MIN_RATE
        if not wait_for_count([worker], total // 10, timeout):
            raise BenchmarkError(f"{system.key} ran too slowly for the leak check.")
        settled = worker.report["rss"]
        if not wait_for_count([worker], total, timeout):
            raise BenchmarkError(f"{system.key} ran too slowly for the leak check.")
        final = worker.report["rss"]
    finally:
        worker.stop()
    return {"rss_growth": (final - settled) / KIB_PER_MIB}
