"""A scheduler in its own process, for tests that pause it with SIGSTOP.

Usage: python scheduler_process.py <redis_url> <spec> <task_type> <heartbeat> <lease_ttl>
<max_lateness>. Prints "started" once running and stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import sys

from asyncq.scheduler import Scheduler, SchedulerConfig, run_until_signalled
from asyncq.task import Task


async def main(argv: list[str]) -> None:
    redis_url, spec, task_type, heartbeat, lease_ttl, lateness = argv
    config = SchedulerConfig(
        heartbeat_interval=float(heartbeat),
        publisher_lease_ttl=float(lease_ttl),
        max_lateness=float(lateness),
    )
    scheduler = Scheduler(redis_url, config)
    scheduler.register(spec, Task(task_type))

    async def start() -> None:
        await scheduler.start()
        print("started", flush=True)

    await run_until_signalled(start, scheduler.shutdown)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
