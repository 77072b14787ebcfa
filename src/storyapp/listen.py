"""The API's listening socket, bound before anything starts so a bad address is one clear line.

Binding first means the legacy scheduler never starts and nothing announces an address when
``APP_API_HOST`` or ``APP_API_PORT`` cannot be used; each failure names the variable to change.
"""

from __future__ import annotations

import errno
import socket

from asyncq import ConfigError
from storyapp.config import ApiSettings

_BACKLOG = 2048
"""uvicorn's default backlog."""


def bind_api_socket(settings: ApiSettings) -> socket.socket:
    """A socket listening on the configured host and port, or a ConfigError naming why.

    It listens at once, so a request sent as soon as the address is announced waits in the
    backlog until uvicorn serves it instead of being refused.
    """
    host, port = settings.host, settings.port
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(
            f"APP_API_HOST={host!r} is not an address or a host name this machine resolves: "
            f"{exc.strerror}."
        ) from None

    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(_BACKLOG)
    except OSError as exc:
        sock.close()
        raise _bind_error(host, port, exc) from None
    return sock


def _bind_error(host: str, port: int, error: OSError) -> ConfigError:
    if error.errno == errno.EADDRINUSE:
        return ConfigError(
            f"APP_API_PORT={port} is already in use on {host}; stop what listens there or "
            "choose another port."
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return ConfigError(
            f"APP_API_HOST={host!r} is not an address of this machine; use 127.0.0.1, ::1, "
            "0.0.0.0 or one of its own addresses."
        )
    if error.errno == errno.EACCES:
        return ConfigError(
            f"APP_API_PORT={port} needs privileges this process lacks; use a port above 1023."
        )
    return ConfigError(
        f"Cannot listen on APP_API_HOST={host!r} APP_API_PORT={port}: {error.strerror}."
    )


def http_url(host: str, port: int) -> str:
    """The URL of ``host:port``, with an IPv6 address in brackets as URLs require."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
