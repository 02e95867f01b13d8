"""The HTTP API: LangGraph Server's protocol (threads, runs, SSE streams, assistants)."""

from lambdagraph.http.app import create_app, create_app_from_settings

__all__ = ["create_app", "create_app_from_settings"]
