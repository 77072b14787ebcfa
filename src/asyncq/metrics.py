"""Prometheus metrics of every queue, under the names of asynq's ``x/metrics`` exporter.

Dashboards built for Go asynq's exporter work unchanged:

=========================================  =======  ===============  ======================
metric                                     type     labels           value
=========================================  =======  ===============  ======================
``asynq_tasks_enqueued_total``             gauge    queue, state     tasks in each state
``asynq_queue_size``                       gauge    queue            tasks in any state
``asynq_queue_latency_seconds``            gauge    queue            oldest pending's wait
``asynq_queue_memory_usage_approx_bytes``  gauge    queue            sampled estimate
``asynq_tasks_processed_total``            counter  queue            processed, all time
``asynq_tasks_failed_total``               counter  queue            failed, all time
``asynq_queue_paused_total``               gauge    queue            1 when paused
=========================================  =======  ===============  ======================

As in asynq, ``aggregating`` tasks are not broken out by state. The inspector is async and
Prometheus collectors are not, so :func:`render` reads every queue first and hands the
snapshot to a :class:`QueueCollector` in a registry of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from asyncq.inspection_types import QueueInfo
from asyncq.inspector import Inspector
from asyncq.task import TaskState

EXPORTED_STATES = tuple(s for s in TaskState if s is not TaskState.AGGREGATING)


class QueueCollector(Collector):
    """Metric families for a snapshot of queue infos."""

    def __init__(self, infos: Sequence[QueueInfo]) -> None:
        self.infos = list(infos)

    def collect(self) -> Iterator[Metric]:
        by_state = GaugeMetricFamily(
            "asynq_tasks_enqueued_total",
            "Number of tasks enqueued; broken down by queue and state.",
            labels=["queue", "state"],
        )
        for info in self.infos:
            for state in EXPORTED_STATES:
                by_state.add_metric([info.queue, state.value], info.count(state))
        yield by_state

        yield self._per_queue(
            GaugeMetricFamily, "asynq_queue_size", "Number of tasks in a queue.", lambda i: i.size
        )
        yield self._per_queue(
            GaugeMetricFamily,
            "asynq_queue_latency_seconds",
            "Number of seconds the oldest pending task is waiting.",
            lambda i: i.latency.total_seconds(),
        )
        yield self._per_queue(
            GaugeMetricFamily,
            "asynq_queue_memory_usage_approx_bytes",
            "Number of memory used by a given queue (approximated).",
            lambda i: i.memory_usage,
        )
        yield self._per_queue(
            CounterMetricFamily,
            "asynq_tasks_processed_total",
            "Number of processed tasks (both succeeded and failed).",
            lambda i: i.processed_total,
        )
        yield self._per_queue(
            CounterMetricFamily,
            "asynq_tasks_failed_total",
            "Number of failed tasks.",
            lambda i: i.failed_total,
        )
        yield self._per_queue(GaugeMetricFamily, "asynq_queue_paused_total",
                              "Number of queues paused.", lambda i: int(i.paused))  # fmt: skip

    def _per_queue(
        self,
        family: type[GaugeMetricFamily] | type[CounterMetricFamily],
        name: str,
        documentation: str,
        value: Callable[[QueueInfo], float],
    ) -> Metric:
        metric = family(name, documentation, labels=["queue"])
        for info in self.infos:
            metric.add_metric([info.queue], value(info))
        return metric


async def render(inspector: Inspector) -> bytes:
    """The Prometheus text exposition of every queue, read now."""
    infos = [await inspector.queue_info(q) for q in await inspector.queues()]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(infos))
    return generate_latest(registry)


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics`` of the web app."""
    body = await render(request.app.state.inspector)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
