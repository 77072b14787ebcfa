"""The pages as a browser renders them: headless Chromium against a real ``asyncq web``."""

from __future__ import annotations

import html
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from inspector.seeding import message, put_task, run_seed

from asyncq.task import TaskState
from web.client import serve

BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=3000", "--window-size=1400,900", "--dump-dom",
]  # fmt: skip


def rendered(url: str) -> str:
    """The page's DOM once its script has run, as text without tags' escaping."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is needed to render the web UI's pages."
    done = subprocess.run(
        [browser, *BROWSER_FLAGS, url], capture_output=True, text=True, timeout=60, check=True
    )
    return html.unescape(done.stdout)


async def seed(client: aioredis.Redis) -> None:
    """A completed task 55 minutes from expiry and a pending one with a 30-minute timeout."""
    now = int(time.time())
    done = message(id="done-1", retention=3600, completed_at=now - 270)
    await put_task(client, done, TaskState.COMPLETED, score=now + 3330)
    await put_task(client, message(id="order/42", timeout=1800), TaskState.PENDING)


@pytest.fixture
def base(redis_url: str) -> Iterator[str]:
    run_seed(redis_url, seed)
    with serve(redis_url) as (url, _):
        yield url


@pytest.mark.browser
def test_pages_show_every_state_readable_times_and_redis_policy(base: str) -> None:
    dashboard = rendered(f"{base}/")
    completed = rendered(f"{base}/#/queues/default?state=completed")
    task = rendered(f"{base}/#/queues/default/tasks/order%2F42")
    redis_page = rendered(f"{base}/#/redis")

    assert ">Aggregating</th>" in dashboard
    assert 'data-act="pause" data-q="default"' in dashboard
    assert 'data-act="remove" data-q="default"' in dashboard
    assert "in 55m" in completed and "3330s" not in completed
    assert "order/42" in task and ">30m<" in task and "1800s" not in task
    assert "Eviction policy" in redis_page and "maxmemory_policy" in redis_page
