"""ServeMux routes like asynq: exact type, then the longest prefix, else not found."""

from __future__ import annotations

import asyncio
import threading

import pytest

from asyncq.context import ActiveTask, current_task
from asyncq.errors import ConfigError
from asyncq.mux import AsyncHandler, ServeMux
from asyncq.proto import TaskMessage
from asyncq.worker.failures import HandlerNotFound, error_text


class _NoBroker:
    """Stands where a broker goes; routing never writes a result."""


def make_task(task_type: str) -> ActiveTask:
    msg = TaskMessage(type=task_type, id="id-1", queue="default", retry=3)
    return ActiveTask(msg, _NoBroker())  # type: ignore[arg-type]


def recorder(calls: list[str], name: str) -> AsyncHandler:
    async def handler(task: ActiveTask) -> None:
        calls.append(f"{name}:{task.type}")

    return handler


async def test_exact_match_wins_over_a_prefix() -> None:
    calls: list[str] = []
    mux = ServeMux()
    mux.handle("email:", recorder(calls, "prefix"))
    mux.handle("email:welcome", recorder(calls, "exact"))

    await mux(make_task("email:welcome"))
    await mux(make_task("email:reset"))

    assert calls == ["exact:email:welcome", "prefix:email:reset"]


async def test_the_longest_matching_prefix_is_chosen() -> None:
    calls: list[str] = []
    mux = ServeMux()
    mux.handle("image:", recorder(calls, "short"))
    mux.handle("image:resize:", recorder(calls, "long"))

    await mux(make_task("image:resize:small"))
    await mux(make_task("image:crop"))

    assert calls == ["long:image:resize:small", "short:image:crop"]


async def test_an_unknown_type_fails_with_asynqs_message() -> None:
    mux = ServeMux()
    mux.handle("email:", recorder([], "x"))

    with pytest.raises(HandlerNotFound) as caught:
        await mux(make_task("sms:send"))

    assert str(caught.value) == 'handler not found for task "sms:send"'
    assert error_text(caught.value) == 'handler not found for task "sms:send"'


def test_blank_none_and_duplicate_registrations_are_refused() -> None:
    mux = ServeMux()
    mux.handle("a", recorder([], "a"))

    with pytest.raises(ConfigError, match="blank"):
        mux.handle("  ", recorder([], "b"))
    with pytest.raises(ConfigError, match="None"):
        mux.handle("b", None)
    with pytest.raises(ConfigError, match="already has a handler"):
        mux.handle("a", recorder([], "c"))


async def test_decorator_registration_returns_the_function_unchanged() -> None:
    mux = ServeMux()
    seen: list[str] = []

    @mux.handle("cleanup:")
    async def cleanup(task: ActiveTask) -> None:
        seen.append(task.type)

    await mux(make_task("cleanup:sessions"))

    assert seen == ["cleanup:sessions"]
    assert mux.route("cleanup:x").handler is cleanup


async def test_first_registered_middleware_is_outermost() -> None:
    order: list[str] = []
    mux = ServeMux()
    mux.handle("t", recorder(order, "handler"))

    def tag(name: str):  # type: ignore[no-untyped-def]
        def middleware(inner: AsyncHandler) -> AsyncHandler:
            async def wrapped(task: ActiveTask) -> None:
                order.append(f"{name}>")
                await inner(task)
                order.append(f"<{name}")

            return wrapped

        return middleware

    mux.use(tag("outer"), tag("inner"))
    await mux(make_task("t"))

    assert order == ["outer>", "inner>", "handler:t", "<inner", "<outer"]


async def test_plain_handlers_run_in_a_thread_and_see_the_current_task() -> None:
    mux = ServeMux()
    seen: list[tuple[str, bool]] = []

    @mux.handle("plain")
    def plain(task: ActiveTask) -> None:
        on_loop_thread = threading.current_thread() is threading.main_thread()
        seen.append((current_task().id, on_loop_thread))

    from asyncq.context import bind

    task = make_task("plain")
    bind(task)
    route = mux.route("plain")
    assert route.is_async is False

    await asyncio.to_thread(route.handler, task)

    assert seen == [("id-1", False)]
