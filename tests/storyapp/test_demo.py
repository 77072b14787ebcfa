"""``make demo`` as a new user runs it: seed, private Redis, purge report, clean Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from cli_support import run_storyapp

from asyncq.devserver import free_port, port_answers


def test_the_demo_purges_the_seeded_rows_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "APP_REDIS_PORT": str(port), "COLUMNS": "200"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "storyapp.demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert demo.stdout is not None
    shown = []
    for line in demo.stdout:
        shown.append(line)
        if "Press Ctrl-C to stop." in line:
            break

    enqueue = run_storyapp("enqueue", "tokens", env={"APP_REDIS_PORT": str(port)})
    demo.send_signal(signal.SIGINT)
    rest, errors = demo.communicate(timeout=30)

    output = "".join(shown) + rest
    assert demo.returncode == 0, errors[-2000:]
    assert "Traceback" not in errors
    assert re.search(r"tokens\s+│\s+20,000 │\s+8,000 │\s+12,000 │\s+0 │", output), output
    assert re.search(r"stories\s+│\s+4,000 │\s+1,000 │\s+3,000 │\s+0 │", output), output
    assert re.search(r"webhook_events\s+│\s+10,000 │\s+4,750 │\s+5,250 │\s+0 │", output), output
    assert "kept_unprocessed=250" in errors
    assert f"No Redis at 127.0.0.1:{port}; started a private one there." in output
    assert enqueue.returncode == 0, enqueue.stderr
    assert "Stopped the private Redis." in output
    assert not port_answers("127.0.0.1", port)
