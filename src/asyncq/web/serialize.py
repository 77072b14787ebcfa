"""JSON shapes of the web API, using asynqmon's field names where they exist.

Payloads and results are sent as text when they are printable UTF-8 (``*_format`` says
``json`` when that text is JSON), otherwise as lower-case hex with format ``hex``; the
``*_base64`` fields always carry the exact bytes, as ``asyncq ... --json`` does.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

from asyncq.goformat import MILLISECOND, format_duration
from asyncq.inspection_types import (
    DailyStats,
    GroupInfo,
    QueueInfo,
    SchedulerEnqueueEvent,
    SchedulerEntryInfo,
    ServerInfo,
    WorkerInfo,
)
from asyncq.task import TaskInfo, TaskState


def rfc3339(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


def display_duration(value: timedelta) -> str:
    """A Go duration string rounded to 10 ms, as asynqmon's ``display_latency``."""
    hundredths = round(value.total_seconds() * 100)
    return format_duration(hundredths * 10 * MILLISECOND)


def blob(data: bytes) -> tuple[str, str]:
    """(text, format) of payload or result bytes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.hex(), "hex"
    if not all(ch.isprintable() or ch.isspace() for ch in text):
        return data.hex(), "hex"
    try:
        json.loads(text)
    except ValueError:
        return text, "text"
    return text, "json"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def snapshot(info: QueueInfo) -> dict[str, Any]:
    return {
        "queue": info.queue,
        "memory_usage_bytes": info.memory_usage,
        "size": info.size,
        "groups": info.groups,
        "latency_msec": int(info.latency.total_seconds() * 1000),
        "display_latency": display_duration(info.latency),
        "active": info.active,
        "pending": info.pending,
        "aggregating": info.aggregating,
        "scheduled": info.scheduled,
        "retry": info.retry,
        "archived": info.archived,
        "completed": info.completed,
        "processed": info.processed,
        "succeeded": info.processed - info.failed,
        "failed": info.failed,
        "processed_total": info.processed_total,
        "failed_total": info.failed_total,
        "paused": info.paused,
        "timestamp": rfc3339(info.timestamp),
    }


def daily(stats: DailyStats) -> dict[str, Any]:
    return {
        "queue": stats.queue,
        "processed": stats.processed,
        "succeeded": stats.succeeded,
        "failed": stats.failed,
        "date": stats.date.isoformat(),
    }


def task(info: TaskInfo, now: datetime) -> dict[str, Any]:
    """A task as list items and the detail page show it."""
    payload, payload_format = blob(info.payload)
    result, result_format = blob(info.result)
    ttl = None
    if info.state is TaskState.COMPLETED and info.completed_at:
        ttl = int((info.completed_at + info.retention - now).total_seconds())
    return {
        "id": info.id,
        "queue": info.queue,
        "type": info.type,
        "payload": payload,
        "payload_format": payload_format,
        "payload_base64": b64(info.payload),
        "headers": dict(info.headers),
        "state": info.state.value,
        "max_retry": info.max_retry,
        "retried": info.retried,
        "error_message": info.last_err,
        "last_failed_at": rfc3339(info.last_failed_at),
        "timeout_seconds": int(info.timeout.total_seconds()),
        "deadline": rfc3339(info.deadline),
        "group": info.group,
        "next_process_at": rfc3339(info.next_process_at),
        "completed_at": rfc3339(info.completed_at),
        "result": result,
        "result_format": result_format,
        "result_base64": b64(info.result),
        "ttl_seconds": ttl,
        "is_orphaned": info.is_orphaned,
    }


def group(info: GroupInfo) -> dict[str, Any]:
    return {"group": info.group, "size": info.size}


def worker(info: WorkerInfo) -> dict[str, Any]:
    payload, payload_format = blob(info.task_payload)
    return {
        "task_id": info.task_id,
        "queue": info.queue,
        "task_type": info.task_type,
        "task_payload": payload,
        "payload_format": payload_format,
        "task_payload_base64": b64(info.task_payload),
        "start_time": rfc3339(info.started),
        "deadline": rfc3339(info.deadline),
    }


def server(info: ServerInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "host": info.host,
        "pid": info.pid,
        "concurrency": info.concurrency,
        "queue_priorities": dict(info.queues),
        "strict_priority_enabled": info.strict_priority,
        "start_time": rfc3339(info.started),
        "status": info.status,
        "active_workers": [worker(w) for w in info.active_workers],
    }


def entry(info: SchedulerEntryInfo) -> dict[str, Any]:
    payload, payload_format = blob(info.task_payload)
    shaped = {
        "id": info.id,
        "spec": info.spec,
        "task_type": info.task_type,
        "task_payload": payload,
        "payload_format": payload_format,
        "task_payload_base64": b64(info.task_payload),
        "options": list(info.options),
        "next_enqueue_at": rfc3339(info.next_enqueue),
    }
    if info.prev_enqueue:
        shaped["prev_enqueue_at"] = rfc3339(info.prev_enqueue)
    return shaped


def event(info: SchedulerEnqueueEvent) -> dict[str, Any]:
    return {"task_id": info.task_id, "enqueued_at": rfc3339(info.enqueued_at)}
