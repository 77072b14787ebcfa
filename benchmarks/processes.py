"""Adapter processes: worker processes that report through the probe, and client commands.

Every process starts in its own session so that stopping it also ends anything it spawned
(RQ's scheduler, for one); nothing else on the machine is signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from benchmarks.environments import ROOT, python_for
from benchmarks.systems import System

STOP_GRACE = 2.0
CLIENT_TIMEOUT = 900.0
PROBE_PREFIX = b'{"pid"'


class BenchmarkError(Exception):
    """Raised when an adapter process fails or a measurement cannot complete in time."""


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.pop("VIRTUAL_ENV", None)
    return env


def _command(system: System, command: str, url: str, options: dict[str, Any]) -> list[str]:
    argv = [str(python_for(system)), "-m", "benchmarks.adapters", system.adapter, command]
    argv += ["--url", url, "--variant", system.variant]
    for name, value in options.items():
        if value is True:
            argv.append(f"--{name}")
        elif value is not None and value is not False:
            argv += [f"--{name}", str(value)]
    return argv


def run_client(
    system: System, command: str, url: str, log: IO[bytes], **options: Any
) -> dict[str, Any]:
    """Run one client command of ``system``'s adapter and return its JSON result."""
    argv = _command(system, command, url, options)
    done = subprocess.run(
        argv, cwd=ROOT, env=_environment(), stdout=subprocess.PIPE, stderr=log,
        timeout=CLIENT_TIMEOUT, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith(b"{")]
    if done.returncode != 0 or not lines:
        raise BenchmarkError(
            f"{system.key} {command} exited with {done.returncode}; see the log in results/."
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


class WorkerProcess:
    """One worker process of a system, with the latest figures its probe reported."""

    def __init__(self, system: System, url: str, log: IO[bytes]) -> None:
        argv = _command(system, "worker", url, {"concurrency": system.concurrency})
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=_environment(), stdout=subprocess.PIPE, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        self.report: dict[str, Any] = {"n": 0, "first": None, "last": None}
        self._latencies: list[float] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if not line.startswith(PROBE_PREFIX):
                continue
            report = json.loads(line)
            with self._lock:
                self._latencies.extend(report.pop("lat"))
                self.report = report

    @property
    def count(self) -> int:
        return int(self.report["n"])

    def take_latencies(self) -> list[float]:
        """The latencies reported since the last call, in seconds."""
        with self._lock:
            taken, self._latencies = self._latencies, []
        return taken

    def stop(self) -> None:
        """SIGTERM the worker's session, then SIGKILL whatever is left after a grace period."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_GRACE)
        _signal_group(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._reader.join(timeout=2.0)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def wait_for_count(workers: Iterable[WorkerProcess], target: int, timeout: float) -> bool:
    """Wait until the workers together completed ``target`` tasks; False on timeout."""
    group = list(workers)
    deadline = time.monotonic() + timeout
    while sum(worker.count for worker in group) < target:
        if time.monotonic() > deadline:
            return False
        if any(worker.process.poll() is not None for worker in group):
            raise BenchmarkError("A worker process exited early; see the log in results/.")
        time.sleep(0.01)
    return True


def log_file(directory: Path, name: str) -> IO[bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    return (directory / f"{name}.log").open("ab")
