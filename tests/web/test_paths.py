"""Names with any character in API paths, and the bounds of page and size."""

from __future__ import annotations

from urllib.parse import quote

import redis
from inspector.seeding import pending, run_seed
from starlette.testclient import TestClient

from asyncq.redis import keys

QUEUE = "weird name/with%chars"
TASK_ID = "order/42"


def test_queues_and_task_ids_with_slash_and_percent_are_reachable(
    web: TestClient, redis_url: str, raw_redis: redis.Redis
) -> None:
    run_seed(redis_url, pending(QUEUE, id=TASK_ID))
    queue = quote(QUEUE, safe="")
    task = quote(TASK_ID, safe="")

    detail = web.get(f"/api/queues/{queue}")
    listed = web.get(f"/api/queues/{queue}/pending_tasks")
    shown = web.get(f"/api/queues/{queue}/tasks/{task}")
    archived = web.post(f"/api/queues/{queue}/pending_tasks/{task}:archive")
    paused = web.post(f"/api/queues/{queue}:pause")

    assert detail.json()["current"]["queue"] == QUEUE
    assert [t["id"] for t in listed.json()["tasks"]] == [TASK_ID]
    assert (shown.json()["id"], shown.json()["queue"]) == (TASK_ID, QUEUE)
    assert (archived.status_code, paused.status_code) == (204, 204)
    assert raw_redis.zscore(keys.archived_key(QUEUE), TASK_ID) is not None


def test_a_page_size_above_the_cap_is_refused_with_the_cap(web: TestClient, redis_url: str) -> None:
    run_seed(redis_url, pending())

    huge = web.get("/api/queues/default/pending_tasks?size=100000")
    largest = web.get("/api/queues/default/pending_tasks?size=1000")

    assert huge.status_code == 400
    assert "between 1 and 1000" in huge.json()["error"]
    assert len(largest.json()["tasks"]) == 1


def test_a_huge_or_malformed_page_number_is_a_400(web: TestClient, redis_url: str) -> None:
    run_seed(redis_url, pending())

    huge = web.get("/api/queues/default/pending_tasks?page=99999999999999999999")
    events = web.get("/api/scheduler_entries/e1/enqueue_events?page=99999999999999999999")
    words = web.get("/api/queues/default/pending_tasks?page=two")

    assert (huge.status_code, events.status_code, words.status_code) == (400, 400, 400)
    assert "beyond any queue" in huge.json()["error"]
    assert '"page" must be a whole number' in words.json()["error"]
