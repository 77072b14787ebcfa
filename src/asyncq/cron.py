"""Cron specs as Go asynq reads them (robfig/cron v3), and when they fire.

Accepted specs:

* five fields ``minute hour day-of-month month day-of-week`` with ``*``, ``?`` (same as
  ``*``), lists, ranges, steps (``a-b/n``, ``*/n``, ``a/n`` meaning ``a-max/n``) and the
  names ``JAN``–``DEC`` and ``SUN``–``SAT`` (any case); day-of-week runs 0–6 (Sunday = 0).
  When both day fields are restricted a day matches if *either* matches; when one of them
  is ``*`` or ``?`` both must match;
* the descriptors ``@yearly @annually @monthly @weekly @daily @midnight @hourly``;
* ``@every <Go duration>``, rounded down to whole seconds and at least one second;
* an optional ``CRON_TZ=<zone> `` or ``TZ=<zone> `` prefix overriding the entry's location.

Fire times are whole Unix seconds ("ticks"), so that every scheduler computes the same tick
for the same fire and can use it as the key of the per-fire lock:

* ``@every d`` fires at the multiples of ``d`` since the Unix epoch, not at a time
  relative to when a process happened to start;
* field specs follow classic cron across daylight-saving changes. A wall time that does
  not exist that day (skipped by a spring-forward gap) fires once, at the first instant
  after the gap; a wall time that occurs twice fires once, at its first occurrence. Specs
  whose minute or hour field starts with ``*`` are interval-like and follow real time
  instead: they fire at every real instant whose wall time matches, so ``0 * * * *`` fires
  every real hour through both changes.

croniter is not used for computing fire times: it lacks ``@every``, Go's day rule for
stepped day fields and the daylight-saving rules above. The tests compare this module
with croniter where the two should agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from asyncq.errors import SchedulerError
from asyncq.goformat import SECOND, parse_duration

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_DAY_NAMES = {
    name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}
_SEARCH_YEARS = 5
"""How far ahead a spec may first match before it is called impossible, like robfig/cron."""

_FOLD_WINDOW = timedelta(hours=3)
"""Longer than any daylight-saving shift: how far wall time and real time can disagree."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, _MONTH_NAMES),
    _Field("day-of-week", 0, 6, _DAY_NAMES),
)


class Schedule:
    """When a parsed spec fires; ``next_after(t)`` is the first tick strictly after ``t``."""

    spec: str
    location: ZoneInfo
    counts_exactly = False
    """Whether :meth:`count_between` computes its answer instead of walking the ticks."""

    def next_after(self, when: float) -> int:
        raise NotImplementedError

    def ticks_between(self, after: float, until: float, limit: int) -> Iterator[int]:
        """The ticks in ``(after, until]``, at most ``limit`` of them, oldest first."""
        tick = self.next_after(after)
        for _ in range(limit):
            if tick > until:
                return
            yield tick
            tick = self.next_after(tick)

    def latest_at_or_before(self, when: float, earliest: float) -> int | None:
        """The last tick in ``(earliest, when]``, if any.

        Looks back over a window that grows fourfold until it holds a tick, so the cost
        follows the spacing of the ticks, not the length of ``(earliest, when]``.
        """
        window = 60.0
        while True:
            start = max(when - window, earliest)
            latest = None
            for tick in self.ticks_between(start, when, limit=10_000):
                latest = tick
            if latest is not None or start <= earliest:
                return latest
            window *= 4

    def count_between(self, after: float, until: float, cap: int) -> int:
        """How many ticks fall in ``(after, until]``; a walk stops counting at ``cap``."""
        return sum(1 for _ in self.ticks_between(after, until, limit=cap))


class EverySchedule(Schedule):
    """``@every d``: the multiples of ``d`` whole seconds since the Unix epoch."""

    counts_exactly = True

    def __init__(self, spec: str, location: ZoneInfo, interval_s: int) -> None:
        self.spec = spec
        self.location = location
        self.interval_s = interval_s

    def next_after(self, when: float) -> int:
        return (int(when // self.interval_s) + 1) * self.interval_s

    def latest_at_or_before(self, when: float, earliest: float) -> int | None:
        tick = int(when // self.interval_s) * self.interval_s
        return tick if tick > earliest else None

    def count_between(self, after: float, until: float, cap: int) -> int:
        return max(int(until // self.interval_s) - int(after // self.interval_s), 0)


class FieldSchedule(Schedule):
    """Five cron fields evaluated on the wall clock of ``location``."""

    def __init__(
        self,
        spec: str,
        location: ZoneInfo,
        fields: tuple[frozenset[int], ...],
        any_day: bool,
        interval_like: bool,
    ) -> None:
        self.spec = spec
        self.location = location
        self.minutes, self.hours, self.days, self.months, self.weekdays = fields
        self.any_day = any_day
        self.interval_like = interval_like
        if self._next_wall(datetime(2000, 1, 1), datetime(2000 + _SEARCH_YEARS * 2, 1, 1)) is None:
            raise SchedulerError(f"Cron spec {spec!r} never fires: no date matches its fields.")

    def next_after(self, when: float) -> int:
        """The first tick after ``when``.

        Away from offset changes, wall order is real order and the first matching wall time
        after ``when`` is the answer. Near one, wall times are walked from a fold window
        before ``when``, each becoming zero, one or two real instants (see the module
        docstring), until the walk is a fold window past the best instant found.
        """
        start = datetime.fromtimestamp(when, self.location).replace(tzinfo=None)
        horizon = start + timedelta(days=366 * _SEARCH_YEARS)

        found = self._first_after(when, start.replace(second=0, microsecond=0), horizon)
        if found is not None and self._steady(when) and self._steady(found):
            return found
        found = self._first_after(
            when, start.replace(second=0, microsecond=0) - _FOLD_WINDOW, horizon, exhaustive=True
        )
        if found is None:
            raise SchedulerError(f"Cron spec {self.spec!r} has no fire time after {start}.")
        return found

    def _first_after(
        self, when: float, wall: datetime, horizon: datetime, exhaustive: bool = False
    ) -> int | None:
        """The earliest instant after ``when`` of the wall times matched from ``wall`` on.

        Without ``exhaustive`` the first wall time with such an instant decides; with it,
        the walk goes on for a fold window, where real order can differ from wall order.
        """
        best: int | None = None
        while (found := self._next_wall(wall, horizon)) is not None:
            for instant in self._instants(found):
                if instant > when and (best is None or instant < best):
                    best = instant
                    horizon = min(horizon, found + _FOLD_WINDOW)
            if best is not None and not exhaustive:
                return best
            wall = found + timedelta(minutes=1)
        return best

    def _steady(self, instant: float) -> bool:
        """Whether the zone keeps one UTC offset for a fold window around ``instant``."""
        window = _FOLD_WINDOW.total_seconds()
        before = datetime.fromtimestamp(instant - window, self.location).utcoffset()
        return before == datetime.fromtimestamp(instant + window, self.location).utcoffset()

    def _instants(self, wall: datetime) -> list[int]:
        """The real instants (Unix seconds) at which the wall time ``wall`` fires."""
        first = wall.replace(tzinfo=self.location, fold=0)
        second = wall.replace(tzinfo=self.location, fold=1)
        early, late = sorted((int(first.timestamp()), int(second.timestamp())))
        if early == late:
            return [early]
        if self._exists(wall, early):
            return [early, late] if self.interval_like else [early]
        return [] if self.interval_like else [self._gap_end(early, late)]

    def _exists(self, wall: datetime, instant: int) -> bool:
        local = datetime.fromtimestamp(instant, self.location).replace(tzinfo=None)
        return local == wall

    def _gap_end(self, before: int, after: int) -> int:
        """The first instant of the new offset, between two instants around a gap."""
        offset = datetime.fromtimestamp(after, self.location).utcoffset()
        while after - before > 1:
            middle = (before + after) // 2
            if datetime.fromtimestamp(middle, self.location).utcoffset() == offset:
                after = middle
            else:
                before = middle
        return after

    def _next_wall(self, wall: datetime, horizon: datetime) -> datetime | None:
        """The first wall minute at or after ``wall`` that matches all five fields."""
        while wall < horizon:
            if wall.month not in self.months:
                wall = _first_of_next_month(wall)
            elif not self._day_matches(wall):
                wall = datetime(wall.year, wall.month, wall.day) + timedelta(days=1)
            elif wall.hour not in self.hours:
                wall = wall.replace(minute=0) + timedelta(hours=1)
            elif wall.minute not in self.minutes:
                wall += timedelta(minutes=1)
            else:
                return wall
        return None

    def _day_matches(self, wall: datetime) -> bool:
        day_ok = wall.day in self.days
        weekday_ok = (wall.isoweekday() % 7) in self.weekdays
        if self.any_day:
            return day_ok and weekday_ok
        return day_ok or weekday_ok


def _first_of_next_month(wall: datetime) -> datetime:
    if wall.month == 12:
        return datetime(wall.year + 1, 1, 1)
    return datetime(wall.year, wall.month + 1, 1)


def parse(spec: str, location: ZoneInfo | str = "UTC") -> Schedule:
    """Parse a cron spec; raise :class:`SchedulerError` naming the spec and what is wrong."""
    zone = location if isinstance(location, ZoneInfo) else load_zone(location, spec)
    body = spec.strip()

    if body.startswith(("CRON_TZ=", "TZ=")):
        prefix, _, body = body.partition(" ")
        zone = load_zone(prefix.partition("=")[2], spec)
        body = body.strip()

    if body.startswith("@every"):
        return EverySchedule(spec, zone, _every_seconds(body, spec))
    if body.startswith("@"):
        if body not in _DESCRIPTORS:
            raise SchedulerError(
                f"Cron spec {spec!r} uses the unknown descriptor {body!r}; "
                f"use one of {', '.join(sorted(_DESCRIPTORS))} or @every <duration>."
            )
        body = _DESCRIPTORS[body]
    return _parse_fields(spec, body, zone)


def load_zone(name: str, spec: str = "") -> ZoneInfo:
    """A time zone by IANA name, with an error that names the spec it came from."""
    try:
        return ZoneInfo(name.strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        where = f" in cron spec {spec!r}" if spec else ""
        raise SchedulerError(
            f"Unknown time zone {name!r}{where}; use an IANA name such as 'Europe/Berlin'."
        ) from None


def _every_seconds(body: str, spec: str) -> int:
    text = body.removeprefix("@every").strip()
    try:
        ns = parse_duration(text)
    except ValueError as exc:
        raise SchedulerError(f"Cron spec {spec!r} has an invalid @every duration: {exc}") from None
    if ns < 0:
        raise SchedulerError(f"Cron spec {spec!r} has a negative @every duration.")
    return max(ns // SECOND, 1)


def _parse_fields(spec: str, body: str, zone: ZoneInfo) -> FieldSchedule:
    parts = body.split()
    if len(parts) != 5:
        raise SchedulerError(
            f"Cron spec {spec!r} has {len(parts)} fields; expected 5 "
            "(minute hour day-of-month month day-of-week) or a descriptor such as @daily."
        )
    parsed = [_parse_field(spec, text, field) for text, field in zip(parts, _FIELDS, strict=True)]
    values = tuple(values for values, _ in parsed)
    any_day = parsed[2][1] or parsed[4][1]
    interval_like = parts[0].startswith("*") or parts[1].startswith("*")
    return FieldSchedule(spec, zone, values, any_day, interval_like)


def _parse_field(spec: str, text: str, field: _Field) -> tuple[frozenset[int], bool]:
    """The values of one field, and whether it is an unrestricted ``*``/``?``."""
    values: set[int] = set()
    star = False
    for part in text.split(","):
        part_values, part_star = _parse_range(part, field, _error_for(spec, text, field))
        values |= part_values
        star = star or part_star
    return frozenset(values), star


def _error_for(spec: str, text: str, field: _Field) -> Callable[[str], SchedulerError]:
    def error(problem: str) -> SchedulerError:
        return SchedulerError(
            f"Cron spec {spec!r}: the {field.name} field {text!r} {problem} "
            f"(allowed values {field.low}-{field.high})."
        )

    return error


def _parse_range(
    part: str, field: _Field, error: Callable[[str], SchedulerError]
) -> tuple[set[int], bool]:
    range_text, _, step_text = part.partition("/")
    if range_text in ("*", "?"):
        low, high, star = field.low, field.high, True
    else:
        low_text, dash, high_text = range_text.partition("-")
        low = _value(low_text, field, error)
        high = _value(high_text, field, error) if dash else low
        star = False
        if step_text and not dash:
            high = field.high

    step = 1
    if "/" in part:
        if not step_text.isdigit() or int(step_text) == 0:
            raise error(f"has an invalid step {step_text!r}")
        step = int(step_text)
        star = star and step == 1
    if low > high:
        raise error(f"has a range that starts after it ends ({low} > {high})")
    return set(range(low, high + 1, step)), star


def _value(text: str, field: _Field, error: Callable[[str], SchedulerError]) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names[lowered]
    if not text.isdigit():
        raise error(f"has the value {text!r}, which is neither a number nor a name")
    value = int(text)
    if not field.low <= value <= field.high:
        raise error(f"has the value {value} out of range")
    return value
