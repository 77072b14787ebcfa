"""``asyncq web``: serve the monitoring UI; ``asyncq dash`` points to it."""

from __future__ import annotations

from typing import Annotated

import typer

from asyncq.cli.common import stdout


def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless you mean it.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """Serve the web UI, its JSON API under /api and Prometheus metrics at /metrics."""
    import uvicorn

    from asyncq.inspector import Inspector
    from asyncq.web.app import create_app

    app = create_app(Inspector.from_url(ctx.obj["url"]))
    stdout.print(f"Serving the asyncq web UI on http://{host}:{port}/ (Ctrl-C stops it).")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def dash() -> None:
    """The terminal dashboard of asynq is offered as a web UI here: run `asyncq web`."""
    stdout.print("asyncq's dashboard is a web UI: run `asyncq web --port 8080` and open it.")
