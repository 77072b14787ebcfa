"""What the web tests share besides fixtures: addresses and a real ``asyncq web`` process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# The address a browser on the same machine would use; the Host check accepts it.
BASE_URL = "http://127.0.0.1:8080"
ORIGIN = BASE_URL

_START = "from asyncq.cli.main import main; main()"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(redis_url: str, **env: str) -> Iterator[tuple[str, str]]:
    """Run ``asyncq web`` on a free port; yield its base URL and its start-up line."""
    port = free_port()
    command = [sys.executable, "-c", _START, "--uri", redis_url, "web", "--port", str(port)]
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{port}", process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=10)
