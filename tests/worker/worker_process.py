"""A worker run as its own process by the fault tests: ``python worker_process.py URL MARKER``.

It serves the default queue with a 2-second lease; a task of type ``block`` touches the
MARKER file and then sleeps, so the test knows when to kill or signal the process. A task
of type ``stubborn`` does the same in an async handler that swallows every cancellation.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from asyncq.context import ActiveTask
from asyncq.mux import ServeMux
from asyncq.redis.broker import BrokerSettings, RedisBroker
from asyncq.server import Server, ServerConfig


def main(url: str, marker: str) -> None:
    mux = ServeMux()

    @mux.handle("block")
    def block(task: ActiveTask) -> None:
        Path(marker).write_text(task.id)
        time.sleep(60)

    @mux.handle("stubborn")
    async def stubborn(task: ActiveTask) -> None:
        Path(marker).write_text(task.id)
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                continue

    config = ServerConfig(concurrency=1, heartbeat_interval=0.3, shutdown_timeout=0.5)
    broker = RedisBroker.from_url(url, BrokerSettings(lease_duration=2))
    Server(config, broker=broker).run(mux)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
