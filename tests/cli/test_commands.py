"""The command line against real Redis: what an operator types and reads."""

from __future__ import annotations

import json
import time

import redis
from inspector.seeding import pending

from asyncq.redis import keys
from cli.runner import Cli


def test_queue_ls_lists_every_queue(cli: Cli) -> None:
    cli.seed(pending("critical"))
    cli.seed(pending("low"))

    result = cli("queue", "ls")

    assert result.exit_code == 0
    assert result.stdout.split() == ["critical", "low"]


def test_queue_inspect_shows_sizes_and_json_has_every_field(cli: Cli) -> None:
    cli.seed(pending())
    cli.seed(pending())

    shown = cli("queue", "inspect", "default")
    as_json = cli("queue", "inspect", "default", "--json")

    assert shown.exit_code == 0
    assert "Queue default" in shown.stdout and "running" in shown.stdout
    [info] = json.loads(as_json.stdout)
    assert (info["queue"], info["pending"], info["size"], info["paused"]) == (
        "default",
        2,
        2,
        False,
    )


def test_unknown_queue_is_one_line_on_stderr_with_exit_code_1(cli: Cli) -> None:
    result = cli("queue", "inspect", "nope")

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        'Error: Queue "nope" does not exist; the known queues are listed by Inspector.queues() '
        "or `asyncq queue ls`."
    ]
    assert "Traceback" not in result.output


def test_unreachable_redis_is_a_clear_error(cli: Cli) -> None:
    result = cli("queue", "ls", url="redis://127.0.0.1:1/0")

    assert result.exit_code == 1
    assert "Error:" in result.stderr
    assert "Traceback" not in result.output


def test_pause_and_unpause_flip_the_flag(cli: Cli, raw_redis: redis.Redis) -> None:
    cli.seed(pending())

    paused = cli("queue", "pause", "default")
    again = cli("queue", "pause", "default")

    assert paused.exit_code == 0 and 'Paused queue "default"' in paused.stdout
    assert raw_redis.exists(keys.paused_key("default"))
    assert again.exit_code == 1 and "already paused" in again.stderr
    assert cli("queue", "unpause", "default").exit_code == 0
    assert not raw_redis.exists(keys.paused_key("default"))


def test_queue_rm_needs_force_for_a_queue_with_work(cli: Cli, raw_redis: redis.Redis) -> None:
    cli.seed(pending())

    refused = cli("queue", "rm", "default")
    forced = cli("queue", "rm", "default", "--force")

    assert refused.exit_code == 1 and "still holds tasks" in refused.stderr
    assert forced.exit_code == 0
    assert raw_redis.keys("*") == []


def test_queue_history_reads_daily_counters(cli: Cli, raw_redis: redis.Redis) -> None:
    cli.seed(pending())
    raw_redis.set(keys.processed_key("default", time.time()), 4)
    raw_redis.set(keys.failed_key("default", time.time()), 1)

    result = cli("queue", "history", "default", "--days", "2", "--json")

    days = json.loads(result.stdout)["default"]
    assert [(d["processed"], d["failed"]) for d in days] == [(4, 1), (0, 0)]


def test_task_ls_inspect_and_delete(cli: Cli, raw_redis: redis.Redis) -> None:
    task_id = cli.seed(pending(payload=b'{"n":1}'))

    listed = cli("task", "ls", "--queue", "default", "--state", "pending")
    shown = cli("task", "inspect", "-q", "default", "-i", task_id, "--json")
    deleted = cli("task", "delete", "-q", "default", "-i", task_id)

    assert task_id in listed.stdout and '{"n":1}' in listed.stdout
    assert json.loads(shown.stdout)["payload"] == '{"n":1}'
    assert deleted.exit_code == 0
    assert not raw_redis.exists(keys.task_key("default", task_id))


def test_task_archive_run_and_the_all_variants(cli: Cli, raw_redis: redis.Redis) -> None:
    first = cli.seed(pending())
    cli.seed(pending())

    assert cli("task", "archive", "-q", "default", "-i", first).exit_code == 0
    assert cli("task", "run", "-q", "default", "-i", first).exit_code == 0
    archived = cli("task", "archiveall", "-q", "default", "-s", "pending")
    ran = cli("task", "runall", "-q", "default", "-s", "archived")
    deleted = cli("task", "deleteall", "-q", "default", "-s", "pending")

    assert "2 pending task(s) archived." in archived.stdout
    assert "2 archived task(s) are now pending." in ran.stdout
    assert "2 pending task(s) deleted." in deleted.stdout
    assert raw_redis.keys("asynq:{default}:*") == []


def test_task_ls_rejects_an_unknown_state(cli: Cli) -> None:
    result = cli("task", "ls", "-q", "default", "-s", "done")

    assert result.exit_code == 2
    assert "done" in result.output


def test_task_cancel_reports_how_many_servers_heard(cli: Cli) -> None:
    result = cli("task", "cancel", "abc")

    assert result.exit_code == 0
    assert 'Sent cancellation for task "abc" to 0 listening server(s).' in result.stdout


def test_stats_json_has_asynq_shape(cli: Cli) -> None:
    cli.seed(pending())
    cli.seed(pending("low"))

    result = cli("stats", "--json")

    data = json.loads(result.stdout)
    assert data["aggregate"]["pending"] == 2
    assert sorted(q["Queue"] for q in data["queues"]) == ["default", "low"]
    assert "redis_version" in data["redis"]
    assert cli("stats").exit_code == 0


def test_group_server_and_cron_listings_work_on_an_empty_redis(cli: Cli) -> None:
    cli.seed(pending())

    assert "has no group" in cli("group", "ls", "-q", "default").stdout
    assert "No server is running." in cli("server", "ls").stdout
    assert "No scheduler entry" in cli("cron", "ls").stdout
    assert cli("cron", "history", "e1", "--json").exit_code == 1


def test_asynq_spellings_of_the_commands_work(cli: Cli, raw_redis: redis.Redis) -> None:
    task_id = cli.seed(pending())

    listed = cli("queue", "list")
    resumed = cli("queue", "resume", "default")
    removed = cli("task", "rm", "-q", "default", "-i", task_id)

    assert listed.stdout.split() == ["default"]
    assert resumed.exit_code == 1 and "is not paused" in resumed.stderr
    assert removed.exit_code == 0
    assert not raw_redis.exists(keys.task_key("default", task_id))
