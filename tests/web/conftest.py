"""A web app over an inspector on the suite's private Redis, driven by Starlette's client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from starlette.testclient import TestClient

from asyncq.inspector import Inspector
from asyncq.web.app import create_app
from asyncq.web.auth import ActionAuth
from web.client import BASE_URL


@pytest.fixture
def web(redis_url: str, raw_redis: redis.Redis) -> Iterator[TestClient]:
    """The app with open actions; its inspector connects inside the client's event loop."""
    app = create_app(Inspector.from_url(redis_url), auth=ActionAuth())
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def guarded(redis_url: str, raw_redis: redis.Redis) -> Iterator[TestClient]:
    """The app with actions behind a bearer token and a basic-auth user."""
    auth = ActionAuth(token="s3cret", user="ops", password="pw")
    app = create_app(Inspector.from_url(redis_url), auth=auth)
    with TestClient(app, base_url=BASE_URL) as client:
        yield client
