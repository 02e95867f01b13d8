"""The chat page: ``GET /`` serves it, ``/chat/*`` its assets, ``/chat/config`` its settings.

Plain HTML, CSS and JavaScript modules shipped in the package (``http/chat/``), no build
step. The page speaks the Agent Streaming Protocol (``/threads/{tid}/commands`` and the
thread's event stream) like any other client, with the caller's bearer token, so it sees
exactly what the API lets that caller see. None of these routes returns user data: they stay
public (the page must load to sign in) and out of the OpenAPI schema, which documents the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from lambdagraph.http.responses import json_response
from lambdagraph.settings import Settings

ASSETS: Final = Path(__file__).with_name("chat")
"""Where the page's files live in the package."""
ASSETS_PATH: Final = "/chat/static"
CONFIG_PATH: Final = "/chat/config"
# The page is small and changes with the package: revalidate rather than cache stale JS.
_NO_CACHE: Final = {"Cache-Control": "no-cache"}


def chat_config(settings: Settings) -> dict[str, Any]:
    """What the page needs to know before its first API call.

    Args:
        settings: the app's settings (auth mode, sign-in and WebSocket URLs).

    Returns:
        ``auth`` (the mode), ``login`` (``{authorize_url, client_id}`` when the page can sign
        in through an OAuth 2.0 implicit flow, else None), ``websocket_url`` (empty: SSE only).
    """
    login = None
    if settings.auth_mode == "jwt" and settings.web_login_url:
        login = {"authorize_url": settings.web_login_url, "client_id": settings.jwt_audience}
    return {"auth": settings.auth_mode, "login": login, "websocket_url": settings.web_ws_url}


def install_chat_page(app: FastAPI) -> None:
    """Serve the chat page on ``app`` (outside its OpenAPI schema)."""

    async def index(request: Request) -> Response:
        return FileResponse(ASSETS / "index.html", media_type="text/html", headers=_NO_CACHE)

    async def config(request: Request) -> Response:
        settings: Settings = request.app.state.context.settings
        return json_response(chat_config(settings), headers=_NO_CACHE)

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.add_api_route(CONFIG_PATH, config, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="chat")
