"""Figure 1: enqueue throughput from one process, three ways.

One at a time (each enqueue awaited before the next), with 100 in flight (100 asyncio
lanes, or 100 threads for a blocking client) and batched (1,000 tasks per call, where the
library has a batch call). The time is taken inside the client process, after connecting.
"""

from __future__ import annotations

from benchmarks.context import Context
from benchmarks.systems import System

MODES = (("one", "enqueue_one"), ("inflight", "enqueue_inflight"), ("batch", "enqueue_batch"))


def measure(ctx: Context, system: System) -> dict[str, float | None]:
    figures: dict[str, float | None] = {}
    for mode, key in MODES:
        ctx.flush()
        result = ctx.client(system, "enqueue", mode=mode, count=ctx.plan.enqueue_count)
        if result.get("unsupported"):
            figures[key] = None
            continue
        figures[key] = result["count"] / result["seconds"]
        if "calls" in result and mode != "inflight":
            figures[f"rt_enqueue_{mode}"] = result["calls"] / result["count"]
    return figures
