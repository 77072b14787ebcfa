"""The heartbeat: publishes the server and its running tasks, and renews their leases.

Every interval it writes the ServerInfo and one WorkerInfo per running task with a TTL
of two intervals (so ``asynq server ls`` and asynqmon see a live server), extends the
leases still held, and stops tasks whose lease ran out. At shutdown it removes the
server's records.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from asyncq.broker import Broker
from asyncq.proto import ServerInfo, WorkerInfo
from asyncq.worker.component import PeriodicComponent
from asyncq.worker.execution import Execution


@dataclass(frozen=True, slots=True)
class ServerIdentity:
    host: str
    pid: int
    server_id: str
    concurrency: int
    queues: Mapping[str, int]
    strict_priority: bool


@dataclass(frozen=True, slots=True)
class HeartbeatParams:
    broker: Broker
    identity: ServerIdentity
    running: Mapping[str, Execution]
    status: Callable[[], str]
    lose_lease: Callable[[Execution], None]
    interval: float = 5.0


class Heartbeat(PeriodicComponent):
    """Writes server state and extends leases every interval, starting at once."""

    name = "heartbeat"

    def __init__(self, params: HeartbeatParams) -> None:
        super().__init__(params.interval, run_first=True)
        self._broker = params.broker
        self._identity = params.identity
        self._running = params.running
        self._status = params.status
        self._lose_lease = params.lose_lease
        self._started_at = params.broker.clock.now()
        self.ttl = max(1, math.ceil(2 * params.interval))

    async def step(self) -> None:
        executions = list(self._running.values())
        workers = [self._worker_info(ex) for ex in executions]
        await self._broker.write_server_state(self._server_info(len(executions)), workers, self.ttl)
        await self._extend_leases(executions)

    async def shutdown(self) -> None:
        await super().shutdown()
        ident = self._identity
        await self._broker.clear_server_state(ident.host, ident.pid, ident.server_id)

    async def _extend_leases(self, executions: list[Execution]) -> None:
        now = self._broker.clock.now()
        by_queue: dict[str, list[Execution]] = {}
        for ex in executions:
            if ex.lease_valid(now):
                by_queue.setdefault(ex.msg.queue, []).append(ex)
            else:
                self._lose_lease(ex)
        for queue, held in by_queue.items():
            expires_at = await self._broker.extend_leases(queue, [ex.msg.id for ex in held])
            for ex in held:
                ex.lease_expires_at = expires_at

    def _server_info(self, active: int) -> ServerInfo:
        ident = self._identity
        info = ServerInfo(
            host=ident.host,
            pid=ident.pid,
            server_id=ident.server_id,
            concurrency=ident.concurrency,
            queues=dict(ident.queues),
            strict_priority=ident.strict_priority,
            status=self._status(),
            active_worker_count=active,
        )
        info.start_time.FromNanoseconds(int(self._started_at * 1e9))
        return info

    def _worker_info(self, ex: Execution) -> WorkerInfo:
        ident = self._identity
        msg = ex.msg
        info = WorkerInfo(
            host=ident.host,
            pid=ident.pid,
            server_id=ident.server_id,
            task_id=msg.id,
            task_type=msg.type,
            task_payload=msg.payload,
            queue=msg.queue,
        )
        info.start_time.FromNanoseconds(int(ex.started_at * 1e9))
        info.deadline.FromNanoseconds(int(ex.deadline * 1e9))
        return info
