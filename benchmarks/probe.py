"""What a worker process reports back to the benchmark runner, standard library only.

A benchmark handler calls ``begin(payload)`` when it starts and ``end()`` when it is done.
A reporter thread writes one JSON line every few milliseconds to a private copy of file
descriptor 1, taken before any framework can redirect ``sys.stdout``: the completion count,
the first start and last completion times, the latencies of measured tasks, and the
process's current and peak resident set size. Counting in the worker itself keeps the
measurement free of extra Redis traffic and works for every peer alike.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

REPORT_INTERVAL = 0.02
HEARTBEAT_INTERVAL = 0.5


class _Probe:
    """The counters of this process, guarded by one lock (handlers may run in threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.out_fd: int | None = None
        self.count = 0
        self.first_start: float | None = None
        self.last_end: float | None = None
        self.latencies: list[float] = []
        self.extra: Callable[[], dict[str, Any]] | None = None


_probe = _Probe()


def install(extra: Callable[[], dict[str, Any]] | None = None) -> None:
    """Start reporting; ``extra`` adds adapter-specific figures (such as call counts)."""
    if _probe.out_fd is not None:
        return
    _probe.out_fd = os.dup(1)
    _probe.extra = extra
    threading.Thread(target=_report_forever, name="bench-probe", daemon=True).start()


def begin(payload: dict[str, Any]) -> None:
    """Record the start of one task; a measured task carries its reference time in ``t``."""
    now = time.time()
    with _probe.lock:
        if _probe.first_start is None:
            _probe.first_start = now
        if payload.get("m"):
            _probe.latencies.append(now - float(payload["t"]))


def end() -> None:
    """Record the completion of one task."""
    now = time.time()
    with _probe.lock:
        _probe.count += 1
        _probe.last_end = now


def memory_kib() -> tuple[int, int]:
    """The current and the peak resident set size of this process in KiB.

    The peak is ``VmHWM``, which starts afresh at ``exec``; ``ru_maxrss`` would not do, as
    it keeps the parent's peak from before the fork.
    """
    fields: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def _snapshot() -> dict[str, Any]:
    with _probe.lock:
        line: dict[str, Any] = {
            "pid": os.getpid(),
            "n": _probe.count,
            "first": _probe.first_start,
            "last": _probe.last_end,
            "lat": _probe.latencies,
        }
        _probe.latencies = []
    line["rss"], line["maxrss"] = memory_kib()
    if _probe.extra is not None:
        line.update(_probe.extra())
    return line


def _report_forever() -> None:
    assert _probe.out_fd is not None
    sent_count = -1
    sent_at = 0.0
    while True:
        time.sleep(REPORT_INTERVAL)
        line = _snapshot()
        now = time.monotonic()
        if line["n"] == sent_count and not line["lat"] and now - sent_at < HEARTBEAT_INTERVAL:
            continue
        os.write(_probe.out_fd, (json.dumps(line) + "\n").encode())
        sent_count, sent_at = line["n"], now
