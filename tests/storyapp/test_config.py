"""Settings from the environment: defaults, PostgreSQL URLs, and one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asyncq import ConfigError
from storyapp.config import Settings
from storyapp.schedule import Schedule


def test_unset_variables_mean_sqlite_and_the_documented_defaults() -> None:
    settings = Settings.from_env({})

    assert settings.db.url.render_as_string() == "sqlite:///storyapp.db"
    assert settings.redis.url == "redis://127.0.0.1:6379/0"
    assert settings.cleanup.batch_size == 5000
    assert settings.cleanup.stories_retention_days == 30
    assert settings.cleanup.webhook_events_retention_days == 30
    assert settings.cleanup.tokens_schedule.spec == "45 20 * * 0"
    assert settings.cleanup.stories_schedule.spec == "40 20 * * *"
    assert settings.cleanup.webhooks_schedule.spec == "50 20 * * 0"
    assert (settings.api.host, settings.api.port, settings.api.legacy_scheduler) == (
        "127.0.0.1",
        8000,
        True,
    )


def test_a_database_host_selects_postgresql() -> None:
    env = {
        "APP_DB_HOST": "db.internal",
        "APP_DB_PORT": "6543",
        "APP_DB_USER": "app",
        "APP_DB_PASSWORD": "s3cret",
        "APP_DB_NAME": "stories",
        "APP_DB_SSLMODE": "require",
    }

    url = Settings.from_env(env).db.url

    assert url.render_as_string(hide_password=False) == (
        "postgresql+psycopg://app:s3cret@db.internal:6543/stories?sslmode=require"
    )
    assert "s3cret" not in Settings.from_env(env).db.describe()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("APP_DB_PORT", "five", "APP_DB_PORT must be a whole number, got 'five'."),
        ("APP_REDIS_PORT", "70000", "APP_REDIS_PORT must be between 1 and 65535, got 70000."),
        ("APP_CLEANUP_BATCH_SIZE", "0", "APP_CLEANUP_BATCH_SIZE must be between 1 and 30000"),
        ("APP_LEGACY_SCHEDULER", "maybe", "APP_LEGACY_SCHEDULER must be on or off"),
        ("APP_TIMEZONE", "Mars/Olympus", "APP_TIMEZONE must be an IANA time zone"),
        ("APP_DB_SSLMODE", "sometimes", "APP_DB_SSLMODE must be one of"),
        ("APP_CLEANUP_TOKENS_SCHEDULE", "45 20 * *", "APP_CLEANUP_TOKENS_SCHEDULE is invalid"),
        ("APP_CLEANUP_STORIES_SCHEDULE", "@every 5x", "APP_CLEANUP_STORIES_SCHEDULE is invalid"),
        (
            "APP_CLEANUP_WEBHOOKS_SCHEDULE",
            "0 0 31 2 *",
            "APP_CLEANUP_WEBHOOKS_SCHEDULE is invalid: Cron spec '0 0 31 2 *' never fires",
        ),
        ("APP_CLEANUP_TOKENS_SCHEDULE", "45 20 * * 7", "APP_CLEANUP_TOKENS_SCHEDULE is invalid"),
        ("APP_DB_SCHEMA", 'bad"name', "APP_DB_SCHEMA must start with a letter or _"),
        ("APP_DB_SCHEMA", "1st", "APP_DB_SCHEMA must start with a letter or _"),
        ("APP_DB_SCHEMA", "s" * 64, "APP_DB_SCHEMA must start with a letter or _"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({variable: value})

    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_plain_schema_name_is_kept() -> None:
    settings = Settings.from_env({"APP_DB_SCHEMA": "story_app2"})

    assert settings.db.schema == "story_app2"


def test_cron_weekday_zero_is_sunday() -> None:
    saturday_evening = datetime(2026, 6, 6, 21, 0, tzinfo=UTC)

    fire = Schedule.parse("45 20 * * 0").next_after(saturday_evening)

    assert fire == datetime(2026, 6, 7, 20, 45, tzinfo=UTC)
    assert fire.strftime("%A") == "Sunday"


def test_every_ticks_are_aligned_to_the_epoch() -> None:
    schedule = Schedule.parse("@every 1m30s")

    fire = schedule.next_after(datetime.fromtimestamp(1000, UTC))

    assert schedule.every == 90
    assert fire == datetime.fromtimestamp(1080, UTC)
