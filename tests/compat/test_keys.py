"""Every key name that Go asynq v0.26.0 computed (``keys.json``), rebuilt by our key builders."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from asyncq.redis import keys
from asyncq.task import TaskState
from compat.scenario import COMPAT_DATA

KEYS = json.loads((COMPAT_DATA / "keys.json").read_text(encoding="utf-8"))

PER_QUEUE: dict[str, Callable[[str], str]] = {
    "prefix": keys.queue_prefix,
    "task_key_prefix": keys.task_key_prefix,
    "active": keys.active_key,
    "aggregation_sets": keys.aggregation_sets_key,
    "archived": keys.archived_key,
    "completed": keys.completed_key,
    "failed_total": keys.failed_total_key,
    "groups": keys.groups_key,
    "lease": keys.lease_key,
    "paused": keys.paused_key,
    "pending": keys.pending_key,
    "processed_total": keys.processed_total_key,
    "retry": keys.retry_key,
    "scheduled": keys.scheduled_key,
}


def names_of(entries: list[dict[str, Any]], *skip: str) -> list[tuple[dict[str, Any], str]]:
    return [(entry, name) for entry in entries for name in entry if name not in skip]


@pytest.mark.parametrize(("entry", "name"), names_of(KEYS["per_queue"], "queue"))
def test_per_queue_keys_match_go(entry: dict[str, Any], name: str) -> None:
    task_id = re.fullmatch(r"task_key\(id=(.+)\)", name)
    if task_id:
        assert keys.task_key(entry["queue"], task_id.group(1)) == entry[name]
    else:
        assert PER_QUEUE[name](entry["queue"]) == entry[name]


def payload_of(entry: dict[str, Any]) -> bytes:
    """The payload bytes; a large one is described rather than inlined."""
    if entry["payload_hex"] is not None:
        return bytes.fromhex(entry["payload_hex"])
    assert entry["payload_desc"] == "1024 bytes, byte i = i % 256"
    return bytes(i % 256 for i in range(1024))


@pytest.mark.parametrize("entry", KEYS["unique_keys"], ids=lambda e: e["key"])
def test_unique_keys_match_go_including_the_nil_payload(entry: dict[str, Any]) -> None:
    payload = None if entry["payload_is_nil"] else payload_of(entry)

    assert keys.unique_key(entry["queue"], entry["type"], payload) == entry["key"]


@pytest.mark.parametrize(("entry", "name"), names_of(KEYS["groups"], "queue", "group"))
def test_group_keys_match_go(entry: dict[str, Any], name: str) -> None:
    queue, group = entry["queue"], entry["group"]
    set_id = re.fullmatch(r"aggregation_set_key\(set_id=(.+)\)", name)
    builders: dict[str, Callable[[], str]] = {
        "group_key": lambda: keys.group_key(queue, group),
        "group_key_prefix": lambda: keys.group_key_prefix(queue),
        "all_groups_key": lambda: keys.groups_key(queue),
        "all_aggregation_sets_key": lambda: keys.aggregation_sets_key(queue),
    }
    if set_id:
        assert keys.aggregation_set_key(queue, group, set_id.group(1)) == entry[name]
    else:
        assert builders[name]() == entry[name]


@pytest.mark.parametrize("entry", KEYS["daily_stats"], ids=lambda e: f"{e['queue']}@{e['time']}")
def test_daily_stats_keys_use_the_utc_date_as_go_does(entry: dict[str, Any]) -> None:
    when = datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()

    assert keys.processed_key(entry["queue"], when) == entry["processed_key"]
    assert keys.failed_key(entry["queue"], when) == entry["failed_key"]


@pytest.mark.parametrize("entry", KEYS["servers"], ids=lambda e: e["host"])
def test_server_keys_match_go(entry: dict[str, Any]) -> None:
    host, pid, server_id = entry["host"], entry["pid"], entry["server_id"]

    assert keys.server_info_key(host, pid, server_id) == entry["server_info_key"]
    assert keys.workers_key(host, pid, server_id) == entry["workers_key"]


def test_scheduler_keys_match_go() -> None:
    (entries,) = KEYS["scheduler_entries"]
    (history,) = KEYS["scheduler_history"]

    assert keys.scheduler_entries_key(entries["scheduler_id"]) == entries["scheduler_entries_key"]
    assert keys.scheduler_history_key(history["entry_id"]) == history["scheduler_history_key"]


def test_global_keys_and_task_states_match_go() -> None:
    go = KEYS["globals"]

    assert (go["all_queues"], go["all_servers"]) == (keys.ALL_QUEUES, keys.ALL_SERVERS)
    assert (go["all_workers"], go["all_schedulers"]) == (keys.ALL_WORKERS, keys.ALL_SCHEDULERS)
    assert go["cancel_channel"] == keys.CANCEL_CHANNEL
    assert keys.pending_key(go["default_queue_name"]) == go["default_queue_pending_key"]
    assert [state.value for state in TaskState] == KEYS["task_states"]
