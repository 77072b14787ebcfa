"""Go's option strings, durations, quoting and UnixDate times, checked against Go's output."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from asyncq import goformat
from asyncq.errors import ConfigError

COMPAT = Path(__file__).parents[1] / "compat_data"
OPTION_CASES = json.loads((COMPAT / "messages.json").read_text())["option_strings"]["cases"]

PY_CALLS = {
    "MaxRetry(5)": ("max_retry", 5),
    "MaxRetry(0)": ("max_retry", 0),
    "MaxRetry(-3)": ("max_retry", -3),
    'Queue("critical")': ("queue", "critical"),
    'Queue("with \\"quote\\" and ünï")': ("queue", 'with "quote" and ünï'),
    'TaskID("my-task-1")': ("task_id", "my-task-1"),
    "Timeout(30 * time.Second)": ("timeout", 30),
    "Timeout(90 * time.Second)": ("timeout", timedelta(seconds=90)),
    "Timeout(1500 * time.Millisecond)": ("timeout", 1.5),
    "Timeout(0)": ("timeout", 0),
    "Unique(time.Hour)": ("unique", timedelta(hours=1)),
    "Unique(25 * time.Hour + 30 * time.Second)": ("unique", 25 * 3600 + 30),
    "Retention(24 * time.Hour)": ("retention", timedelta(days=1)),
    "ProcessIn(5 * time.Minute)": ("process_in", 300),
    "ProcessIn(250 * time.Millisecond)": ("process_in", 0.25),
    "Deadline(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))": (
        "deadline",
        datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    ),
    "ProcessAt(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))": (
        "process_at",
        datetime(2030, 1, 1, tzinfo=UTC),
    ),
    'Group("user42")': ("group", "user42"),
    "Deadline(time.Date(2030, 1, 2, 12, 4, 5, 0, JST))": (
        "deadline",
        datetime(2030, 1, 2, 12, 4, 5, tzinfo=ZoneInfo("Asia/Tokyo")),
    ),
}
UTC_FORM = {"Deadline(Wed Jan  2 12:04:05 JST 2030)": "Deadline(Wed Jan  2 03:04:05 UTC 2030)"}


@pytest.mark.parametrize("case", OPTION_CASES, ids=[c["go_call"] for c in OPTION_CASES])
def test_option_strings_match_what_go_prints(case: dict[str, str]) -> None:
    """A time in another zone is written as the same instant in UTC, which Go parses exactly."""
    name, value = PY_CALLS[case["go_call"]]

    expected = UTC_FORM.get(case["string"], case["string"])
    assert goformat.option_string(name, value) == expected


@pytest.mark.parametrize("case", OPTION_CASES, ids=[c["go_call"] for c in OPTION_CASES])
def test_option_strings_written_by_go_parse_back(case: dict[str, str]) -> None:
    name, value = goformat.parse_option_string(case["string"])

    assert goformat.option_string(name, value) == case["string"].replace("JST", "UTC")
    assert name == PY_CALLS[case["go_call"]][0]


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1_500, "1.5µs"),
        (500_000_000, "500ms"),
        (1_500_000_000, "1.5s"),
        (90 * goformat.SECOND, "1m30s"),
        (goformat.HOUR, "1h0m0s"),
        (2 * goformat.HOUR + 30 * goformat.MINUTE, "2h30m0s"),
        (-90 * goformat.SECOND, "-1m30s"),
        (goformat.HOUR + 1, "1h0m0.000000001s"),
    ],
)
def test_durations_format_as_go_and_parse_back(ns: int, text: str) -> None:
    assert goformat.format_duration(ns) == text
    assert goformat.parse_duration(text) == ns


def test_go_duration_parser_accepts_mixed_units_and_both_micro_signs() -> None:
    assert goformat.parse_duration("1h15m30.5s") == 4530 * goformat.SECOND + 500_000_000
    assert goformat.parse_duration("2us") == goformat.parse_duration("2μs") == 2_000
    assert goformat.parse_duration(".5s") == 500_000_000


@pytest.mark.parametrize("text", ["", "10", "1x", "h", "1.s.", "--1s"])
def test_invalid_durations_are_refused_with_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="Invalid duration"):
        goformat.parse_duration(text)


def test_quote_escapes_like_go_and_unquote_reverses_it() -> None:
    text = 'a"b\\c\n\t\x00\u200b😀 ünï'

    quoted = goformat.quote(text)

    assert quoted == '"a\\"b\\\\c\\n\\t\\x00\\u200b😀 ünï"'
    assert goformat.unquote(quoted) == text
    assert goformat.unquote("`raw \\n`") == "raw \\n"
    assert goformat.unquote('"\\101\\x41\\u0041\\U00000041"') == "AAAA"


def test_unix_date_pads_the_day_with_a_space_and_always_says_utc() -> None:
    when = datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)

    assert goformat.format_unix_date(when) == "Tue Mar  5 14:07:09 UTC 2024"
    assert goformat.format_unix_date(when.timestamp()) == "Tue Mar  5 14:07:09 UTC 2024"
    assert goformat.parse_unix_date("Tue Mar  5 14:07:09 UTC 2024") == when


def test_master_header_option_is_written_and_read_as_a_json_pair() -> None:
    text = goformat.header_string("trace-id", 'a"b')

    assert text == 'Header(["trace-id","a\\"b"])'
    assert goformat.parse_option_string(text) == ("header", ("trace-id", 'a"b'))


@pytest.mark.parametrize("text", ["Queue", "Nope(1)", "MaxRetry(x)", 'Header(["k"])', "Queue(x)"])
def test_malformed_option_strings_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        goformat.parse_option_string(text)


def test_options_keep_the_order_they_were_given_in() -> None:
    options = {"queue": "default", "max_retry": 5, "timeout": 90, "group": None}

    assert goformat.options_strings(options) == [
        'Queue("default")',
        "MaxRetry(5)",
        "Timeout(1m30s)",
    ]
