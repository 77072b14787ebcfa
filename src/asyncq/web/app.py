"""The web application: pages, JSON API, Prometheus metrics, built fresh by a factory.

Everything the app needs lives on ``app.state`` (the inspector, the auth settings), so
several apps can run in one process and tests build their own.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
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

logger = logging.getLogger("asyncq.web")

STATIC = Path(__file__).with_name("static")
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def create_app(inspector: Inspector, auth: ActionAuth | None = None) -> Starlette:
    """A web UI over ``inspector``; ``auth`` defaults to the settings in the environment."""

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
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard_actions)],
        exception_handlers={AsyncqError: error_response},
        lifespan=lifespan,
    )
    app.state.inspector = inspector
    app.state.auth = auth if auth is not None else ActionAuth.from_env()
    return app


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")


async def guard_actions(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Refuse actions without the configured credentials; reads stay open."""
    auth: ActionAuth = request.app.state.auth
    if request.method in _SAFE_METHODS or auth.allows(request):
        return await call_next(request)
    challenge = {"WWW-Authenticate": 'Basic realm="asyncq"'} if auth.user else {}
    return JSONResponse(
        {"error": "This action needs credentials; see ASYNCQ_WEB_TOKEN or ASYNCQ_WEB_USER."},
        status_code=401,
        headers=challenge,
    )


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
