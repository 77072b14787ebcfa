"""Checks every request passes before it reaches a page or the API.

A browser lets any website send requests to a server on the user's own machine, so the
UI could be driven (or, through DNS rebinding, read) by a page the operator happens to
open. Three checks close that door:

* the ``Host`` header must name this server: loopback, the bound address or a name on
  the allow-list (``--allowed-host``, ``ASYNCQ_WEB_ALLOWED_HOSTS``);
* an action (anything but GET, HEAD, OPTIONS) must come from a page of this server, going
  by its ``Origin`` header, or its ``Referer`` when ``Origin`` is missing; tools such as
  curl send neither and are let through;
* an action that carries a body must declare ``Content-Type: application/json``, which
  a plain HTML form cannot send.

Refusals are 403 with ``{"error": "<sentence>"}``. The credentials check of
:mod:`asyncq.web.auth` runs after these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from asyncq.web.auth import ActionAuth

ALLOWED_HOSTS_ENV = "ASYNCQ_WEB_ALLOWED_HOSTS"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """The host names that requests may address: loopback plus the given names."""

    names: frozenset[str] = LOOPBACK_NAMES

    @classmethod
    def for_bind(cls, bind_host: str, allowed: Iterable[str] = ()) -> HostPolicy:
        """Loopback, ``bind_host`` (unless it is a wildcard) and ``allowed``."""
        extra = {name.strip().strip("[]").lower() for name in allowed if name.strip()}
        if bind_host not in _WILDCARD_BINDS:
            extra.add(bind_host.strip("[]").lower())
        return cls(LOOPBACK_NAMES | extra)

    def allows(self, host_header: str) -> bool:
        return _host_name(host_header) in self.names


def _host_name(netloc: str) -> str:
    """``example.org`` from ``example.org:8080``, ``::1`` from ``[::1]:8080``."""
    hostname = urlsplit(f"//{netloc}").hostname
    return (hostname or "").lower()


async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Run the host, origin, content-type and credentials checks in turn."""
    policy: HostPolicy = request.app.state.hosts
    host = request.headers.get("host", "")
    if not policy.allows(host):
        return _refuse(f'Host "{host}" is not served here; start the web UI with '
                       f"--allowed-host NAME (or {ALLOWED_HOSTS_ENV}) to allow it.")  # fmt: skip
    if request.method in SAFE_METHODS:
        return await call_next(request)

    refusal = _cross_site(request, host) or _wrong_content_type(request)
    if refusal:
        return _refuse(refusal)
    auth: ActionAuth = request.app.state.auth
    if not auth.allows(request):
        return _unauthorized(auth)
    return await call_next(request)


def _cross_site(request: Request, host: str) -> str | None:
    """Why the action comes from another site, or None when it does not."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return None
    parts = urlsplit(source)
    if parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower():
        return None
    return f'Actions are only accepted from this server\'s own pages, not from "{source}".'


def _wrong_content_type(request: Request) -> str | None:
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not has_body or media_type == "application/json":
        return None
    return "An action with a body must send it as Content-Type: application/json."


def _refuse(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=403)


def _unauthorized(auth: ActionAuth) -> Response:
    challenge = {"WWW-Authenticate": 'Basic realm="asyncq"'} if auth.user else {}
    return JSONResponse(
        {"error": "This action needs credentials; see ASYNCQ_WEB_TOKEN or ASYNCQ_WEB_USER."},
        status_code=401,
        headers=challenge,
    )
