"""The HTTP app: health, admin endpoints that enqueue through asyncq, and the legacy phase."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis
from sqlalchemy import Engine
from storyapp_rows import add_tokens
from worker_support import EVERY_SECOND, settings_for

from asyncq.client import Client
from asyncq.redis import keys
from storyapp.api import create_app
from storyapp.config import ApiSettings, Settings
from storyapp.db import make_engine
from storyapp.stats import table_stats
from storyapp.tasks import CleanupType, enqueue_cleanup

TOKEN = "let-me-in"


@asynccontextmanager
async def serve(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and an HTTP client that talks to it in-process."""
    client = Client.from_url(settings.redis.url)

    async def enqueue(kind: CleanupType) -> str:
        return (await enqueue_cleanup(client, kind)).id

    app = create_app(settings, engine, enqueue, client.close)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://storyapp") as http,
    ):
        yield http


def api_settings(redis_url: str, token: str = TOKEN, legacy: bool = False) -> Settings:
    settings = settings_for(redis_url)
    return replace(settings, api=ApiSettings(admin_token=token, legacy_scheduler=legacy))


@pytest.fixture
async def http(
    sqlite_engine: Engine, redis_url: str, raw_redis: redis.Redis
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(api_settings(redis_url), sqlite_engine) as client:
        yield client


async def test_health_reports_the_database_and_the_phase(http: httpx.AsyncClient) -> None:
    response = await http.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "legacy_scheduler": False}


async def test_health_is_503_while_the_database_is_unreachable(redis_url: str) -> None:
    unreachable = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")

    async with serve(api_settings(redis_url), unreachable) as http:
        response = await http.get("/health")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.parametrize(
    ("name", "task_type"),
    [
        ("tokens", "cleanup:expired_tokens"),
        ("stories", "cleanup:deleted_stories"),
        ("webhooks", "cleanup:stripe_webhook_events"),
    ],
)
async def test_an_admin_enqueues_a_cleanup_on_the_cleanup_queue(
    http: httpx.AsyncClient, raw_redis: redis.Redis, name: str, task_type: str
) -> None:
    response = await http.post(
        f"/admin/cleanups/{name}", headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert response.status_code == 202
    task_id = response.json()["task_id"]
    assert response.json() == {"task_id": task_id, "type": task_type, "queue": "cleanup"}
    assert raw_redis.lrange(keys.pending_key("cleanup"), 0, -1) == [task_id.encode()]


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
async def test_admin_endpoints_refuse_a_missing_or_wrong_token(
    http: httpx.AsyncClient, raw_redis: redis.Redis, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}

    response = await http.post("/admin/cleanups/tokens", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert raw_redis.exists(keys.pending_key("cleanup")) == 0


async def test_admin_endpoints_are_off_without_a_configured_token(
    sqlite_engine: Engine, redis_url: str, raw_redis: redis.Redis
) -> None:
    async with serve(api_settings(redis_url, token=""), sqlite_engine) as http:
        response = await http.post("/admin/cleanups/tokens", headers={"Authorization": "Bearer "})

    assert response.status_code == 503
    assert "APP_ADMIN_TOKEN" in response.json()["error"]


async def test_an_unknown_cleanup_is_404(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/admin/cleanups/users", headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert response.status_code == 404
    assert response.json() == {"error": "Unknown clean-up; use one of tokens, stories, webhooks."}


async def test_in_phase_one_the_api_runs_the_legacy_scheduler(
    sqlite_engine: Engine, redis_url: str
) -> None:
    now = datetime.now(UTC)
    add_tokens(sqlite_engine, [now - timedelta(hours=1)] * 3, now - timedelta(days=1))
    settings = api_settings(redis_url, legacy=True)
    settings = replace(settings, cleanup=replace(settings.cleanup, tokens_schedule=EVERY_SECOND))

    async with serve(settings, sqlite_engine) as http:
        assert (await http.get("/health")).json()["legacy_scheduler"] is True
        for _ in range(200):
            if not (await asyncio.to_thread(table_stats, sqlite_engine))["tokens"]["total"]:
                break
            await asyncio.sleep(0.05)

    assert table_stats(sqlite_engine)["tokens"]["total"] == 0
