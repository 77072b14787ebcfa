"""The web UI's JSON API, pages and metrics against real Redis."""

from __future__ import annotations

import base64
import time
from typing import Any

import redis
import redis.asyncio as aioredis
from inspector.seeding import message, pending, put_task, run_seed
from starlette.testclient import TestClient

from asyncq.inspector import Inspector
from asyncq.redis import keys
from asyncq.task import TaskState
from asyncq.web.app import create_app
from asyncq.web.auth import ActionAuth
from web.client import BASE_URL


def seed_pending(redis_url: str, **fields: Any) -> str:
    task_id: str = run_seed(redis_url, pending(**fields))
    return task_id


def test_queues_use_asynqmon_field_names(web: TestClient, redis_url: str) -> None:
    seed_pending(redis_url)

    body = web.get("/api/queues").json()

    [queue] = body["queues"]
    assert queue["queue"] == "default"
    assert (queue["pending"], queue["size"], queue["paused"]) == (1, 1, False)
    for name in ("memory_usage_bytes", "latency_msec", "display_latency", "succeeded"):
        assert name in queue


def test_queue_detail_has_current_stats_and_history(
    web: TestClient, redis_url: str, raw_redis: redis.Redis
) -> None:
    seed_pending(redis_url)
    raw_redis.set(keys.processed_key("default", time.time()), 3)

    body = web.get("/api/queues/default").json()

    assert body["current"]["processed"] == 3
    assert len(body["history"]) == 10
    assert body["history"][0]["processed"] == 3


def test_unknown_queue_and_task_are_404_with_a_sentence(web: TestClient, redis_url: str) -> None:
    seed_pending(redis_url)

    missing_queue = web.get("/api/queues/nope")
    missing_task = web.get("/api/queues/default/tasks/nope")

    assert missing_queue.status_code == 404
    assert missing_queue.json()["error"].startswith('Queue "nope" does not exist')
    assert missing_task.status_code == 404


def test_task_lists_page_and_show_payload_as_text_or_hex(web: TestClient, redis_url: str) -> None:
    ids = [seed_pending(redis_url, payload=b'{"n":%d}' % i) for i in range(3)]
    binary = seed_pending(redis_url, payload=b"\xff\x00")

    first = web.get("/api/queues/default/pending_tasks?page=1&size=2").json()
    second = web.get("/api/queues/default/pending_tasks?page=2&size=2").json()

    assert [t["id"] for t in first["tasks"]] == ids[:2]
    assert (first["tasks"][0]["payload"], first["tasks"][0]["payload_format"]) == (
        '{"n":0}',
        "json",
    )
    assert [t["id"] for t in second["tasks"]] == [ids[2], binary]
    assert (second["tasks"][1]["payload"], second["tasks"][1]["payload_format"]) == ("ff00", "hex")
    assert base64.b64decode(second["tasks"][1]["payload_base64"]) == b"\xff\x00"
    assert first["stats"]["pending"] == 4


def test_task_actions_run_archive_and_delete(
    web: TestClient, redis_url: str, raw_redis: redis.Redis
) -> None:
    task_id = seed_pending(redis_url)

    archived = web.post(f"/api/queues/default/pending_tasks/{task_id}:archive")
    ran = web.post(f"/api/queues/default/archived_tasks/{task_id}:run")
    deleted = web.delete(f"/api/queues/default/pending_tasks/{task_id}")

    assert (archived.status_code, ran.status_code, deleted.status_code) == (204, 204, 204)
    assert not raw_redis.exists(keys.task_key("default", task_id))


def test_refused_actions_are_400(web: TestClient, redis_url: str) -> None:
    task_id = seed_pending(redis_url)

    again = web.post(f"/api/queues/default/pending_tasks/{task_id}:run")
    bad_state = web.get("/api/queues/default/done_tasks")

    assert again.status_code == 400
    assert "already pending" in again.json()["error"]
    assert bad_state.status_code == 400


def test_bulk_actions_report_counts(web: TestClient, redis_url: str) -> None:
    for _ in range(3):
        seed_pending(redis_url)

    archived = web.post("/api/queues/default/pending_tasks:archive_all").json()
    ran = web.post("/api/queues/default/archived_tasks:run_all").json()
    deleted = web.delete("/api/queues/default/pending_tasks:delete_all").json()

    assert (archived, ran, deleted) == ({"archived": 3}, {"pending": 3}, {"deleted": 3})


def test_aggregating_tasks_are_reached_through_their_group(web: TestClient, redis_url: str) -> None:
    async def grouped(client: aioredis.Redis) -> str:
        return await put_task(client, message(group_key="g"), TaskState.AGGREGATING, group="g")

    task_id = run_seed(redis_url, grouped)

    groups = web.get("/api/queues/default/groups").json()["groups"]
    listed = web.get("/api/queues/default/groups/g/aggregating_tasks").json()["tasks"]
    ran = web.post(f"/api/queues/default/groups/g/aggregating_tasks/{task_id}:run")

    assert groups == [{"group": "g", "size": 1}]
    assert [t["id"] for t in listed] == [task_id]
    assert ran.status_code == 204


def test_pause_resume_and_remove_a_queue(
    web: TestClient, redis_url: str, raw_redis: redis.Redis
) -> None:
    seed_pending(redis_url)

    assert web.post("/api/queues/default:pause").status_code == 204
    assert web.get("/api/queues/default").json()["current"]["paused"] is True
    assert web.post("/api/queues/default:pause").status_code == 400
    assert web.post("/api/queues/default:resume").status_code == 204
    assert web.delete("/api/queues/default").status_code == 400
    assert web.delete("/api/queues/default?force=true").status_code == 204
    assert raw_redis.keys("*") == []


def test_servers_schedulers_and_redis_info_answer(web: TestClient) -> None:
    assert web.get("/api/servers").json() == {"servers": []}
    assert web.get("/api/scheduler_entries").json() == {"entries": []}
    assert web.get("/api/scheduler_entries/e1/enqueue_events").json() == {"events": []}
    assert "redis_version" in web.get("/api/redis_info").json()["info"]


def test_actions_need_credentials_when_auth_is_configured(
    guarded: TestClient, redis_url: str
) -> None:
    seed_pending(redis_url)
    basic = base64.b64encode(b"ops:pw").decode()

    refused = guarded.post("/api/queues/default:pause")
    wrong = guarded.post("/api/queues/default:pause", headers={"Authorization": "Bearer nope"})
    by_token = guarded.post("/api/queues/default:pause", headers={"Authorization": "Bearer s3cret"})
    by_user = guarded.post(
        "/api/queues/default:resume", headers={"Authorization": f"Basic {basic}"}
    )

    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert (by_token.status_code, by_user.status_code) == (204, 204)
    assert guarded.get("/api/queues").status_code == 200


def test_the_page_and_its_static_files_are_served_without_a_cdn(web: TestClient) -> None:
    page = web.get("/")
    script = web.get("/static/app.js")
    style = web.get("/static/style.css")

    assert page.status_code == 200 and '<main id="view"' in page.text
    assert script.status_code == 200 and "function render" in script.text
    assert style.status_code == 200
    assert "http" not in page.text.replace("http-equiv", "")


def test_metrics_expose_asynq_exporter_names(
    web: TestClient, redis_url: str, raw_redis: redis.Redis
) -> None:
    seed_pending(redis_url)
    seed_pending(redis_url)
    raw_redis.set(keys.processed_total_key("default"), 9)
    raw_redis.set(keys.paused_key("default"), 1)

    text = web.get("/metrics").text

    assert 'asynq_tasks_enqueued_total{queue="default",state="pending"} 2.0' in text
    assert 'asynq_queue_size{queue="default"} 2.0' in text
    assert 'asynq_tasks_processed_total{queue="default"} 9.0' in text
    assert 'asynq_queue_paused_total{queue="default"} 1.0' in text
    assert "asynq_queue_latency_seconds{" in text
    assert "asynq_queue_memory_usage_approx_bytes{" in text
    assert 'asynq_tasks_failed_total{queue="default"} 0.0' in text


def test_active_tasks_carry_their_worker_times(web: TestClient, redis_url: str) -> None:
    now = int(time.time())

    async def running(client: aioredis.Redis) -> str:
        return await put_task(client, message(), TaskState.ACTIVE, score=now + 30)

    task_id = run_seed(redis_url, running)

    [task] = web.get("/api/queues/default/active_tasks").json()["tasks"]

    assert task["id"] == task_id
    assert (task["start_time"], task["deadline"], task["is_orphaned"]) == ("-", "-", False)


def test_batch_actions_report_which_tasks_worked(web: TestClient, redis_url: str) -> None:
    first, second = seed_pending(redis_url), seed_pending(redis_url)

    archived = web.post(
        "/api/queues/default/pending_tasks:batch_archive",
        json={"task_ids": [first, "missing"]},
    ).json()
    deleted = web.post(
        "/api/queues/default/pending_tasks:batch_delete", json={"task_ids": [second]}
    ).json()
    malformed = web.post("/api/queues/default/pending_tasks:batch_run", json={"ids": 1})

    assert archived == {"archived_ids": [first], "error_ids": ["missing"]}
    assert deleted == {"deleted_ids": [second], "failed_ids": []}
    assert malformed.status_code == 400


def test_cancel_all_publishes_every_running_task(web: TestClient, redis_url: str) -> None:
    now = int(time.time())

    async def running(client: aioredis.Redis) -> str:
        return await put_task(client, message(), TaskState.ACTIVE, score=now + 30)

    ids = {run_seed(redis_url, running) for _ in range(3)}

    async def cancel_and_listen(client: aioredis.Redis) -> set[str]:
        async with client.pubsub() as pubsub:
            await pubsub.subscribe(keys.CANCEL_CHANNEL)
            await pubsub.get_message(timeout=1)
            assert web.post("/api/queues/default/active_tasks:cancel_all").status_code == 204
            heard: set[str] = set()
            while len(heard) < len(ids) and (message_ := await pubsub.get_message(timeout=2)):
                heard.add(message_["data"].decode())
            return heard

    assert run_seed(redis_url, cancel_and_listen) == ids


def test_an_unreachable_redis_is_a_503_with_a_sentence() -> None:
    app = create_app(Inspector.from_url("redis://127.0.0.1:1/0"), auth=ActionAuth())
    with TestClient(app, base_url=BASE_URL) as client:
        answer = client.get("/api/queues")

    assert answer.status_code == 503
    assert "Redis" in answer.json()["error"]
