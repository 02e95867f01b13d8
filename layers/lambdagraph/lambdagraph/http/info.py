"""``GET /info``: what the server is and which features it serves, as LangGraph Server answers.

Checked against langgraph-api 0.16.7 (``langgraph_api/api/meta.py``, ``meta_info``): the body
is ``version``, ``langgraph_py_version``, ``flags`` and ``host``, served without
authentication like ``/ok``. Studio reads ``flags.assistants`` to offer assistant editing
and ``flags.crons`` for its cron tab; LangGraph Server sets both to true unconditionally.
Ours says what this app really serves: a flag is true when the app has the route that
creates such a record, so the answer stays true whichever routes a deployment includes.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, Final

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

import lambdagraph
from lambdagraph.http.responses import json_response

# flag → the route whose presence means the feature is served.
_FEATURE_ROUTES: Final = {
    "assistants": ("POST", "/assistants"),
    "crons": ("POST", "/runs/crons"),
}
# Not a LangSmith deployment: no control plane, no tracing replicas or sessions on runs.
_LANGSMITH_FLAGS: Final = {
    "langsmith": False,
    "langsmith_tracing_replicas": False,
    "langsmith_tracing_session_on_runs": False,
}
# LangGraph Server's "self-hosted" host kind: neither its cloud nor a BYOC project.
_HOST: Final = {
    "kind": "self-hosted",
    "project_id": None,
    "host_revision_id": None,
    "revision_id": None,
    "tenant_id": None,
}


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every ``(METHOD, path template)`` the app answers, read from its OpenAPI document
    (FastAPI builds it once; included routers are not flattened into ``app.routes``)."""
    paths: dict[str, dict[str, Any]] = app.openapi().get("paths", {})
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def info_body(app: FastAPI) -> dict[str, Any]:
    """The ``/info`` body for ``app``."""
    served = served_routes(app)
    features = {flag: route in served for flag, route in _FEATURE_ROUTES.items()}
    return {
        "version": lambdagraph.__version__,
        "langgraph_py_version": version("langgraph"),
        "flags": {**features, **_LANGSMITH_FLAGS},
        "host": dict(_HOST),
    }


async def info(request: Request) -> Response:
    """Server version and feature flags, as LangGraph Server's ``GET /info``."""
    return json_response(info_body(request.app))
