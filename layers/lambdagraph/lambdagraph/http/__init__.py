"""The HTTP API: LangGraph Server's protocol (threads, runs, SSE streams, assistants)."""

from lambdagraph.http.app import create_app

__all__ = ["create_app"]
