"""Running the ``storyapp`` command in a subprocess, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys


def run_storyapp(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``storyapp *args`` with ``env`` on top of this environment; never raises on failure."""
    return subprocess.run(
        [sys.executable, "-m", "storyapp.cli", *args],
        check=False,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
