"""The storyapp HTTP app: a health endpoint, admin endpoints, and the legacy scheduler.

``GET /health`` answers 200 while the database answers, 503 otherwise.
``POST /admin/cleanups/{tokens|stories|webhooks}`` enqueues that clean-up on the ``cleanup``
queue now and answers 202 with the task's ID; it needs ``Authorization: Bearer
<APP_ADMIN_TOKEN>`` and is refused with 503 while no token is configured.

While ``APP_LEGACY_SCHEDULER`` is on (phase 1 of the migration) the app also runs the legacy
in-process scheduler for as long as it serves.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from asyncq import AsyncqError
from asyncq.client import Client
from storyapp.config import Settings
from storyapp.db import engine_from_settings, ping, require_schema
from storyapp.legacy import start_legacy_scheduler
from storyapp.listen import bind_api_socket, http_url
from storyapp.tasks import CLEANUP_NAMES, CLEANUP_QUEUE, CleanupType, enqueue_cleanup

log = logging.getLogger("storyapp.api")

Enqueue = Callable[[CleanupType], Awaitable[str]]
"""Enqueues one clean-up task and returns its ID."""


def create_app(
    settings: Settings,
    engine: Engine,
    enqueue: Enqueue,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
) -> Starlette:
    """The app; ``on_shutdown`` runs when it stops (to close what ``enqueue`` uses)."""

    async def health(request: Request) -> JSONResponse:
        legacy = settings.api.legacy_scheduler
        try:
            await run_in_threadpool(ping, engine)
        except SQLAlchemyError as exc:
            log.warning("The database did not answer the health check: %s", exc.__class__.__name__)
            body = {"status": "unavailable", "database": "unreachable", "legacy_scheduler": legacy}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "legacy_scheduler": legacy})

    async def enqueue_cleanup(request: Request) -> JSONResponse:
        refused = _refusal(request, settings.api.admin_token)
        if refused is not None:
            return refused
        kind = CLEANUP_NAMES.get(request.path_params["name"])
        if kind is None:
            names = ", ".join(CLEANUP_NAMES)
            return JSONResponse({"error": f"Unknown clean-up; use one of {names}."}, 404)
        try:
            task_id = await enqueue(kind)
        except AsyncqError as exc:
            log.warning("Could not enqueue type=%s: %s", kind.value, exc)
            return JSONResponse({"error": f"Could not enqueue the task: {exc}"}, 503)
        log.info("Enqueued task type=%s id=%s through the admin endpoint.", kind.value, task_id)
        body = {"task_id": task_id, "type": kind.value, "queue": CLEANUP_QUEUE}
        return JSONResponse(body, status_code=202)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/admin/cleanups/{name}", enqueue_cleanup, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=_lifespan(settings, engine, on_shutdown))


def _refusal(request: Request, token: str) -> JSONResponse | None:
    """None when the request carries the admin token, else the response that refuses it."""
    if not token:
        message = "Admin endpoints are disabled; set APP_ADMIN_TOKEN to enable them."
        return JSONResponse({"error": message}, status_code=503)
    given = request.headers.get("authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.encode(), token.encode()):
        return JSONResponse(
            {"error": "Send the admin token as 'Authorization: Bearer <token>'."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return None


def _lifespan(
    settings: Settings, engine: Engine, on_shutdown: Callable[[], Awaitable[None]] | None
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Run the legacy scheduler while the app serves, in phase 1 only."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler = None
        if settings.api.legacy_scheduler:
            log.info("Starting the legacy scheduler (phase 1): clean-ups also run in the API.")
            scheduler = start_legacy_scheduler(engine, settings.cleanup)
        else:
            log.info("The legacy scheduler is off (phase 2): the asyncq worker runs clean-ups.")
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
                log.info("Legacy scheduler stopped.")
            if on_shutdown is not None:
                await on_shutdown()

    return lifespan


def run_api(settings: Settings) -> None:
    """Serve the app with uvicorn on ``APP_API_HOST:APP_API_PORT`` until interrupted.

    The tables and the address are checked before anything starts, each failure one line.
    """
    import uvicorn

    engine = engine_from_settings(settings.db)
    try:
        require_schema(engine)
        sock = bind_api_socket(settings.api)
    except BaseException:
        engine.dispose()
        raise

    client = Client.from_url(settings.redis.url)

    async def enqueue(kind: CleanupType) -> str:
        return (await enqueue_cleanup(client, kind)).id

    app = create_app(settings, engine, enqueue, on_shutdown=client.close)
    log.info("Serving the API on %s.", http_url(settings.api.host, settings.api.port))
    try:
        uvicorn.Server(uvicorn.Config(app, log_config=None)).run(sockets=[sock])
    finally:
        sock.close()
        engine.dispose()
