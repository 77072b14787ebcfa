"""Figure 1: enqueue throughput from one process, three ways.

One at a time (each enqueue awaited before the next), with 100 in flight (100 asyncio
lanes, or 100 threads for a blocking client) and batched (1,000 tasks per call, where the
library has a batch call). One client process does all three in turn; each is timed
inside it, after connecting.
"""

from __future__ import annotations

from benchmarks.context import Context
from benchmarks.systems import System

MODES = (("one", "enqueue_one"), ("inflight", "enqueue_inflight"), ("batch", "enqueue_batch"))


def measure(ctx: Context, system: System) -> dict[str, float | None]:
    ctx.flush()
    results = ctx.client(system, "enqueue", count=ctx.plan.enqueue_count)
    figures: dict[str, float | None] = {}
    for mode, key in MODES:
        result = results[mode]
        if result.get("unsupported"):
            figures[key] = None
            continue
        figures[key] = result["count"] / result["seconds"]
        if "calls" in result and mode != "inflight":
            figures[f"rt_enqueue_{mode}"] = result["calls"] / result["count"]
    return figures
