"""A worker run as its own process by the fault tests: ``python worker_process.py URL MARKER``.

It serves the default queue with a 2-second lease; a task of type ``block`` touches the
MARKER file and then sleeps, so the test knows when to kill or signal the process.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from asyncq.context import ActiveTask
from asyncq.redis.broker import BrokerSettings, RedisBroker
from asyncq.server import Server, ServerConfig


def main(url: str, marker: str) -> None:
    def handler(task: ActiveTask) -> None:
        if task.type == "block":
            Path(marker).write_text(task.id)
            time.sleep(60)

    config = ServerConfig(concurrency=1, heartbeat_interval=0.3, shutdown_timeout=0.5)
    broker = RedisBroker.from_url(url, BrokerSettings(lease_duration=2))
    Server(config, broker=broker).run(handler)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
