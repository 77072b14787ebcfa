"""Optional protection of the web UI's actions (everything that is not a GET).

Set ``ASYNCQ_WEB_TOKEN`` to require ``Authorization: Bearer <token>``, or
``ASYNCQ_WEB_USER`` and ``ASYNCQ_WEB_PASSWORD`` to require HTTP basic auth (both or
neither: one without the other is refused at start, so actions never end up open by
mistake). With none set, actions are open, which is why the server binds to loopback by
default and refuses any other address unless told that open actions are meant.
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request

from asyncq.errors import ConfigError

TOKEN_ENV = "ASYNCQ_WEB_TOKEN"
USER_ENV = "ASYNCQ_WEB_USER"
PASSWORD_ENV = "ASYNCQ_WEB_PASSWORD"


@dataclass(frozen=True, slots=True)
class ActionAuth:
    """Who may run actions: a bearer token, a basic-auth user, both, or anyone."""

    token: str | None = None
    user: str | None = None
    password: str | None = None

    def __post_init__(self) -> None:
        if self.password and not self.user:
            raise ConfigError(f"{PASSWORD_ENV} is set but {USER_ENV} is not; set both.")
        if self.user and not self.password:
            raise ConfigError(f"{USER_ENV} is set but {PASSWORD_ENV} is not; set both.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ActionAuth:
        """The settings in the environment; ConfigError when a user lacks its password."""
        return cls(
            token=env.get(TOKEN_ENV) or None,
            user=env.get(USER_ENV) or None,
            password=env.get(PASSWORD_ENV) or None,
        )

    def describe(self) -> str:
        """How actions are protected, for the start-up line."""
        methods = [f"a bearer token ({TOKEN_ENV})"] if self.token else []
        if self.user:
            methods.append(f"basic auth as {self.user!r} ({USER_ENV})")
        if not methods:
            return f"actions are open to anyone who can reach it (set {TOKEN_ENV} to protect them)"
        return "actions need " + " or ".join(methods)

    @property
    def required(self) -> bool:
        return bool(self.token or self.user)

    def allows(self, request: Request) -> bool:
        """Whether the request's Authorization header satisfies one configured method."""
        if not self.required:
            return True
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.token:
            return hmac.compare_digest(credentials.encode(), self.token.encode())
        if scheme.lower() == "basic" and self.user:
            expected = f"{self.user}:{self.password}".encode()
            try:
                given = base64.b64decode(credentials, validate=True)
            except ValueError:
                return False
            return hmac.compare_digest(given, expected)
        return False
