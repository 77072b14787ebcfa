"""The README's example runs as printed, against a private Redis."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import redis

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_quickstart_example_handles_every_task_it_enqueues(
    redis_url: str, raw_redis: redis.Redis
) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py"), redis_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sorted(lines) == [
        "report:daily in queue low",
        "report:weekly in queue low",
        "welcome user 42",
    ]
    assert raw_redis.zcard("asynq:{default}:completed") == 1
