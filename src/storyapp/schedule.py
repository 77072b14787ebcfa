"""Clean-up schedules: a five-field cron expression or ``@every <duration>``.

Both schedulers read the same settings, so both parse them here: asyncq's scheduler takes the
text as it is, and the legacy in-process scheduler asks :meth:`Schedule.next_after` for its
fire times. Days of the week run 0-6 with Sunday as 0, as asyncq's scheduler reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

from asyncq import ConfigError, SchedulerError
from asyncq.cron import parse as parse_cron

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def parse_duration(text: str) -> float:
    """Seconds in a Go-style duration such as ``90s``, ``5m`` or ``1h30m``."""
    compact = text.strip()
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m or 1h30m")
    total = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if total < 1 or total != int(total):
        raise ValueError(f"{text!r} is not a whole number of seconds, at least 1s")
    return total


@dataclass(frozen=True, slots=True)
class Schedule:
    """One parsed schedule; ``spec`` is the text as the user gave it."""

    spec: str
    every: float | None = None

    @classmethod
    def parse(cls, spec: str) -> Schedule:
        """A schedule from its text, or ValueError saying what is wrong with it."""
        text = " ".join(spec.split())
        if text.startswith("@every"):
            return cls(text, every=parse_duration(text.removeprefix("@every")))
        if text in _MACROS:
            return cls(text)
        if len(text.split()) != 5 or not croniter.is_valid(text):
            raise ValueError(
                f"{spec!r} is neither a five-field cron expression (minute hour day month "
                "weekday) nor '@every <duration>'"
            )
        return cls(text)

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment``, in ``moment``'s time zone.

        ``@every`` ticks are aligned to the Unix epoch, as asyncq's scheduler aligns them.
        """
        if self.every is not None:
            ticks = int(moment.timestamp() // self.every) + 1
            step = timedelta(seconds=ticks * self.every - moment.timestamp())
            return moment + step
        fire: datetime = croniter(self.spec, moment).get_next(datetime)
        return fire


def parse_schedule(variable: str, spec: str, timezone: str = "UTC") -> Schedule:
    """A schedule from a setting, or a ConfigError naming the setting.

    The spec is also parsed as asyncq's scheduler will parse it in ``timezone``, so a spec that
    never fires (such as February 31st) stops start-up here rather than in the worker.
    """
    try:
        schedule = Schedule.parse(spec)
    except ValueError as exc:
        raise ConfigError(f"{variable} is invalid: {exc}.") from None
    try:
        parse_cron(schedule.spec, timezone)
    except SchedulerError as exc:
        raise ConfigError(f"{variable} is invalid: {exc}") from None
    return schedule
