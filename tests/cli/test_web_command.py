"""``asyncq web``: start-up checks, the start-up line, and the real server end to end."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from inspector.seeding import pending
from web.client import free_port, serve

from cli.runner import Cli


def test_a_port_out_of_range_is_one_line(cli: Cli) -> None:
    result = cli("web", "--port", "70000")

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: The port must be between 1 and 65535; 70000 was given."
    ]


def test_a_port_in_use_fails_before_saying_serving(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = cli("web", "--port", str(taken.getsockname()[1]))

    assert result.exit_code == 1
    assert "Serving" not in result.stdout
    assert "Address already in use" in result.stderr


def test_a_password_alone_refuses_to_start(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCQ_WEB_PASSWORD", "pw")

    result = cli("web", "--port", str(free_port()))

    assert result.exit_code == 1
    assert "ASYNCQ_WEB_USER is not" in result.stderr
    assert "Serving" not in result.stdout


def test_open_actions_on_a_public_address_need_an_explicit_flag(cli: Cli) -> None:
    result = cli("web", "--host", "0.0.0.0", "--port", str(free_port()))

    assert result.exit_code == 1
    assert "--allow-open-actions" in result.stderr
    assert "Serving" not in result.stdout


@pytest.fixture
def served(redis_url: str) -> Iterator[tuple[str, str]]:
    """A real ``asyncq web`` process with a token; yields its base URL and first line."""
    with serve(redis_url, ASYNCQ_WEB_TOKEN="s3cret", COLUMNS="200") as found:
        yield found


def test_the_server_says_actions_are_protected_and_serves_odd_names(
    cli: Cli, served: tuple[str, str]
) -> None:
    cli.seed(pending("weird name/with%chars", id="order/42"))
    base, first_line = served
    task_url = f"{base}/api/queues/{quote('weird name/with%chars', safe='')}/tasks/order%2F42"

    shown = httpx.get(task_url)
    forged = httpx.post(
        f"{base}/api/queues/default:pause",
        headers={"Origin": "http://evil.example", "Authorization": "Bearer s3cret"},
    )

    assert "actions need a bearer token (ASYNCQ_WEB_TOKEN)" in first_line
    assert shown.json()["id"] == "order/42"
    assert forged.status_code == 403
