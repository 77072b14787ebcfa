"""The Scheduler: enqueue tasks on cron specs, each tick exactly once across any number of
schedulers.

Run one scheduler per worker replica and scheduling survives the loss of any replica. What
keeps them from enqueuing a tick twice is one Lua script (``schedule_fire.lua``) that, in
one atomic step, checks the entry's durable record of the newest handled tick, raises it
and enqueues the task. Taking a lock and enqueuing are never two steps, so a scheduler
paused (or slowed by Redis) between them cannot lose or duplicate a tick. Because the
record is monotonic and never expires, nothing depends on a lock TTL outliving a pause:
a scheduler that wakes after any pause finds its tick already handled. Ticks are whole
Unix seconds computed from the spec alone (``@every`` is aligned to the epoch), so every
scheduler names a fire time the same way. The script compares a tick with Redis ``TIME``,
never with the local clock, and refuses to fire one that lags by more than
``max_lateness``; such a tick counts as missed. All its keys share the task's queue hash
tag, so it runs on Redis Cluster too.

The same record answers "when did this entry last fire" after an outage: at start-up
(and after a long pause) a scheduler counts the ticks missed while no scheduler ran,
logs the count, and applies the entry's policy: ``skip`` (asynq's behaviour, the default)
or ``run_once``. The policy is applied once, by whichever scheduler raises the record. When
a tick is due at that moment it runs as usual, and the older misses are skipped even with
``run_once``, so an outage never yields two runs back to back.

Entry IDs are derived from spec, location, task and options, so all schedulers agree on
them. Entries are published for asynq's CLI and web UI by one scheduler at a time, the
holder of a renewable lease, so ``asynq cron ls`` lists each entry once; losing the lease
never affects firing. History events are written by the scheduler that fired the tick.
A scheduler that stops clears the history only when no other scheduler is alive.

Hooks: ``pre_enqueue(task, options)`` runs in every scheduler that attempts a tick, before
the attempt; ``post_enqueue(info, error)`` runs only in the scheduler that handled it, on
every handled tick, also when the task was refused (for example because its fixed task
ID still exists): such ticks are logged as warnings, never dropped silently.

Go asynq schedulers know nothing of the fire record: run beside asyncq schedulers, they
still enqueue every tick of their own entries themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import redis.asyncio as aioredis

from asyncq import cron, goformat
from asyncq.clock import SYSTEM_CLOCK, Clock
from asyncq.errors import (
    AsyncqError,
    BrokerError,
    ConfigError,
    DuplicateTaskError,
    SchedulerError,
    TaskIDConflictError,
)
from asyncq.preparation import Prepared, prepare
from asyncq.proto import SchedulerEntry
from asyncq.redis.connection import RedisConfig, connect
from asyncq.redis.schedule_store import (
    FireMode,
    FireOutcome,
    FireRequest,
    FireResult,
    ScheduleStore,
)
from asyncq.redis.scripts import redis_errors_translated
from asyncq.task import (
    DEFAULT_QUEUE,
    Task,
    TaskInfo,
    TaskOptions,
)

logger = logging.getLogger("asyncq.scheduler")

MissedPolicy = Literal["skip", "run_once"]
PreEnqueue = Callable[[Task, TaskOptions], Awaitable[None] | None]
PostEnqueue = Callable[[TaskInfo | None, AsyncqError | None], Awaitable[None] | None]

GO_ZERO_TIME_SECONDS = -62135596800
_ENTRY_NAMESPACE = uuid.UUID("6f1c1f0e-3b1e-4d4b-9a57-2a8f4f6b1c0d")
_MAX_COUNTED_MISSES = 10_000
_RETRY_DELAY = 0.5
_LAG_WARNING_INTERVAL = 60.0


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """How a scheduler runs. Every field has a default; unset means the default.

    heartbeat_interval: seconds between heartbeats, which publish the entries (default 10).
        Entries live twice this long in Redis.
    location: time zone of cron specs without a ``CRON_TZ=`` prefix (default UTC).
    publisher_lease_ttl: seconds the publisher lease lasts without renewal
        (default twice the heartbeat interval, at least the entries' lifetime).
    max_lateness: seconds a tick may lag Redis time and still be fired; a later tick is
        missed (default 60).
    missed: default missed-run policy of entries, ``"skip"`` or ``"run_once"``.
    pre_enqueue / post_enqueue: hooks, sync or async (see the module docstring).
    clock: the clock read for fire times (default the system clock).
    """

    heartbeat_interval: float = 10.0
    location: str = "UTC"
    publisher_lease_ttl: float | None = None
    max_lateness: float = 60.0
    missed: MissedPolicy = "skip"
    pre_enqueue: PreEnqueue | None = None
    post_enqueue: PostEnqueue | None = None
    clock: Clock = SYSTEM_CLOCK

    def __post_init__(self) -> None:
        if self.heartbeat_interval <= 0:
            raise ConfigError("heartbeat_interval must be positive, in seconds; the default is 10.")
        if self.max_lateness < 1:
            raise ConfigError("max_lateness must be at least 1 second; the default is 60.")
        if self.missed not in ("skip", "run_once"):
            raise ConfigError(f"missed must be 'skip' or 'run_once', got {self.missed!r}.")
        cron.load_zone(self.location)

    @property
    def lease_ttl(self) -> float:
        """By default no shorter than the entries list, so two lists never overlap."""
        return self.publisher_lease_ttl or max(2 * self.heartbeat_interval, self.entries_ttl)

    @property
    def entries_ttl(self) -> int:
        """Whole seconds, since Redis EXPIRE takes no fraction."""
        return max(1, round(2 * self.heartbeat_interval))


@dataclass(slots=True)
class Entry:
    """One registered cron entry."""

    id: str
    spec: str
    schedule: cron.Schedule
    task: Task
    call_options: TaskOptions
    """The options given to ``register``; the task's own options come first."""
    option_strings: list[str]
    missed: MissedPolicy
    runner: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def options(self) -> TaskOptions:
        return self.task.options.merged(self.call_options)

    @property
    def queue(self) -> str:
        return self.options.queue or DEFAULT_QUEUE


def entry_id(spec: str, location: str, task: Task, option_strings: list[str]) -> str:
    """The deterministic ID of an entry: a name-based UUID of everything that defines it.

    ``location`` is the zone the spec is evaluated in (its ``CRON_TZ=`` prefix or the
    scheduler's location), so schedulers with different defaults agree when a prefix is given.
    """
    parts = [
        spec,
        location,
        task.type,
        "nil" if task.payload is None else task.payload.hex(),
        json.dumps(dict(task.headers), sort_keys=True),
        *sorted(option_strings),
    ]
    return str(uuid.uuid5(_ENTRY_NAMESPACE, "\x00".join(parts)))


class Scheduler:
    """Enqueues registered tasks when their cron specs fire; see the module docstring."""

    def __init__(
        self,
        redis: aioredis.Redis | RedisConfig | str,
        config: SchedulerConfig | None = None,
    ) -> None:
        self.config = config or SchedulerConfig()
        self._owns_client = isinstance(redis, (str, RedisConfig))
        self._client = connect(redis) if isinstance(redis, (str, RedisConfig)) else redis
        self.store = ScheduleStore(self._client)
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4()}"
        self._zone = cron.load_zone(self.config.location)
        self._entries: dict[str, Entry] = {}
        self._stopping = asyncio.Event()
        self._heartbeat: asyncio.Task[None] | None = None
        self._publishing = False
        self._lag_warned_at = -_LAG_WARNING_INTERVAL

    # --- entries -----------------------------------------------------------------------

    def register(
        self, spec: str, task: Task, *, missed: MissedPolicy | None = None, **options: Any
    ) -> str:
        """Add an entry and return its ID; the same spec, task and options give the same ID."""
        if not task.type.strip():
            raise SchedulerError("Cannot register a task whose type is blank; give it a type.")
        schedule = cron.parse(spec, self._zone)
        call_options = TaskOptions.of(options)
        prepare(task, call_options, self.config.clock.now())

        option_strings = goformat.options_strings(options)
        all_strings = [*goformat.options_strings(dict(task.options.given())), *option_strings]
        new_id = entry_id(spec, schedule.location.key, task, all_strings)
        if new_id in self._entries:
            return new_id

        entry = Entry(
            new_id, spec, schedule, task, call_options, option_strings, missed or self.config.missed
        )
        self._entries[new_id] = entry
        if self._heartbeat is not None:
            entry.runner = asyncio.create_task(self._run_entry(entry))
        logger.debug("Registered entry entry_id=%s spec=%r type=%s.", new_id, spec, task.type)
        return new_id

    def unregister(self, entry_id: str) -> None:
        """Remove an entry; its current fire, if any, completes."""
        entry = self._entries.pop(entry_id, None)
        if entry is None:
            raise SchedulerError(f"No scheduler entry found with entry_id={entry_id}.")
        if entry.runner is not None:
            entry.runner.cancel()
        logger.debug("Unregistered entry entry_id=%s.", entry_id)

    @property
    def entry_ids(self) -> list[str]:
        return list(self._entries)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the heartbeat and one loop per entry; returns at once."""
        if self._heartbeat is not None:
            raise SchedulerError(f"Scheduler scheduler_id={self.id} is already running.")
        logger.debug("Starting scheduler scheduler_id=%s…", self.id)
        self._stopping.clear()
        self._heartbeat = asyncio.create_task(self._heartbeat_loop())
        for entry in self._entries.values():
            entry.runner = asyncio.create_task(self._run_entry(entry))
        logger.info(
            "Started scheduler scheduler_id=%s with %d entries.", self.id, len(self._entries)
        )

    async def shutdown(self) -> None:
        """Stop firing, withdraw the published entries, and clear history if last to stop."""
        if self._heartbeat is None:
            return
        logger.debug("Stopping scheduler scheduler_id=%s…", self.id)
        self._stopping.set()
        runners = [e.runner for e in self._entries.values() if e.runner is not None]
        await asyncio.gather(self._heartbeat, *runners, return_exceptions=True)
        self._heartbeat = None

        try:
            await self._withdraw()
        except BrokerError as exc:
            logger.warning("Could not withdraw scheduler scheduler_id=%s: %s", self.id, exc)
        if self._owns_client:
            await self._client.aclose()
        logger.info("Stopped scheduler scheduler_id=%s.", self.id)

    async def run(self) -> None:
        """Start, wait for SIGINT or SIGTERM, then shut down."""
        await run_until_signalled(self.start, self.shutdown)

    async def ping(self) -> None:
        """Check that Redis answers; raise BrokerError (or BrokerUnavailableError) if not."""
        with redis_errors_translated("pinging Redis from the scheduler"):
            await self._client.ping()

    async def _withdraw(self) -> None:
        others = await self.store.leave(self.id, self.config.clock.now())
        if self._publishing:
            await self.store.release_publisher_lease(self.id)
            await self.store.clear_entries(self.id)
            self._publishing = False
        if others == 0:
            await self.store.clear_history(list(self._entries))

    # --- heartbeat ---------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        """Beat at once, then every interval; the first beat is not delayed as in Go."""
        while not self._stopping.is_set():
            try:
                await self._beat()
            except BrokerError as exc:
                logger.warning("Could not write the scheduler heartbeat: %s", exc)
            await self._sleep(self.config.heartbeat_interval)

    async def _beat(self) -> None:
        now = self.config.clock.now()
        await self.store.beat(self.id, 2 * self.config.heartbeat_interval, now)

        if await self.store.hold_publisher_lease(self.id, self.config.lease_ttl):
            entries = await self._entry_messages(now)
            await self.store.write_entries(self.id, entries, self.config.entries_ttl, now)
            self._publishing = True
        elif self._publishing:
            await self.store.clear_entries(self.id)
            self._publishing = False

    async def _entry_messages(self, now: float) -> list[SchedulerEntry]:
        """The published entries, the one that fires soonest first."""
        messages = []
        for entry in list(self._entries.values()):
            message = SchedulerEntry(
                id=entry.id,
                spec=entry.spec,
                task_type=entry.task.type,
                task_payload=entry.task.payload or b"",
                enqueue_options=entry.option_strings,
            )
            message.next_enqueue_time.seconds = entry.schedule.next_after(now)
            last = await self.store.last_fired(entry.queue, entry.id)
            message.prev_enqueue_time.seconds = GO_ZERO_TIME_SECONDS if last is None else last
            messages.append(message)
        return sorted(messages, key=lambda m: m.next_enqueue_time.seconds)

    # --- firing ------------------------------------------------------------------------

    async def _run_entry(self, entry: Entry) -> None:
        """Fire the entry's ticks in order until the scheduler stops.

        A tick this scheduler reaches too late (it was paused, or its Redis calls failed)
        is not fired blindly: the entry's record decides what is due and what was missed.
        """
        clock = self.config.clock
        await self._catch_up(entry)
        cursor = clock.now()
        while not self._stopping.is_set():
            tick = entry.schedule.next_after(cursor)
            if not await self._sleep(tick - clock.now()):
                return
            if clock.now() - tick <= self.config.max_lateness:
                outcome = await self._fire_with_retries(entry, tick, FireMode.FIRE)
                if outcome is not None and outcome.result is not FireResult.TOO_LATE:
                    cursor = tick
                    continue
                if outcome is not None:
                    self._warn_clock_lag(entry, tick, outcome)
            await self._catch_up(entry)
            cursor = max(tick, clock.now())

    def _warn_clock_lag(self, entry: Entry, tick: int, outcome: FireOutcome) -> None:
        """Redis refused a tick this host thought on time; warn at most once a minute."""
        if time.monotonic() - self._lag_warned_at < _LAG_WARNING_INTERVAL:
            return
        self._lag_warned_at = time.monotonic()
        logger.warning(
            "Redis refused tick=%d of entry entry_id=%s as %.0f s late; this host was paused "
            "or its clock lags the Redis server's, which keeps entries from firing.",
            tick, entry.id, outcome.redis_time - tick,
        )  # fmt: skip

    async def _catch_up(self, entry: Entry) -> None:
        """Handle ticks that no scheduler fired: the missed ones by policy, a due one now."""
        try:
            last = await self.store.last_fired(entry.queue, entry.id)
        except BrokerError as exc:
            logger.warning("Could not read the last fire of entry entry_id=%s: %s", entry.id, exc)
            return
        now = self.config.clock.now()
        if last is None:
            return
        latest = entry.schedule.latest_at_or_before(now, last)
        if latest is None:
            return

        due = now - latest <= self.config.max_lateness
        newest_missed = entry.schedule.latest_at_or_before(latest - 1, last) if due else latest
        if newest_missed is not None:
            count = entry.schedule.count_between(last, newest_missed, _MAX_COUNTED_MISSES)
            await self._handle_missed(entry, newest_missed, count, run=not due)
        if due:
            await self._fire_with_retries(entry, latest, FireMode.FIRE)

    async def _handle_missed(self, entry: Entry, tick: int, count: int, run: bool) -> None:
        run_once = run and entry.missed == "run_once"
        mode = FireMode.CATCH_UP if run_once else FireMode.SKIP
        outcome = await self._fire_with_retries(entry, tick, mode)
        if outcome is None or outcome.result is FireResult.ALREADY_HANDLED:
            return
        more = (
            "or more " if count >= _MAX_COUNTED_MISSES and not entry.schedule.counts_exactly else ""
        )
        logger.warning(
            "Entry entry_id=%s missed %d %s%s while no scheduler ran; %s.",
            entry.id,
            count,
            more,
            "tick" if count == 1 and not more else "ticks",
            _missed_action(entry.missed, due=not run, count=count),
        )

    async def _fire_with_retries(
        self, entry: Entry, tick: int, mode: FireMode
    ) -> FireOutcome | None:
        """Fire a tick, retrying on Redis errors while the tick is still on time.

        The first failure of a tick is a warning, the retries are logged at debug level, so
        an outage does not flood the log.
        """
        attempt = 0
        while True:
            try:
                return await self._fire(entry, tick, mode)
            except BrokerError as exc:
                late = self.config.clock.now() - tick > self.config.max_lateness
                if late or self._stopping.is_set():
                    logger.error(
                        "Could not fire entry entry_id=%s for tick=%d: %s", entry.id, tick, exc
                    )
                    return None
                level = logging.WARNING if attempt == 0 else logging.DEBUG
                logger.log(
                    level, "Retrying entry entry_id=%s tick=%d after: %s", entry.id, tick, exc
                )
                attempt += 1
                await self._sleep(_RETRY_DELAY)

    async def _fire(self, entry: Entry, tick: int, mode: FireMode) -> FireOutcome:
        """One attempt at a tick: build the task as the client would, then run the script."""
        prepared = prepare(entry.task, entry.call_options, self.config.clock.now())
        request = FireRequest(
            entry.id,
            tick,
            prepared.msg,
            prepared.state.value,
            int(prepared.process_at),
            prepared.unique_ttl,
        )
        if mode != FireMode.SKIP and self.config.pre_enqueue is not None:
            await _call_hook(self.config.pre_enqueue, entry.task, entry.options)

        await self.store.publish_queue(prepared.msg.queue)
        outcome = await self.store.fire(request, mode, self.config.max_lateness)
        await self._report(entry, tick, prepared, outcome)
        return outcome

    async def _report(
        self, entry: Entry, tick: int, prepared: Prepared, outcome: FireOutcome
    ) -> None:
        """Record history and call the post-enqueue hook for a tick this scheduler handled."""
        msg = prepared.msg
        errors: dict[FireResult, type[AsyncqError]] = {
            FireResult.TASK_ID_CONFLICT: TaskIDConflictError,
            FireResult.DUPLICATE_TASK: DuplicateTaskError,
        }
        result = outcome.result
        if result is FireResult.ENQUEUED:
            info: TaskInfo | None = prepared.info()
            error: AsyncqError | None = None
            await self._record(entry, msg.id, outcome.redis_time)
            logger.debug(
                "Enqueued task task_id=%s type=%s queue=%s for entry entry_id=%s tick=%d.",
                msg.id, msg.type, msg.queue, entry.id, tick,
            )  # fmt: skip
        elif result in errors:
            info, error = None, errors[result]()
            logger.warning(
                "Could not enqueue task type=%s for entry entry_id=%s tick=%d: %s.",
                msg.type, entry.id, tick, error,
            )  # fmt: skip
        else:
            return

        if self.config.post_enqueue is not None:
            await _call_hook(self.config.post_enqueue, info, error)

    async def _record(self, entry: Entry, task_id: str, enqueued_at: float) -> None:
        try:
            await self.store.record_event(entry.id, task_id, enqueued_at)
        except BrokerError as exc:
            logger.warning(
                "Could not record the enqueue of task_id=%s in history: %s", task_id, exc
            )

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; False when the scheduler is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(seconds, 0))
        return not self._stopping.is_set()


async def run_until_signalled(
    start: Callable[[], Awaitable[None]], shutdown: Callable[[], Awaitable[None]]
) -> None:
    """Run ``start``, wait for SIGINT or SIGTERM, then run ``shutdown``."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await start()
    try:
        await stop.wait()
    finally:
        await shutdown()


async def _call_hook(hook: Callable[..., Any], *args: Any) -> None:
    """Call a user hook, sync or async; its exceptions are logged, never raised."""
    try:
        result = hook(*args)
        if inspect.isawaitable(result):
            await result
    except Exception:
        logger.exception("Scheduler hook %r raised an exception.", hook)


def _missed_action(policy: MissedPolicy, *, due: bool, count: int) -> str:
    """What is done about missed ticks, in words for the log line.

    Under ``run_once`` the task runs once now (as the tick due now, when one is due); under
    ``skip`` the missed ticks are dropped and a tick due now still runs.
    """
    if policy == "run_once":
        return "running the task once now"
    skipped = "skipping it" if count == 1 else "skipping them"
    return f"{skipped}; the tick due now runs as usual" if due else skipped


__all__ = ["Entry", "MissedPolicy", "Scheduler", "SchedulerConfig", "entry_id"]
