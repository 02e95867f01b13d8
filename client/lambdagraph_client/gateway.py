"""Point the official Python SDK's WebSocket transport at a deployed WebSocket API.

``langgraph-sdk``'s ``ProtocolWebSocketTransport`` sends commands over HTTP to its client's
base URL (the function URL) and opens each subscription at
``<base URL>/threads/{tid}/stream/events``. An API Gateway WebSocket API has one URL per
stage (``wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}``), on another host and
with no per-thread path, so the thread travels in the query string. The transport takes a
``connect`` callable (``websockets``' ``connect`` by default); :func:`gateway_connect` builds
one that opens the stage URL instead, with ``?thread_id=`` from the path the SDK asked for
and any other query parameters (e.g. the ``token`` the authorizer reads).

Example:
    >>> http = httpx.AsyncClient(base_url=FUNCTION_URL, headers={"Authorization": ...})
    >>> transport = ProtocolWebSocketTransport(
    ...     client=http, thread_id=tid, connect=gateway_connect(WS_URL, query={"token": t})
    ... )
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import connect as async_connect
from websockets.sync.client import connect as sync_connect

_THREAD_PATH = re.compile(r"/threads/([^/]+)/stream/events$")


def gateway_url(stage_url: str, sdk_url: str, query: Mapping[str, str] | None = None) -> str:
    """The stage URL with ``thread_id`` (from the SDK's per-thread URL) and ``query`` added.

    Raises:
        ValueError: ``sdk_url`` does not end in ``/threads/{tid}/stream/events``.
    """
    match = _THREAD_PATH.search(urlsplit(sdk_url).path)
    if match is None:
        raise ValueError(f"not a thread stream URL: {sdk_url}")
    parts = urlsplit(stage_url)
    params = {**dict(query or {}), "thread_id": match.group(1)}
    extra = urlencode(params)
    joined = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))


def gateway_connect(
    stage_url: str, *, query: Mapping[str, str] | None = None, sync: bool = False
) -> Callable[..., Any]:
    """A ``connect`` for ``ProtocolWebSocketTransport`` (``sync=True``: for
    ``SyncProtocolWebSocketTransport``) that opens ``stage_url`` for the SDK's thread."""
    opener = sync_connect if sync else async_connect

    def connect(url: str, **options: Any) -> Any:
        return opener(gateway_url(stage_url, url, query), **options)

    return connect
