"""The web application: pages, JSON API, Prometheus metrics, built fresh by a factory.

Everything the app needs lives on ``app.state`` (the inspector, the auth settings, the
host names it answers to), so several apps can run in one process and tests build their own.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from asyncq.errors import (
    AsyncqError,
    BrokerError,
    ConfigError,
    InspectorError,
    QueueNotFoundError,
    TaskNotFoundError,
)
from asyncq.inspector import Inspector
from asyncq.metrics import metrics_endpoint
from asyncq.web import api
from asyncq.web.auth import ActionAuth
from asyncq.web.guard import HostPolicy, guard

logger = logging.getLogger("asyncq.web")

STATIC = Path(__file__).with_name("static")


def create_app(
    inspector: Inspector, auth: ActionAuth | None = None, hosts: HostPolicy | None = None
) -> Starlette:
    """A web UI over ``inspector``.

    ``auth`` defaults to the settings in the environment; ``hosts`` to loopback names only.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await inspector.close()

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/metrics", metrics_endpoint),
            *api.routes,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)],
        exception_handlers={AsyncqError: error_response},
        lifespan=lifespan,
    )
    app.state.inspector = inspector
    app.state.auth = auth if auth is not None else ActionAuth.from_env()
    app.state.hosts = hosts if hosts is not None else HostPolicy()
    return app


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")


async def error_response(request: Request, exc: Exception) -> Response:
    """An asyncq error as ``{"error": ...}`` with the status code that fits it."""
    status = 500
    if isinstance(exc, QueueNotFoundError | TaskNotFoundError):
        status = 404
    elif isinstance(exc, InspectorError | ConfigError):
        status = 400
    elif isinstance(exc, BrokerError):
        status = 503
        logger.warning("Answered a web request with an error: %s", exc)
    return JSONResponse({"error": str(exc)}, status_code=status)
