"""Cron specs as Go's scheduler reads them, and fire times across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from asyncq import cron
from asyncq.errors import SchedulerError

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def fires(spec: str, start: datetime, count: int, location: str = "UTC") -> list[datetime]:
    """The next ``count`` fire times after ``start``, shown in the schedule's zone."""
    schedule = cron.parse(spec, location)
    moment = start.timestamp()
    out = []
    for _ in range(count):
        moment = schedule.next_after(moment)
        out.append(datetime.fromtimestamp(moment, schedule.location))
    return out


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- daylight saving: spring forward ----------------------------------------------------


def test_a_wall_time_inside_the_berlin_spring_gap_fires_once_at_the_end_of_the_gap() -> None:
    times = fires("30 2 * * *", utc(2026, 3, 28, 12), 3, "Europe/Berlin")

    assert [t.isoformat() for t in times] == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]


def test_a_wall_time_inside_the_new_york_spring_gap_fires_once_at_the_end_of_the_gap() -> None:
    times = fires("15 2 * * *", utc(2026, 3, 7, 12), 2, "America/New_York")

    assert [t.isoformat() for t in times] == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:15:00-04:00",
    ]


def test_a_gap_time_and_the_first_time_after_it_fire_once_together() -> None:
    times = fires("0 2,3 * * *", utc(2026, 3, 7, 12), 3, "America/New_York")

    assert [t.isoformat() for t in times] == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:00:00-04:00",
        "2026-03-09T03:00:00-04:00",
    ]


def test_an_hourly_entry_fires_every_real_hour_through_the_spring_gap() -> None:
    times = fires("0 * * * *", utc(2026, 3, 8, 5, 30), 3, "America/New_York")

    assert [t.astimezone(UTC).hour for t in times] == [6, 7, 8]
    assert [t.isoformat() for t in times][:2] == [
        "2026-03-08T01:00:00-05:00",
        "2026-03-08T03:00:00-04:00",
    ]


def test_an_every_half_hour_entry_skips_the_wall_times_that_do_not_exist() -> None:
    times = fires("*/30 * * * *", utc(2026, 3, 29, 0, 10), 3, "Europe/Berlin")

    assert [t.astimezone(UTC).strftime("%H:%M") for t in times] == ["00:30", "01:00", "01:30"]


# --- daylight saving: fall back ---------------------------------------------------------


def test_a_wall_time_that_occurs_twice_in_berlin_fires_only_at_its_first_occurrence() -> None:
    times = fires("30 2 * * *", utc(2026, 10, 24, 12), 2, "Europe/Berlin")

    assert [t.isoformat() for t in times] == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]


def test_a_wall_time_that_occurs_twice_in_new_york_fires_only_at_its_first_occurrence() -> None:
    times = fires("30 1 * * *", utc(2026, 10, 31, 12), 2, "America/New_York")

    assert [t.isoformat() for t in times] == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
    ]


def test_an_hourly_entry_fires_every_real_hour_through_the_repeated_hour() -> None:
    times = fires("0 * * * *", utc(2026, 11, 1, 4, 30), 4, "America/New_York")

    assert [t.astimezone(UTC).hour for t in times] == [5, 6, 7, 8]
    assert [t.isoformat() for t in times][:2] == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
    ]


def test_a_fixed_time_entry_resumes_after_the_repeated_hour_without_firing_twice() -> None:
    times = fires("0 1,3 * * *", utc(2026, 11, 1, 4), 3, "America/New_York")

    assert [t.isoformat() for t in times] == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T03:00:00-05:00",
        "2026-11-02T01:00:00-05:00",
    ]


# --- @every ------------------------------------------------------------------------------


def test_every_ticks_are_aligned_to_the_unix_epoch_whatever_the_start() -> None:
    schedule = cron.parse("@every 7s")

    first = schedule.next_after(1_796_399_143.25)
    second = schedule.next_after(first)

    assert first % 7 == 0 and 0 < first - 1_796_399_143.25 <= 7
    assert second == first + 7


@pytest.mark.parametrize(
    ("spec", "interval"),
    [("@every 1m30s", 90), ("@every 1500ms", 1), ("@every 100ms", 1), ("@every 0s", 1)],
)
def test_every_durations_are_rounded_down_to_seconds_and_at_least_one(
    spec: str, interval: int
) -> None:
    schedule = cron.parse(spec)

    assert schedule.next_after(1000.5) - schedule.next_after(0) == (1000 // interval) * interval


def test_every_ignores_daylight_saving_changes() -> None:
    schedule = cron.parse("@every 1h", "America/New_York")
    start = utc(2026, 11, 1, 4, 30).timestamp()

    ticks = list(schedule.ticks_between(start, start + 4 * 3600, limit=10))

    assert [t - ticks[0] for t in ticks] == [0, 3600, 7200, 10800]


# --- fields ------------------------------------------------------------------------------


def test_both_day_fields_restricted_means_either_may_match() -> None:
    times = fires("0 0 13 * FRI", utc(2026, 2, 1), 4)

    assert [t.strftime("%a %d") for t in times] == ["Fri 06", "Fri 13", "Fri 20", "Fri 27"]
    assert [t.strftime("%a %d") for t in fires("0 0 13 * MON", utc(2026, 5, 1), 4)] == [
        "Mon 04",
        "Mon 11",
        "Wed 13",
        "Mon 18",
    ]


def test_a_star_day_field_means_only_the_other_day_field_counts() -> None:
    assert {t.strftime("%a") for t in fires("0 0 * * FRI", utc(2026, 2, 1), 6)} == {"Fri"}
    assert {t.day for t in fires("0 0 13 * ?", utc(2026, 2, 1), 3)} == {13}


def test_a_stepped_day_field_counts_as_restricted_like_go() -> None:
    times = fires("0 0 */10 * SUN", utc(2026, 3, 1), 5)

    assert [t.strftime("%a %d") for t in times] == [
        "Sun 08",
        "Wed 11",
        "Sun 15",
        "Sat 21",
        "Sun 22",
    ]


def test_names_are_case_insensitive_and_question_mark_equals_star() -> None:
    assert fires("0 12 ? jan-Mar mon-FRI", utc(2026, 3, 30), 3) == fires(
        "0 12 * 1-3 1-5", utc(2026, 3, 30), 3
    )


def test_a_single_value_with_a_step_runs_to_the_end_of_the_range() -> None:
    times = fires("50/5 10 * * *", utc(2026, 1, 1), 3)

    assert [t.minute for t in times] == [50, 55, 50]


@pytest.mark.parametrize(
    ("descriptor", "fields"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ],
)
def test_descriptors_fire_like_their_five_field_forms(descriptor: str, fields: str) -> None:
    assert fires(descriptor, utc(2026, 5, 17, 13, 7), 3) == fires(
        fields, utc(2026, 5, 17, 13, 7), 3
    )


@pytest.mark.parametrize("prefix", ["CRON_TZ", "TZ"])
def test_a_zone_prefix_overrides_the_scheduler_location(prefix: str) -> None:
    times = fires(f"{prefix}=Asia/Tokyo 0 9 * * *", utc(2026, 5, 31, 12), 1, "Europe/Berlin")

    assert times[0].astimezone(UTC) == utc(2026, 6, 1, 0)


def test_the_scheduler_location_applies_without_a_prefix() -> None:
    times = fires("0 9 * * *", utc(2026, 6, 1), 1, "Europe/Berlin")

    assert times[0].astimezone(UTC) == utc(2026, 6, 1, 7)


def test_a_leap_day_entry_waits_for_the_next_leap_year() -> None:
    assert fires("0 0 29 2 *", utc(2026, 1, 1), 2) == [utc(2028, 2, 29), utc(2032, 2, 29)]


def test_latest_tick_and_missed_count_look_back_over_a_window() -> None:
    schedule = cron.parse("0 3 * * *")
    now = utc(2026, 6, 10, 12).timestamp()
    last = utc(2026, 6, 1, 3).timestamp()

    assert schedule.latest_at_or_before(now, last) == utc(2026, 6, 10, 3).timestamp()
    assert schedule.count_between(last, now, cap=100) == 9
    assert schedule.count_between(last, now, cap=4) == 4
    assert schedule.latest_at_or_before(utc(2026, 6, 1, 4).timestamp(), last) is None


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("* * * *", "has 4 fields; expected 5"),
        ("0 0 * * * *", "has 6 fields"),
        ("60 * * * *", "minute field '60' has the value 60 out of range"),
        ("0 24 * * *", "hour field"),
        ("0 0 0 * *", "day-of-month field"),
        ("0 0 * 13 *", "month field"),
        ("0 0 * * 7", "day-of-week field '7' has the value 7 out of range"),
        ("*/0 * * * *", "invalid step '0'"),
        ("5-1 * * * *", "starts after it ends"),
        ("0 0 * FOO *", "neither a number nor a name"),
        ("@fortnightly", "unknown descriptor"),
        ("@every soon", "invalid @every duration"),
        ("CRON_TZ=Mars/Olympus 0 0 * * *", "Unknown time zone 'Mars/Olympus'"),
        ("0 0 31 2 *", "never fires"),
    ],
)
def test_bad_specs_raise_a_scheduler_error_naming_the_spec_and_the_problem(
    spec: str, problem: str
) -> None:
    with pytest.raises(SchedulerError) as info:
        cron.parse(spec)

    assert problem in str(info.value)
    assert repr(spec) in str(info.value)


# --- croniter: where it agrees and where it does not ------------------------------------


@pytest.mark.parametrize(
    "spec",
    ["*/7 * * * *", "0 9-17/2 * * MON-FRI", "15 3 1,15 * *", "0 0 13 * FRI", "30 4 * JUN-AUG SUN"],
)
def test_plain_utc_specs_agree_with_croniter(spec: str) -> None:
    start = utc(2026, 1, 1)
    reference = croniter(spec, start)

    expected = [reference.get_next(datetime) for _ in range(40)]

    assert fires(spec, start, 40) == expected


def test_croniter_fires_a_repeated_wall_time_twice_where_classic_cron_fires_once() -> None:
    start = datetime(2026, 10, 31, 12, tzinfo=NEW_YORK)
    reference = croniter("30 1 * * *", start)

    theirs = [reference.get_next(datetime).isoformat() for _ in range(2)]

    assert theirs == ["2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"]
    assert [t.isoformat() for t in fires("30 1 * * *", start, 2, "America/New_York")] == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
    ]


def test_croniter_does_not_read_every_specs() -> None:
    with pytest.raises(ValueError):
        croniter("@every 2s", utc(2026, 1, 1))

    assert cron.parse("@every 2s").next_after(1) == 2


# --- an independent check: every real minute of the change days -------------------------


def classic_cron_fires(spec: str, zone: ZoneInfo, start: int, end: int) -> list[int]:
    """Brute force: the real minutes in ``(start, end]`` at which classic cron runs ``spec``.

    A minute runs an interval-like spec when its wall time matches; a fixed-time spec when
    it is the first occurrence of a matching wall time, or when it ends a gap in which some
    skipped wall time would have matched. Fields are matched by croniter.
    """
    minute_field, hour_field = spec.split()[:2]
    interval_like = minute_field.startswith("*") or hour_field.startswith("*")
    fired = []
    for instant in range(start - start % 60 + 60, end + 1, 60):
        local = datetime.fromtimestamp(instant, zone)
        wall = local.replace(tzinfo=None)
        if interval_like:
            runs = croniter.match(spec, wall)
        else:
            runs = (local.fold == 0 and croniter.match(spec, wall)) or _gap_matches(
                spec, zone, instant
            )
        if runs:
            fired.append(instant)
    return fired


def _gap_matches(spec: str, zone: ZoneInfo, instant: int) -> bool:
    before = datetime.fromtimestamp(instant - 60, zone).utcoffset()
    after = datetime.fromtimestamp(instant, zone).utcoffset()
    if before is None or after is None or after <= before:
        return False
    wall = datetime.fromtimestamp(instant, zone).replace(tzinfo=None)
    skipped = int((after - before).total_seconds()) // 60
    return any(croniter.match(spec, wall - timedelta(minutes=m)) for m in range(1, skipped + 1))


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize(
    "spec", ["30 2 * * *", "0 * * * *", "*/20 1-3 * * *", "0 2,3 * * *", "45 1 * * *"]
)
@pytest.mark.parametrize("day", [(2026, 3, 8), (2026, 3, 29), (2026, 10, 25), (2026, 11, 1)])
def test_fire_times_on_change_days_match_a_minute_by_minute_check(
    zone: str, spec: str, day: tuple[int, int, int]
) -> None:
    start = int(datetime(*day, tzinfo=UTC).timestamp()) - 86_400
    end = start + 3 * 86_400
    schedule = cron.parse(spec, zone)

    ticks = list(schedule.ticks_between(start, end, limit=1000))

    assert ticks == classic_cron_fires(spec, ZoneInfo(zone), start, end)
