"""The JSON API under ``/api``: asynqmon's routes and field names, served by the Inspector.

Reads are GET; every action is POST or DELETE and goes through the app's auth check.
Errors come back as ``{"error": "<sentence>"}`` with 404 for a missing queue or task,
400 for a refused operation or a bad parameter and 503 when Redis fails. Lists take
``page`` (from 1) and ``size`` (1 to 1000). Names in paths are percent-encoded, so queues
and task IDs may hold any character, ``/`` and ``%`` included.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from asyncq.errors import ConfigError
from asyncq.inspector import Inspector
from asyncq.task import TaskState
from asyncq.web import batch, serialize
from asyncq.web.paging import check_page
from asyncq.web.routing import ApiRoute as Route

DEFAULT_PAGE_SIZE = 20


def inspector_of(request: Request) -> Inspector:
    found: Inspector = request.app.state.inspector
    return found


def _int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name, str(default))
    try:
        return int(value)
    except ValueError:
        message = f'The parameter "{name}" must be a whole number, not "{value}".'
        raise ConfigError(message) from None


def _page(request: Request) -> tuple[int, int]:
    """The requested (page, size), refused with a 400 when out of bounds."""
    page, size = _int(request, "page", 1), _int(request, "size", DEFAULT_PAGE_SIZE)
    check_page(page, size)
    return page, size


def _now() -> datetime:
    return datetime.now(UTC)


async def list_queues(request: Request) -> Response:
    inspector = inspector_of(request)
    infos = [await inspector.queue_info(q) for q in await inspector.queues()]
    return JSONResponse({"queues": [serialize.snapshot(i) for i in infos]})


async def get_queue(request: Request) -> Response:
    inspector, queue = inspector_of(request), request.path_params["queue"]
    days = max(1, min(_int(request, "days", 10), 90))
    info = await inspector.queue_info(queue)
    history = await inspector.history(queue, days)
    return JSONResponse(
        {"current": serialize.snapshot(info), "history": [serialize.daily(d) for d in history]}
    )


async def queue_stats(request: Request) -> Response:
    inspector = inspector_of(request)
    days = max(1, min(_int(request, "days", 90), 90))
    stats = {q: await inspector.history(q, days) for q in await inspector.queues()}
    return JSONResponse(
        {"stats": {q: [serialize.daily(d) for d in days_] for q, days_ in stats.items()}}
    )


async def delete_queue(request: Request) -> Response:
    force = request.query_params.get("force", "") in ("1", "true")
    await inspector_of(request).delete_queue(request.path_params["queue"], force=force)
    return Response(status_code=204)


async def pause_queue(request: Request) -> Response:
    await inspector_of(request).pause_queue(request.path_params["queue"])
    return Response(status_code=204)


async def resume_queue(request: Request) -> Response:
    await inspector_of(request).unpause_queue(request.path_params["queue"])
    return Response(status_code=204)


async def list_tasks(request: Request) -> Response:
    inspector, queue = inspector_of(request), request.path_params["queue"]
    state, group = _state_of(request), request.path_params.get("group", "")
    page, size = _page(request)
    tasks = await inspector.list_tasks(queue, state, group=group, page=page, page_size=size)
    shaped = [serialize.task(t, _now()) for t in tasks]
    if state is TaskState.ACTIVE:
        await _add_worker_times(inspector, shaped)
    stats = serialize.snapshot(await inspector.queue_info(queue))
    return JSONResponse({"tasks": shaped, "stats": stats})


async def _add_worker_times(inspector: Inspector, tasks: list[dict[str, Any]]) -> None:
    """Give running tasks the start time and deadline their server reports ("-" if none)."""
    workers = {w.task_id: w for s in await inspector.servers() for w in s.active_workers}
    for task in tasks:
        worker = workers.get(task["id"])
        task["start_time"] = serialize.rfc3339(worker.started) if worker else "-"
        task["deadline"] = serialize.rfc3339(worker.deadline) if worker else "-"


async def get_task(request: Request) -> Response:
    task = await inspector_of(request).get_task_info(
        request.path_params["queue"], request.path_params["task_id"]
    )
    return JSONResponse(serialize.task(task, _now()))


async def task_action(request: Request) -> Response:
    """``…/{task_id}:run``, ``:archive`` and ``:cancel`` and ``DELETE …/{task_id}``."""
    inspector, queue = inspector_of(request), request.path_params["queue"]
    task_id, action = request.path_params["task_id"], request.path_params.get("action")
    if request.method == "DELETE":
        await inspector.delete_task(queue, task_id)
    elif action == "run":
        await inspector.run_task(queue, task_id)
    elif action == "archive":
        await inspector.archive_task(queue, task_id)
    elif action == "cancel":
        await inspector.cancel_processing(task_id)
    else:
        return JSONResponse({"error": f'Unknown task action "{action}".'}, status_code=404)
    return Response(status_code=204)


async def bulk_action(request: Request) -> Response:
    """``…_tasks:run_all``, ``:archive_all`` and ``:delete_all``."""
    inspector, queue = inspector_of(request), request.path_params["queue"]
    state, group = _state_of(request), request.path_params.get("group", "")
    action = request.path_params["action"]
    if action == "run_all":
        return JSONResponse({"pending": await inspector.run_all_tasks(queue, state, group)})
    if action == "archive_all":
        return JSONResponse({"archived": await inspector.archive_all_tasks(queue, state, group)})
    if action == "delete_all":
        return JSONResponse({"deleted": await inspector.delete_all_tasks(queue, state, group)})
    return JSONResponse({"error": f'Unknown action "{action}".'}, status_code=404)


async def list_groups(request: Request) -> Response:
    inspector, queue = inspector_of(request), request.path_params["queue"]
    groups = await inspector.groups(queue)
    stats = await inspector.queue_info(queue)
    return JSONResponse(
        {"stats": serialize.snapshot(stats), "groups": [serialize.group(g) for g in groups]}
    )


async def list_servers(request: Request) -> Response:
    servers = await inspector_of(request).servers()
    return JSONResponse({"servers": [serialize.server(s) for s in servers]})


async def list_entries(request: Request) -> Response:
    entries = await inspector_of(request).scheduler_entries()
    return JSONResponse({"entries": [serialize.entry(e) for e in entries]})


async def list_events(request: Request) -> Response:
    page, size = _page(request)
    events = await inspector_of(request).list_scheduler_enqueue_events(
        request.path_params["entry_id"], page=page, page_size=size
    )
    return JSONResponse({"events": [serialize.event(e) for e in events]})


async def redis_info(request: Request) -> Response:
    info = await inspector_of(request).redis_info()
    plain = {k: v for k, v in info.items() if isinstance(v, str | int | float)}
    return JSONResponse({"info": plain, "cluster": False})


def _state_of(request: Request) -> TaskState:
    name = request.path_params["state"]
    try:
        return TaskState(name)
    except ValueError:
        raise ConfigError(f'"{name}" is not a task state.') from None


_TASKS = "/api/queues/{queue}/{state}_tasks"
_GROUP_TASKS = "/api/queues/{queue}/groups/{group}/{state}_tasks"

routes = [
    Route("/api/queues", list_queues),
    Route("/api/queue_stats", queue_stats),
    Route("/api/queues/{queue}:pause", pause_queue, methods=["POST"]),
    Route("/api/queues/{queue}:resume", resume_queue, methods=["POST"]),
    Route("/api/queues/{queue}/groups", list_groups),
    Route("/api/queues/{queue}/tasks/{task_id}", get_task),
    Route(_TASKS, list_tasks),
    Route(_GROUP_TASKS, list_tasks),
    Route("/api/queues/{queue}/active_tasks:cancel_all", batch.cancel_all, methods=["POST"]),
    Route(_TASKS + ":batch_{verb}", batch.batch_action, methods=["POST"]),
    Route(_GROUP_TASKS + ":batch_{verb}", batch.batch_action, methods=["POST"]),
    Route(_TASKS + ":{action}", bulk_action, methods=["POST", "DELETE"]),
    Route(_GROUP_TASKS + ":{action}", bulk_action, methods=["POST", "DELETE"]),
    Route(_TASKS + "/{task_id}:{action}", task_action, methods=["POST"]),
    Route(_GROUP_TASKS + "/{task_id}:{action}", task_action, methods=["POST"]),
    Route(_TASKS + "/{task_id}", task_action, methods=["DELETE"]),
    Route(_GROUP_TASKS + "/{task_id}", task_action, methods=["DELETE"]),
    Route("/api/queues/{queue}", get_queue),
    Route("/api/queues/{queue}", delete_queue, methods=["DELETE"]),
    Route("/api/servers", list_servers),
    Route("/api/scheduler_entries", list_entries),
    Route("/api/scheduler_entries/{entry_id}/enqueue_events", list_events),
    Route("/api/redis_info", redis_info),
]
