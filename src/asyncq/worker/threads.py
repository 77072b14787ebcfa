"""A pool of daemon threads for plain (non-async) handlers.

A thread cannot be cancelled, so a handler that overstays its timeout keeps running. The
pool's threads are daemons so that a process shutting down never waits for them past the
server's shutdown timeout (``concurrent.futures`` pools are joined at interpreter exit).
The processor bounds the number of running handlers, so the pool never grows beyond it.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None


class DaemonThreadPool:
    """Runs calls on at most ``max_threads`` daemon threads, started on demand."""

    def __init__(self, max_threads: int, name: str = "asyncq-handler") -> None:
        self._max_threads = max_threads
        self._name = name
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []

    def submit(self, func: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``func(*args)`` in the caller's context variables on a pool thread."""
        future: Future[Any] = Future()
        context = contextvars.copy_context()
        self._jobs.put((future, context.run, (func, *args)))
        if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_threads:
            self._start_thread()
        return future

    def shutdown(self) -> None:
        """Let idle threads end; busy ones end when their call returns."""
        for _ in self._threads:
            self._jobs.put(None)

    def _start_thread(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, func, args = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(func(*args))
                except BaseException as exc:
                    future.set_exception(exc)
            self._idle.release()
