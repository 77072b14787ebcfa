"""What scripts and operators read: version, JSON of binary data, table width, warnings."""

from __future__ import annotations

import base64
import json

import redis
from inspector.seeding import pending

from asyncq.proto import SchedulerEnqueueEvent
from asyncq.redis import keys
from cli.runner import Cli

BINARY = b"\xff\x00\x01binary"


def test_version_is_printed(cli: Cli) -> None:
    result = cli("--version")

    assert result.exit_code == 0
    assert result.stdout.startswith("asyncq ")


def test_json_keeps_binary_payloads_intact(cli: Cli) -> None:
    task_id = cli.seed(pending(payload=BINARY))
    text_id = cli.seed(pending(payload=b'{"n":1}'))

    [binary, text] = json.loads(
        cli("task", "ls", "-q", "default", "-s", "pending", "--json").stdout
    )
    shown = json.loads(cli("task", "inspect", "-q", "default", "-i", task_id, "--json").stdout)

    assert (binary["id"], text["id"]) == (task_id, text_id)
    assert binary["payload"] is None
    assert base64.b64decode(binary["payload_base64"]) == BINARY
    assert text["payload"] == '{"n":1}'
    assert base64.b64decode(text["payload_base64"]) == b'{"n":1}'
    assert base64.b64decode(shown["payload_base64"]) == BINARY


def test_tables_in_a_pipe_keep_each_row_on_one_line(cli: Cli) -> None:
    long_type = "reports:generate-monthly-invoice-summary"
    ids = [cli.seed(pending(type=long_type, payload=b'{"customer_id": 123456}')) for _ in range(2)]

    lines = cli("task", "ls", "-q", "default", "-s", "pending").stdout.splitlines()

    rows = [line for line in lines if long_type in line]
    assert len(rows) == 2
    assert all(task_id in row for task_id, row in zip(ids, rows, strict=True))


def test_a_page_size_above_the_cap_is_one_line(cli: Cli) -> None:
    cli.seed(pending())

    too_big = cli("task", "ls", "-q", "default", "-s", "pending", "--size", "100000")
    too_far = cli("task", "ls", "-q", "default", "-s", "pending", "--page", "99999999999999999999")

    assert too_big.exit_code == 1
    assert too_big.stderr.strip().splitlines() == [
        "Error: The page size must be between 1 and 1000; 100000 was given."
    ]
    assert too_far.exit_code == 1
    assert len(too_far.stderr.strip().splitlines()) == 1
    assert "beyond any queue" in too_far.stderr


def test_cron_history_of_an_unknown_entry_is_an_error(cli: Cli) -> None:
    result = cli("cron", "history", "nosuch")
    as_json = cli("cron", "history", "nosuch", "--json")

    assert result.exit_code == 1
    assert "No scheduler entry or enqueue history found for nosuch" in result.stderr
    assert as_json.exit_code == 1 and as_json.stdout == ""


def test_cron_history_of_a_recorded_entry_lists_its_tasks(cli: Cli, raw_redis: redis.Redis) -> None:
    event = SchedulerEnqueueEvent(task_id="t-1")
    event.enqueue_time.FromSeconds(1_700_000_000)
    raw_redis.zadd(keys.scheduler_history_key("e1"), {event.SerializeToString(): 1_700_000_000})

    result = cli("cron", "history", "e1")

    assert result.exit_code == 0
    assert "Entry e1" in result.stdout and "t-1" in result.stdout


def test_pausing_an_unregistered_queue_warns_but_pauses(cli: Cli, raw_redis: redis.Redis) -> None:
    cli.seed(pending())

    unknown = cli("queue", "pause", "defualt")
    known = cli("queue", "pause", "default")

    assert unknown.exit_code == 0
    assert 'Warning: Queue "defualt" is not registered' in unknown.stderr
    assert raw_redis.exists(keys.paused_key("defualt"))
    assert known.exit_code == 0 and "Warning" not in known.stderr
