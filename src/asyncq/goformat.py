"""Go's text formats for the strings a scheduler entry stores, written and read back.

A ``SchedulerEntry`` lists its enqueue options as Go's ``Option.String()`` would print them
(``Queue("default")``, ``Timeout(1m30s)``, ``Deadline(Wed Jan  2 03:04:05 UTC 2030)``), and
asynq's CLI, web UI and Inspector parse those strings. To be listed correctly next to Go
schedulers, asyncq formats durations as Go's ``time.Duration.String``, strings as Go's ``%q``
and times in Go's ``time.UnixDate`` layout, always in UTC so that Go parses them without
guessing a zone. The parsers accept what Go writes, including master's ``Header(["k","v"])``.

Durations are handled as whole nanoseconds, as Go holds them, so that formatting is exact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncq.errors import ConfigError

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "µs": MICROSECOND,  # U+00B5 MICRO SIGN, what Go prints
    "μs": MICROSECOND,  # U+03BC GREEK SMALL LETTER MU, also accepted by Go
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)")

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNIX_DATE = re.compile(
    r"(?P<wd>[A-Z][a-z]{2}) (?P<mon>[A-Z][a-z]{2}) (?P<day>[ \d]\d) "
    r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) (?P<zone>[A-Za-z0-9+\-]+) (?P<year>\d{4})"
)

_SIMPLE_ESCAPES = {
    "\a": r"\a",
    "\b": r"\b",
    "\f": r"\f",
    "\n": r"\n",
    "\r": r"\r",
    "\t": r"\t",
    "\v": r"\v",
    "\\": r"\\",
    '"': r"\"",
}
_UNESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


# --- durations ---------------------------------------------------------------------------


def to_nanoseconds(value: float | timedelta) -> int:
    """A duration given in seconds (or as a timedelta) as whole nanoseconds."""
    if isinstance(value, timedelta):
        return (value.days * 86_400 + value.seconds) * SECOND + value.microseconds * MICROSECOND
    return round(value * SECOND)


def format_duration(ns: int) -> str:
    """Go's ``time.Duration.String``: ``0s``, ``500ms``, ``1.5µs``, ``1m30s``, ``1h0m0s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)

    if ns < SECOND:
        for unit, size in (("ms", MILLISECOND), ("µs", MICROSECOND), ("ns", NANOSECOND)):
            if ns >= size:
                return sign + _fraction(ns, size) + unit

    hours, rest = divmod(ns, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    text = _fraction(rest, SECOND) + "s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _fraction(ns: int, unit: int) -> str:
    """``ns`` in ``unit``s with the decimal fraction Go prints, trailing zeros removed."""
    whole, rest = divmod(ns, unit)
    if not rest:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}." + f"{rest:0{digits}d}".rstrip("0")


def parse_duration(text: str) -> int:
    """Go's ``time.ParseDuration``: a signed sequence of decimal numbers with units, in ns."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body[1:] if body[:1] in ("+", "-") else body
    if body == "0":
        return 0
    if not body:
        raise ConfigError(f"Invalid duration {text!r}: it is empty; write e.g. 30s or 1h30m.")

    total = 0
    position = 0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if match is None or not (match.group(1) or match.group(2)):
            raise ConfigError(
                f"Invalid duration {text!r}: use numbers with units ns, us, ms, s, m or h, "
                "for example 1m30s."
            )
        whole, fraction, unit = match.group(1) or "0", match.group(2) or "", match.group(3)
        total += int(whole) * _UNITS[unit] + _scaled_fraction(fraction, _UNITS[unit])
        position = match.end()
    return sign * total


def _scaled_fraction(digits: str, unit: int) -> int:
    if not digits:
        return 0
    return int(digits) * unit // int(10 ** len(digits))


# --- strings -----------------------------------------------------------------------------


def quote(text: str) -> str:
    """Go's ``strconv.Quote`` (``%q``): printable characters kept, the others escaped."""
    out = []
    for char in text:
        if char in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def unquote(text: str) -> str:
    """Go's ``strconv.Unquote`` for double-quoted and back-quoted strings."""
    if len(text) >= 2 and text[0] == text[-1] == "`":
        return text[1:-1]
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ConfigError(f"Invalid quoted string {text!r}: it must start and end with a quote.")

    body, out, position = text[1:-1], [], 0
    while position < len(body):
        char = body[position]
        if char != "\\":
            out.append(char)
            position += 1
            continue
        decoded, position = _unescape(body, position + 1, text)
        out.append(decoded)
    return "".join(out)


def _unescape(body: str, position: int, text: str) -> tuple[str, int]:
    """The character of the escape starting at ``body[position]`` and where it ends."""
    kind = body[position : position + 1]
    if kind in _UNESCAPES:
        return _UNESCAPES[kind], position + 1
    if kind in ('"', "\\", "'"):
        return kind, position + 1
    widths = {"x": 2, "u": 4, "U": 8}
    try:
        if kind in widths:
            digits = body[position + 1 : position + 1 + widths[kind]]
            if len(digits) != widths[kind]:
                raise ValueError(digits)
            return chr(int(digits, 16)), position + 1 + widths[kind]
        digits = body[position : position + 3]
        if len(digits) != 3:
            raise ValueError(digits)
        return chr(int(digits, 8)), position + 3
    except ValueError:
        raise ConfigError(f"Invalid escape in quoted string {text!r}.") from None


# --- times -------------------------------------------------------------------------------


def format_unix_date(when: float | datetime) -> str:
    """Go's ``time.UnixDate`` layout in UTC: ``Wed Jan  2 03:04:05 UTC 2030``."""
    moment = when if isinstance(when, datetime) else datetime.fromtimestamp(when, UTC)
    moment = moment.astimezone(UTC)
    return (
        f"{_WEEKDAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:>2} "
        f"{moment:%H:%M:%S} UTC {moment.year}"
    )


def parse_unix_date(text: str) -> datetime:
    """A ``time.UnixDate`` string as an aware datetime.

    Like Go's ``time.Parse``, a zone abbreviation other than UTC/GMT cannot be resolved to an
    offset and is read as UTC (Go keeps the name with a zero offset).
    """
    match = _UNIX_DATE.fullmatch(text.strip())
    if match is None or match["mon"] not in _MONTHS:
        raise ConfigError(
            f"Invalid time {text!r}: expected Go's UnixDate layout, "
            "for example 'Wed Jan  2 03:04:05 UTC 2030'."
        )
    return datetime(
        int(match["year"]),
        _MONTHS.index(match["mon"]) + 1,
        int(match["day"]),
        int(match["h"]),
        int(match["m"]),
        int(match["s"]),
        tzinfo=UTC,
    )


# --- options -----------------------------------------------------------------------------

_GO_NAMES = {
    "max_retry": "MaxRetry",
    "queue": "Queue",
    "timeout": "Timeout",
    "deadline": "Deadline",
    "unique": "Unique",
    "process_at": "ProcessAt",
    "process_in": "ProcessIn",
    "task_id": "TaskID",
    "retention": "Retention",
    "group": "Group",
}
_PY_NAMES = {go: py for py, go in _GO_NAMES.items()}
_DURATIONS = {"timeout", "unique", "process_in", "retention"}
_TIMES = {"deadline", "process_at"}
_STRINGS = {"queue", "task_id", "group"}
_OPTION = re.compile(r"(?P<name>[A-Za-z]+)\((?P<arg>.*)\)", re.DOTALL)


def option_string(name: str, value: Any) -> str:
    """Go's ``Option.String()`` of the task option ``name`` (a :class:`TaskOptions` field)."""
    go_name = _GO_NAMES.get(name)
    if go_name is None:
        raise ConfigError(f"Unknown task option {name!r}; it has no Go option string.")
    return f"{go_name}({_format_argument(name, value)})"


def _format_argument(name: str, value: Any) -> str:
    if name in _DURATIONS:
        return format_duration(to_nanoseconds(value))
    if name in _TIMES:
        return format_unix_date(value)
    if name in _STRINGS:
        return quote(str(value))
    return str(max(int(value), 0))


def header_string(key: str, value: str) -> str:
    """Go master's ``Header(k, v).String()``: ``Header(["k","v"])``."""
    return "Header(" + json.dumps([key, value], ensure_ascii=False, separators=(",", ":")) + ")"


def options_strings(options: Mapping[str, Any]) -> list[str]:
    """The Go option strings of keyword options, in the order they were given."""
    return [option_string(name, value) for name, value in options.items() if value is not None]


def parse_option_string(text: str) -> tuple[str, Any]:
    """One Go option string as (TaskOptions field name or ``"header"``, Python value).

    Durations come back as ``timedelta``, times as UTC datetimes, a header as a (key,
    value) pair.
    """
    match = _OPTION.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"Invalid option string {text!r}: expected Name(argument).")
    go_name, argument = match["name"], match["arg"]
    if go_name == "Header":
        return "header", _parse_header(argument, text)

    name = _PY_NAMES.get(go_name)
    if name is None:
        raise ConfigError(f"Unknown option {go_name!r} in option string {text!r}.")
    if name in _DURATIONS:
        return name, timedelta(microseconds=parse_duration(argument) / MICROSECOND)
    if name in _TIMES:
        return name, parse_unix_date(argument)
    if name in _STRINGS:
        return name, unquote(argument)
    return name, _parse_int(argument, text)


def _parse_header(argument: str, text: str) -> tuple[str, str]:
    try:
        pair = json.loads(argument)
    except ValueError:
        pair = None
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise ConfigError(f'Invalid header option {text!r}: expected Header(["key","value"]).')
    return pair[0], pair[1]


def _parse_int(argument: str, text: str) -> int:
    try:
        return int(argument)
    except ValueError:
        raise ConfigError(f"Invalid number in option string {text!r}.") from None
