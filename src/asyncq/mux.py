"""ServeMux: routes a task to the handler registered for its type, through middleware.

Routing follows asynq: a pattern equal to the task type wins; otherwise the longest
registered pattern that is a prefix of the type; otherwise the not-found handler, whose
error is an ordinary failure (the task is retried). Handlers are ``async def`` functions
or plain functions; plain ones run in the server's thread pool.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import overload

from asyncq.context import ActiveTask
from asyncq.errors import ConfigError
from asyncq.worker.failures import HandlerNotFound

AsyncHandler = Callable[[ActiveTask], Awaitable[None]]
SyncHandler = Callable[[ActiveTask], None]
Handler = Callable[[ActiveTask], Awaitable[None] | None]
Middleware = Callable[[AsyncHandler], AsyncHandler]
ThreadRunner = Callable[[SyncHandler, ActiveTask], Awaitable[None]]


async def _to_thread(handler: SyncHandler, task: ActiveTask) -> None:
    await asyncio.to_thread(handler, task)


thread_runner: ContextVar[ThreadRunner] = ContextVar("asyncq_thread_runner", default=_to_thread)
"""How a plain handler wrapped in middleware runs; the processor sets its bounded pool."""


_DECORATE = object()

MAX_CACHED_ROUTES = 4096
"""Routes remembered per task type; the cache starts over when task types are unbounded."""


@dataclass(frozen=True, slots=True)
class Route:
    """The handler chosen for a task type, and whether calling it returns an awaitable."""

    handler: Handler
    is_async: bool


def is_async_handler(handler: object) -> bool:
    """Whether ``handler`` is an ``async def`` function (or an object with one as __call__)."""
    if inspect.iscoroutinefunction(handler):
        return True
    return inspect.iscoroutinefunction(getattr(handler, "__call__", None))  # noqa: B004


def as_async(handler: Handler) -> AsyncHandler:
    """``handler`` as an async handler; a plain one runs through :data:`thread_runner`."""
    if is_async_handler(handler):
        return handler  # type: ignore[return-value]

    async def run_plain(task: ActiveTask) -> None:
        await thread_runner.get()(handler, task)  # type: ignore[arg-type]

    return run_plain


def route_of(handler: Handler, task_type: str) -> Route:
    """The route for ``task_type`` of any handler the server accepts (a mux or a function)."""
    if isinstance(handler, ServeMux):
        return handler.route(task_type)
    return Route(handler, is_async_handler(handler))


async def not_found(task: ActiveTask) -> None:
    """The handler of types nobody registered: a failure that asynq retries."""
    raise HandlerNotFound(task.type)


class ServeMux:
    """A router of task types to handlers, with middleware around the chosen handler."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._longest_first: list[str] = []
        self._middleware: list[Middleware] = []
        self._routes: dict[str, Route] = {}

    @overload
    def handle(self, pattern: str) -> Callable[[Handler], Handler]: ...

    @overload
    def handle(self, pattern: str, handler: Handler | None) -> Handler: ...

    def handle(self, pattern: str, handler: object = _DECORATE) -> object:
        """Register ``handler`` for ``pattern``; with no handler, return a decorator."""
        if handler is _DECORATE:
            return lambda func: self._register(pattern, func)
        return self._register(pattern, handler)  # type: ignore[arg-type]

    def use(self, *middleware: Middleware) -> None:
        """Wrap every handler in ``middleware``; the first registered is the outermost."""
        self._middleware.extend(middleware)
        self._routes.clear()

    def route(self, task_type: str) -> Route:
        """The handler for ``task_type`` (cached per type), wrapped in the middleware."""
        found = self._routes.get(task_type)
        if found is None:
            if len(self._routes) >= MAX_CACHED_ROUTES:
                self._routes.clear()
            found = self._routes[task_type] = self._build_route(task_type)
        return found

    async def __call__(self, task: ActiveTask) -> None:
        """Handle ``task`` with its route, so a mux can be mounted inside another."""
        chosen = self.route(task.type)
        await as_async(chosen.handler)(task)

    def _register(self, pattern: str, handler: Handler | None) -> Handler:
        if not pattern or not pattern.strip():
            raise ConfigError("A handler pattern is blank; pass the task type or a type prefix.")
        if handler is None:
            raise ConfigError(f"The handler for pattern {pattern!r} is None; pass a function.")
        if pattern in self._handlers:
            raise ConfigError(
                f"Pattern {pattern!r} already has a handler; register each pattern once."
            )
        self._handlers[pattern] = handler
        self._longest_first = sorted(self._handlers, key=len, reverse=True)
        self._routes.clear()
        return handler

    def _match(self, task_type: str) -> Handler:
        exact = self._handlers.get(task_type)
        if exact is not None:
            return exact
        for pattern in self._longest_first:
            if task_type.startswith(pattern):
                return self._handlers[pattern]
        return not_found

    def _build_route(self, task_type: str) -> Route:
        handler = self._match(task_type)
        if not self._middleware:
            return Route(handler, is_async_handler(handler))
        wrapped = as_async(handler)
        for middleware in reversed(self._middleware):
            wrapped = middleware(wrapped)
        return Route(wrapped, True)
