"""storyapp's settings, read from ``APP_*`` environment variables and checked in one place.

A bad value raises :class:`~asyncq.errors.ConfigError` whose message is one line naming the
variable and what is wrong with it; the commands print that line and exit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import URL

from asyncq import ConfigError
from storyapp.schedule import Schedule, parse_schedule

DEFAULT_TOKENS_SCHEDULE = "45 20 * * 0"
"""Sundays at 20:45."""
DEFAULT_STORIES_SCHEDULE = "40 20 * * *"
"""Every day at 20:40."""
DEFAULT_WEBHOOKS_SCHEDULE = "50 20 * * 0"
"""Sundays at 20:50."""

_TOKENS = Schedule(DEFAULT_TOKENS_SCHEDULE)
_STORIES = Schedule(DEFAULT_STORIES_SCHEDULE)
_WEBHOOKS = Schedule(DEFAULT_WEBHOOKS_SCHEDULE)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_IDENTIFIER_LENGTH = 63
"""PostgreSQL's limit; a longer name would be cut short silently."""
_SSLMODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """PostgreSQL when ``host`` is set, otherwise SQLite at ``path``.

    ``schema`` (``APP_DB_SCHEMA``, PostgreSQL only) puts the tables in a schema other than the
    search path's first; empty means the default.
    """

    host: str = ""
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    name: str = "storyapp"
    sslmode: str = "prefer"
    path: str = "storyapp.db"
    schema: str = ""

    @property
    def url(self) -> URL:
        if not self.host:
            return URL.create("sqlite", database=self.path)
        return URL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            database=self.name,
            query={"sslmode": self.sslmode},
        )

    def describe(self) -> str:
        """Where the database is, without the password, for log lines."""
        if not self.host:
            return f"sqlite path={self.path}"
        return f"postgresql host={self.host} port={self.port} name={self.name} user={self.user}"


@dataclass(frozen=True, slots=True)
class RedisSettings:
    host: str = "127.0.0.1"
    port: int = 6379
    password: str = ""
    db: int = 0

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"


@dataclass(frozen=True, slots=True)
class CleanupSettings:
    """How the clean-ups run: batch size, retention, and when each is scheduled."""

    batch_size: int = 5000
    stories_retention_days: int = 30
    webhook_events_retention_days: int = 30
    tokens_schedule: Schedule = _TOKENS
    stories_schedule: Schedule = _STORIES
    webhooks_schedule: Schedule = _WEBHOOKS
    timezone: str = "UTC"

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """The HTTP app; admin endpoints refuse every request while ``admin_token`` is empty."""

    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str = ""
    legacy_scheduler: bool = True


@dataclass(frozen=True, slots=True)
class Settings:
    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    cleanup: CleanupSettings = CleanupSettings()
    api: ApiSettings = ApiSettings()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment (or ``env``); defaults for every unset variable."""
        reader = _Reader(os.environ if env is None else env)
        return cls(
            db=_database(reader),
            redis=_redis(reader),
            cleanup=_cleanup(reader),
            api=_api(reader),
        )


def _database(read: _Reader) -> DatabaseSettings:
    sslmode = read.text("APP_DB_SSLMODE", "prefer")
    if sslmode not in _SSLMODES:
        raise ConfigError(f"APP_DB_SSLMODE must be one of {', '.join(sorted(_SSLMODES))}.")
    return DatabaseSettings(
        host=read.text("APP_DB_HOST", ""),
        port=read.integer("APP_DB_PORT", 5432, 1, 65535),
        user=read.text("APP_DB_USER", "postgres"),
        password=read.text("APP_DB_PASSWORD", ""),
        name=read.text("APP_DB_NAME", "storyapp"),
        sslmode=sslmode,
        path=read.text("APP_DB_PATH", "storyapp.db"),
        schema=read.identifier("APP_DB_SCHEMA", ""),
    )


def _redis(read: _Reader) -> RedisSettings:
    return RedisSettings(
        host=read.text("APP_REDIS_HOST", "127.0.0.1"),
        port=read.integer("APP_REDIS_PORT", 6379, 1, 65535),
        password=read.text("APP_REDIS_PASSWORD", ""),
        db=read.integer("APP_REDIS_DB", 0, 0, 15),
    )


def _cleanup(read: _Reader) -> CleanupSettings:
    timezone = read.timezone("APP_TIMEZONE", "UTC")
    return CleanupSettings(
        batch_size=read.integer("APP_CLEANUP_BATCH_SIZE", 5000, 1, 30000),
        stories_retention_days=read.integer("APP_STORIES_RETENTION_DAYS", 30, 0, 36500),
        webhook_events_retention_days=read.integer(
            "APP_WEBHOOK_EVENTS_RETENTION_DAYS", 30, 0, 36500
        ),
        tokens_schedule=read.schedule("APP_CLEANUP_TOKENS_SCHEDULE", _TOKENS.spec, timezone),
        stories_schedule=read.schedule("APP_CLEANUP_STORIES_SCHEDULE", _STORIES.spec, timezone),
        webhooks_schedule=read.schedule("APP_CLEANUP_WEBHOOKS_SCHEDULE", _WEBHOOKS.spec, timezone),
        timezone=timezone,
    )


def _api(read: _Reader) -> ApiSettings:
    return ApiSettings(
        host=read.text("APP_API_HOST", "127.0.0.1"),
        port=read.integer("APP_API_PORT", 8000, 1, 65535),
        admin_token=read.text("APP_ADMIN_TOKEN", ""),
        legacy_scheduler=read.flag("APP_LEGACY_SCHEDULER", True),
    )


class _Reader:
    """Reads one variable at a time and names it in every error."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str, default: str) -> str:
        value = self._env.get(name, "").strip()
        return value or default

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.text(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, got {value}.")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name, "on" if default else "off").lower()
        if raw not in _TRUE | _FALSE:
            raise ConfigError(f"{name} must be on or off (also 1/0, true/false), got {raw!r}.")
        return raw in _TRUE

    def schedule(self, name: str, default: str, timezone: str) -> Schedule:
        return parse_schedule(name, self.text(name, default), timezone)

    def identifier(self, name: str, default: str) -> str:
        """A PostgreSQL name that needs no quoting: a letter or _, then letters, digits, _."""
        raw = self.text(name, default)
        if raw and (not _IDENTIFIER.fullmatch(raw) or len(raw) > _MAX_IDENTIFIER_LENGTH):
            raise ConfigError(
                f"{name} must start with a letter or _ and hold only letters, digits and _ "
                f"(at most {_MAX_IDENTIFIER_LENGTH} characters), got {raw!r}."
            )
        return raw

    def timezone(self, name: str, default: str) -> str:
        raw = self.text(name, default)
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{name} must be an IANA time zone such as Europe/Berlin, got {raw!r}."
            ) from None
        return raw
