"""``asyncq web``: serve the monitoring UI; ``asyncq dash`` points to it.

The port is taken before anything is printed, so "Serving ..." means the UI is really
reachable; a bad port or one already in use is one line on stderr. Actions are refused
to start open on an address other than loopback unless ``--allow-open-actions`` says so.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Annotated

import typer

from asyncq.cli.common import fail, stdout
from asyncq.errors import ConfigError
from asyncq.web.auth import PASSWORD_ENV, TOKEN_ENV, USER_ENV, ActionAuth
from asyncq.web.guard import ALLOWED_HOSTS_ENV, HostPolicy


def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless you mean it.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on, 1 to 65535.")] = 8080,
    allowed_hosts: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            envvar=ALLOWED_HOSTS_ENV,
            help="Another host name browsers use to reach the UI (repeatable; the variable "
            "takes a comma-separated list).",
        ),
    ] = None,
    allow_open_actions: Annotated[
        bool,
        typer.Option(
            "--allow-open-actions",
            help="Serve actions without credentials on an address other than loopback.",
        ),
    ] = False,
) -> None:
    """Serve the web UI, its JSON API under /api and Prometheus metrics at /metrics.

    Reads are open. Actions (pause, run, delete, ...) need credentials when either is set:

    ASYNCQ_WEB_TOKEN: a secret sent as "Authorization: Bearer TOKEN";

    ASYNCQ_WEB_USER and ASYNCQ_WEB_PASSWORD (both): HTTP basic auth.

    The UI asks for the secret when an action needs it.

    Without either, actions are open: allowed on loopback, elsewhere only with --allow-open-actions.
    """
    import uvicorn

    from asyncq.inspector import Inspector
    from asyncq.web.app import create_app

    auth = _auth(host, allow_open_actions)
    names = [name for entry in allowed_hosts or [] for name in entry.split(",")]
    listener = _listen(host, port)

    hosts = HostPolicy.for_bind(host, names)
    app = create_app(Inspector.from_url(ctx.obj["url"]), auth=auth, hosts=hosts)
    shown = f"[{host}]" if ":" in host else host
    stdout.print(
        f"Serving the asyncq web UI on http://{shown}:{port}/; {auth.describe()}. Ctrl-C stops it.",
        soft_wrap=True,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[listener])


def _auth(host: str, allow_open_actions: bool) -> ActionAuth:
    """The credentials from the environment, refusing settings that would leave actions open."""
    try:
        auth = ActionAuth.from_env()
    except ConfigError as exc:
        fail(str(exc))
    if not auth.required and not _is_loopback(host) and not allow_open_actions:
        fail(
            f"Refusing to serve open actions on {host}: set {TOKEN_ENV} (or {USER_ENV} and "
            f"{PASSWORD_ENV}), or pass --allow-open-actions if anyone who reaches it may act."
        )
    return auth


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` and listening, or a one-line error."""
    if not 1 <= port <= 65535:
        fail(f"The port must be between 1 and 65535; {port} was given.")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM
        )[0]
        listener = socket.socket(family, kind, proto)
    except OSError as exc:
        fail(f"Cannot use the address {host}: {exc.strerror or exc}.")
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        reason = exc.strerror or str(exc)
        fail(f"Cannot listen on {host}:{port}: {reason} (is another server using it?).")
    return listener


def dash() -> None:
    """The terminal dashboard of asynq is offered as a web UI here: run `asyncq web`."""
    stdout.print("asyncq's dashboard is a web UI: run `asyncq web --port 8080` and open it.")
