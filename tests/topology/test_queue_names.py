"""Queue names that would break a queue's hash tag are refused at enqueue and server start."""

from __future__ import annotations

import pytest

from asyncq.client import Client
from asyncq.errors import ConfigError
from asyncq.naming import checked_queue_name
from asyncq.server import Server
from asyncq.task import Task

BAD_NAMES = [
    ("{mail}", "brace"),
    ("mail}", "brace"),
    ("a{b", "brace"),
    (" mail", "whitespace"),
    ("mail\t", "whitespace"),
    ("  ", "blank"),
]


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES)
async def test_the_client_refuses_to_enqueue_into_a_bad_queue_name(
    redis_url: str, name: str, reason: str
) -> None:
    client = Client.from_url(redis_url)

    with pytest.raises(ConfigError, match=reason):
        await client.enqueue(Task("t"), queue=name)
    await client.close()


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES)
def test_a_server_serving_a_bad_queue_name_is_refused(
    redis_url: str, name: str, reason: str
) -> None:
    with pytest.raises(ConfigError, match=reason):
        Server.from_url(redis_url, queues={"default": 1, name: 1})


def test_the_refusal_says_why_braces_matter() -> None:
    with pytest.raises(ConfigError, match=r"hash tag .* one Redis Cluster slot"):
        checked_queue_name("{x}")


@pytest.mark.parametrize("name", ["default", "critical:emails", "low priority", "ünïcode-1"])
def test_ordinary_names_pass(name: str) -> None:
    assert checked_queue_name(name) == name
