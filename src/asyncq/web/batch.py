"""asynqmon's batch actions: one request names many tasks, and the answer says which worked.

``POST …/{state}_tasks:batch_{delete|run|archive|cancel}`` takes ``{"task_ids": [...]}``;
``POST …/active_tasks:cancel_all`` cancels every running task of the queue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from asyncq.errors import AsyncqError, ConfigError
from asyncq.inspector import Inspector
from asyncq.task import TaskState

Action = Callable[[Inspector, str, str], Awaitable[Any]]

_BATCH: dict[str, tuple[str, str, Action]] = {
    "delete": ("deleted_ids", "failed_ids", lambda i, q, t: i.delete_task(q, t)),
    "run": ("pending_ids", "error_ids", lambda i, q, t: i.run_task(q, t)),
    "archive": ("archived_ids", "error_ids", lambda i, q, t: i.archive_task(q, t)),
    "cancel": ("canceled_ids", "error_ids", lambda i, q, t: i.cancel_processing(t)),
}
CANCEL_PAGE_SIZE = 100


async def batch_action(request: Request) -> Response:
    """Apply one action to each listed task; a refusal for one does not stop the others."""
    verb = request.path_params["verb"]
    if verb not in _BATCH:
        raise ConfigError(f'"batch_{verb}" is not an action; use batch_delete, batch_run, '
                          "batch_archive or batch_cancel.")  # fmt: skip
    done_name, failed_name, action = _BATCH[verb]
    task_ids = await _task_ids(request)

    inspector, queue = request.app.state.inspector, request.path_params["queue"]
    done: list[str] = []
    failed: list[str] = []
    for task_id in task_ids:
        try:
            await action(inspector, queue, task_id)
        except AsyncqError:
            failed.append(task_id)
        else:
            done.append(task_id)
    return JSONResponse({done_name: done, failed_name: failed})


async def cancel_all(request: Request) -> Response:
    """Ask the servers to cancel every running task of the queue, a page at a time."""
    inspector: Inspector = request.app.state.inspector
    queue = request.path_params["queue"]
    page = 1
    while tasks := await inspector.list_tasks(
        queue, TaskState.ACTIVE, page=page, page_size=CANCEL_PAGE_SIZE
    ):
        for task in tasks:
            await inspector.cancel_processing(task.id)
        page += 1
    return Response(status_code=204)


async def _task_ids(request: Request) -> list[str]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    ids = body.get("task_ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ConfigError('The request body must be JSON like {"task_ids": ["<id>", ...]}.')
    return ids
