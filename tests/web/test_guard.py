"""Only this server's own pages may drive the web UI: Host, Origin and Content-Type checks."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio as aioredis
from inspector.seeding import message, put_task, run_seed
from starlette.testclient import TestClient

from asyncq.errors import ConfigError
from asyncq.inspector import Inspector
from asyncq.redis import keys
from asyncq.task import TaskState
from asyncq.web.app import create_app
from asyncq.web.auth import ActionAuth
from asyncq.web.guard import HostPolicy
from web.client import BASE_URL, ORIGIN

BATCH_DELETE = "/api/queues/default/scheduled_tasks:batch_delete"


@pytest.fixture
def task_id(redis_url: str) -> str:
    """A task scheduled an hour ahead, as the tester's ``uniq-1``."""

    async def scheduled(client: aioredis.Redis) -> str:
        return await put_task(client, message(), TaskState.SCHEDULED, score=time.time() + 3600)

    found: str = run_seed(redis_url, scheduled)
    return found


def test_a_foreign_origin_cannot_delete_tasks(
    web: TestClient, task_id: str, raw_redis: redis.Redis
) -> None:
    answer = web.post(
        BATCH_DELETE,
        headers={"Origin": "http://evil.example", "Content-Type": "application/json"},
        content=f'{{"task_ids":["{task_id}"]}}',
    )

    assert answer.status_code == 403
    assert "http://evil.example" in answer.json()["error"]
    assert raw_redis.exists(keys.task_key("default", task_id))


def test_a_foreign_referer_counts_when_origin_is_missing(web: TestClient, task_id: str) -> None:
    answer = web.post(
        BATCH_DELETE,
        headers={"Referer": "http://evil.example/page"},
        json={"task_ids": [task_id]},
    )

    assert answer.status_code == 403


def test_a_text_plain_body_is_refused_even_from_the_same_origin(
    web: TestClient, task_id: str, raw_redis: redis.Redis
) -> None:
    answer = web.post(
        BATCH_DELETE,
        headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
        content=f'{{"task_ids":["{task_id}"]}}',
    )

    assert answer.status_code == 403
    assert "application/json" in answer.json()["error"]
    assert raw_redis.exists(keys.task_key("default", task_id))


def test_the_ui_own_requests_and_plain_tools_still_work(
    web: TestClient, task_id: str, raw_redis: redis.Redis
) -> None:
    from_page = web.post(
        BATCH_DELETE,
        headers={"Origin": ORIGIN, "Referer": f"{ORIGIN}/#/queues/default"},
        json={"task_ids": [task_id]},
    )
    from_curl = web.post("/api/queues/default:pause")

    assert from_page.json() == {"deleted_ids": [task_id], "failed_ids": []}
    assert from_curl.status_code == 204
    assert not raw_redis.exists(keys.task_key("default", task_id))


def test_a_foreign_host_header_is_refused_for_reads_too(web: TestClient, task_id: str) -> None:
    read = web.get("/api/queues/default/scheduled_tasks", headers={"Host": "evil.example"})
    page = web.get("/", headers={"Host": "evil.example:8080"})
    loopback = web.get("/api/queues", headers={"Host": "[::1]:8080"})

    assert (read.status_code, page.status_code) == (403, 403)
    assert "--allowed-host" in read.json()["error"]
    assert loopback.status_code == 200


@pytest.fixture
def named(redis_url: str, raw_redis: redis.Redis) -> Iterator[TestClient]:
    """The app as `asyncq web --host 10.1.2.3 --allowed-host queues.internal` serves it."""
    hosts = HostPolicy.for_bind("10.1.2.3", ["queues.internal"])
    app = create_app(Inspector.from_url(redis_url), auth=ActionAuth(), hosts=hosts)
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


def test_the_bound_address_and_allowed_hosts_are_served(named: TestClient) -> None:
    bound = named.get("/api/queues", headers={"Host": "10.1.2.3:8080"})
    allowed = named.get("/api/queues", headers={"Host": "Queues.Internal"})
    other = named.get("/api/queues", headers={"Host": "queues.external"})

    assert (bound.status_code, allowed.status_code, other.status_code) == (200, 200, 403)


def test_a_password_without_a_user_is_refused() -> None:
    with pytest.raises(ConfigError, match="ASYNCQ_WEB_USER is not"):
        ActionAuth.from_env({"ASYNCQ_WEB_PASSWORD": "pw"})
    with pytest.raises(ConfigError, match="ASYNCQ_WEB_PASSWORD is not"):
        ActionAuth.from_env({"ASYNCQ_WEB_USER": "ops"})
