"""API routes matched against the raw, still percent-encoded request path.

Queue names and task IDs may hold ``/`` or ``%``. A client sends them percent-encoded
(``weird%2Fname``), but the server decodes the path before routing, which turns one path
segment into two and the route no longer matches. Matching the raw path keeps each name in
its own segment; the parameters are decoded once the route has matched.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.routing import Match, Route
from starlette.types import Scope


class ApiRoute(Route):
    """A route whose ``{name}`` parameters may contain any character, encoded."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raw = scope.get("raw_path")
        if scope["type"] != "http" or not raw:
            return super().matches(scope)

        raw_scope = {**scope, "path": raw.decode("latin-1").split("?", 1)[0], "root_path": ""}
        match, child_scope = super().matches(raw_scope)
        if match is Match.NONE:
            return match, child_scope

        params: dict[str, Any] = child_scope["path_params"]
        child_scope["path_params"] = {k: unquote(v) for k, v in params.items()}
        return match, child_scope
