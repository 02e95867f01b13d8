"""A local API Gateway WebSocket API: ``ws://127.0.0.1:8000/ws`` and its ``@connections`` API.

The Agent Streaming Protocol's clients open ``ws://127.0.0.1:8000/threads/{tid}/stream/events``;
the emulator serves that path as the same API with ``?thread_id={tid}`` in the ``$connect``
event (a deployed client puts it in the stage URL's query string: API Gateway has no path
per thread). An HTTP ``POST`` to that path is the app's SSE stream, as before.

The emulator does what API Gateway does, with events of the real shape (see
``tests/events/ws_*.json``), and calls the real handlers:

* on upgrade, the REQUEST authorizer (token from the query string); ``Unauthorized`` → the
  handshake is refused with HTTP 401, a ``Deny`` policy → 403; then ``$connect`` with the
  authorizer context (a non-200 answer refuses the handshake too);
* each text frame → a ``MESSAGE`` event routed on ``$request.body.action`` (non-JSON or an
  unknown action → ``$default``), handled concurrently like separate Lambda invocations;
  a message over 128 KB closes the connection with 1009, as API Gateway does (so does a
  frame over 32 KB: :mod:`lambdagraph_client.local.frames`, in the server's protocol);
* on close, ``$disconnect``;
* ``POST/GET/DELETE /ws/@connections/{id}`` — the management API boto3's
  ``apigatewaymanagementapi`` client calls with ``endpoint_url=http://127.0.0.1:8000/ws``;
  an unknown id answers 410 (boto3 raises ``GoneException``), a message over 128 KB 413.

:class:`LocalGateway` wraps the HTTP app: requests under ``/ws`` go to the emulator,
everything else (and the lifespan) to the app.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from lambdagraph.auth import Authenticator, authenticator_from_settings
from lambdagraph.errors import Unauthorized
from lambdagraph.protocol.ws import MESSAGE_BYTES
from lambdagraph.settings import Settings
from lambdagraph.wiring import LocalApps
from lambdagraph.ws.api import WebSocketApi
from lambdagraph.ws.authorizer import authorize, is_allowed
from lambdagraph_client.local.invoker import LocalContext

logger = logging.getLogger(__name__)

PATH: Final = "/ws"
THREAD_STREAM_PATH: Final = "/threads/{thread_id}/stream/events"
"""Where the official SDKs open a thread's WebSocket (bound to the thread, as ``?thread_id``)."""
STAGE: Final = "ws"
API_ID: Final = "local"
ACCOUNT: Final = "000000000000"
REGION: Final = "us-east-1"
ROUTE_TIMEOUT_SECONDS: Final = 29.0
"""API Gateway's integration timeout: a route handler's Lambda-like deadline."""
ROUTE_KEYS: Final = frozenset({"run", "cancel", "subscribe", "ping"})
"""Routes the deployed API declares besides ``$connect``/``$disconnect``/``$default``."""

Handler = Callable[[dict[str, Any], Any], Awaitable[dict[str, Any]]]
Authorizer = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass
class _Connection:
    socket: WebSocket
    context: dict[str, Any]
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class LocalGateway:
    """The WebSocket API emulator, wrapping an HTTP ASGI app.

    Args:
        app: the HTTP app; everything outside ``/ws`` goes to it.
        handler: the ``ws`` function's handler, ``async handler(event, context) -> dict``.
        authorizer: the authorizer, ``async authorizer(event) -> policy`` (may raise
            ``Unauthorized``).
    """

    def __init__(self, app: ASGIApp, handler: Handler, authorizer: Authorizer) -> None:
        self.app = app
        self.handler = handler
        self.authorizer = authorizer
        self.connections: dict[str, _Connection] = {}
        self.api: WebSocketApi | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread_route = WebSocketRoute(THREAD_STREAM_PATH, self._serve_thread_socket)
        self.router = Router(
            routes=[
                WebSocketRoute(PATH, self._serve_socket),
                self._thread_route,
                Route(
                    f"{PATH}/@connections/{{connection_id}}",
                    self._manage,
                    methods=["POST", "GET", "DELETE"],
                ),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        ours = path == PATH or path.startswith(f"{PATH}/")
        if scope["type"] == "websocket" and not ours:
            ours = self._thread_route.matches(scope)[0] is Match.FULL
        if scope["type"] != "lifespan" and ours:
            await self.router(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # --- the WebSocket side ---------------------------------------------------------------

    async def _serve_thread_socket(self, socket: WebSocket) -> None:
        await self._serve_socket(socket, thread_id=socket.path_params["thread_id"])

    async def _serve_socket(self, socket: WebSocket, thread_id: str | None = None) -> None:
        connection_id = _new_connection_id()
        context = self._request_context(socket, connection_id, "$connect", "CONNECT")
        refusal = await self._authorize(socket, context, thread_id)
        if refusal is not None:
            await _refuse(socket, refusal)
            return
        event = self._connect_event(socket, context, thread_id)
        answer = await self.handler(event, _route_context())
        if answer.get("statusCode", 200) != 200:
            await _refuse(socket, int(answer.get("statusCode", 500)))
            return
        await socket.accept()
        connection = _Connection(socket, context)
        self.connections[connection_id] = connection
        code, reason = 1005, "Client-side close frame status not set"
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    code = int(message.get("code") or 1005)
                    break
                body = message.get("text")
                raw = body.encode() if body is not None else (message.get("bytes") or b"")
                if len(raw) > MESSAGE_BYTES:
                    code, reason = 1009, "Message too big"
                    await socket.close(1009, "Message too big")
                    break
                connection.last_active_at = time.time()
                self._spawn(self.handler(self._message_event(context, body, raw), _route_context()))
        except WebSocketDisconnect as exc:
            code = exc.code
        finally:
            self.connections.pop(connection_id, None)
            event = self._disconnect_event(connection_id, context, code, reason)
            self._spawn(self.handler(event, _route_context()))

    async def _authorize(
        self, socket: WebSocket, context: dict[str, Any], thread_id: str | None
    ) -> int | None:
        """None when the authorizer allows the connection, else the HTTP status to refuse with."""
        event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/$connect",
            **_headers_and_query(socket, thread_id),
            "stageVariables": {},
            "requestContext": dict(context),
        }
        try:
            policy = await self.authorizer(event)
        except Unauthorized:
            return 401
        except Exception:
            logger.exception("the authorizer failed")
            return 500
        if not is_allowed(policy):
            return 403
        context["authorizer"] = {
            "principalId": policy.get("principalId"),
            "integrationLatency": 0,
            **(policy.get("context") or {}),
        }
        return None

    def _request_context(
        self, socket: WebSocket, connection_id: str, route_key: str, event_type: str
    ) -> dict[str, Any]:
        now = time.time()
        host = socket.headers.get("host", "127.0.0.1")
        request_id = _request_id()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": int(now * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": socket.client.host if socket.client else "127.0.0.1",
                "userAgent": socket.headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "domainName": host,
            "connectionId": connection_id,
            "apiId": API_ID,
        }

    def _connect_event(
        self, socket: WebSocket, context: dict[str, Any], thread_id: str | None
    ) -> dict[str, Any]:
        head = _headers_and_query(socket, thread_id)
        return {**head, "requestContext": context, "isBase64Encoded": False}

    def _message_event(self, base: dict[str, Any], text: str | None, raw: bytes) -> dict[str, Any]:
        route_key = _route_key(text)
        context = {
            **base,
            **_fresh_times(),
            "routeKey": route_key,
            "eventType": "MESSAGE",
            "messageId": _request_id(),
        }
        context["requestId"] = context["extendedRequestId"] = _request_id()
        if text is not None:
            return {"requestContext": context, "body": text, "isBase64Encoded": False}
        return {
            "requestContext": context,
            "body": base64.b64encode(raw).decode(),
            "isBase64Encoded": True,
        }

    def _disconnect_event(
        self, connection_id: str, base: dict[str, Any], code: int, reason: str
    ) -> dict[str, Any]:
        context = {
            **base,
            **_fresh_times(),
            "routeKey": "$disconnect",
            "eventType": "DISCONNECT",
            "disconnectStatusCode": code,
            "disconnectReason": reason,
        }
        context["requestId"] = context["extendedRequestId"] = _request_id()
        host = base["domainName"]
        return {
            "headers": {"Host": host},
            "multiValueHeaders": {"Host": [host]},
            "requestContext": context,
            "isBase64Encoded": False,
        }

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("ws handler failed", exc_info=task.exception())

    # --- the management API ---------------------------------------------------------------

    async def _manage(self, request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        connection = self.connections.get(connection_id)
        if connection is None:
            return _aws_error(410, "GoneException", f"Connection {connection_id} is gone")
        if request.method == "GET":
            return JSONResponse(
                {
                    "connectedAt": _iso(connection.connected_at),
                    "lastActiveAt": _iso(connection.last_active_at),
                    "identity": connection.context["identity"],
                }
            )
        if request.method == "DELETE":
            self.connections.pop(connection_id, None)
            async with connection.lock:
                await connection.socket.close(1000)
            return Response(status_code=204)
        data = await request.body()
        if len(data) > MESSAGE_BYTES:
            return _aws_error(413, "PayloadTooLargeException", "Message exceeds 128 KB")
        try:
            async with connection.lock:
                try:
                    await connection.socket.send_text(data.decode())
                except UnicodeDecodeError:
                    await connection.socket.send_bytes(data)
        except Exception:  # noqa: BLE001 - the socket died between lookup and send: gone
            self.connections.pop(connection_id, None)
            return _aws_error(410, "GoneException", f"Connection {connection_id} is gone")
        return Response(status_code=200)


def _route_key(text: str | None) -> str:
    """API Gateway's ``$request.body.action`` selection, falling back to ``$default``."""
    if text is None:
        return "$default"
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return "$default"
    action = body.get("action") if isinstance(body, dict) else None
    return action if isinstance(action, str) and action in ROUTE_KEYS else "$default"


def _headers_and_query(socket: WebSocket, thread_id: str | None = None) -> dict[str, Any]:
    """The handshake's headers and query string as API Gateway puts them in an event;
    ``thread_id`` (from the local per-thread path) is added as ``?thread_id=``."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in socket.headers.items():
        title = "-".join(part.capitalize() for part in name.split("-"))
        headers[title] = value
        multi_headers.setdefault(title, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    items = socket.query_params.multi_items()
    if thread_id is not None:
        items = [(k, v) for k, v in items if k != "thread_id"] + [("thread_id", thread_id)]
    for name, value in items:
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    out: dict[str, Any] = {"headers": headers, "multiValueHeaders": multi_headers}
    if query:
        out["queryStringParameters"] = query
        out["multiValueQueryStringParameters"] = multi_query
    return out


async def _refuse(socket: WebSocket, status: int) -> None:
    try:
        await socket.send_denial_response(Response(status_code=status))
    except RuntimeError:  # a server without the denial extension: close the handshake (403)
        await socket.close(1008)


def _aws_error(status: int, code: str, message: str) -> Response:
    return JSONResponse(
        {"message": message}, status_code=status, headers={"x-amzn-ErrorType": code}
    )


def _route_context() -> LocalContext:
    return LocalContext("WebSocketFunction", ROUTE_TIMEOUT_SECONDS)


def _new_connection_id() -> str:
    return base64.b64encode(os.urandom(9)).decode().replace("/", "_") + "="


def _request_id() -> str:
    return base64.b64encode(uuid.uuid4().bytes[:11]).decode()[:15] + "="


def _fresh_times() -> dict[str, Any]:
    now = time.time()
    return {
        "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now * 1000),
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def build_gateway(
    apps: LocalApps, settings: Settings, authenticator: Authenticator | None = None
) -> LocalGateway:
    """Serve the local HTTP app together with its WebSocket API (``lambdagraph.wiring``).

    The authorizer uses ``authenticator`` (default: ``LAMBDAGRAPH_AUTH_MODE``).
    """
    auth = authenticator or authenticator_from_settings(settings)

    async def authorizer(event: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await authorize(event, auth)
        return answer

    gateway = LocalGateway(apps.http, apps.ws.handle, authorizer)
    gateway.api = apps.ws
    return gateway
