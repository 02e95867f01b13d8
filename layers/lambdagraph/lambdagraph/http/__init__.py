"""The HTTP API: LangGraph Server's protocol (threads, runs, SSE streams, assistants).

``lambdagraph.wiring.build_http_app`` builds it from ``Settings``.
"""

from lambdagraph.http.app import create_app

__all__ = ["create_app"]
