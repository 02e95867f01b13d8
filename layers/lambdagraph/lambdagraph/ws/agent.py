"""The Agent Streaming Protocol ("v2") on the WebSocket API: frames with ``method``.

API Gateway routes on ``$request.body.action``; a protocol frame (``{"id", "method",
"params"}``) has no ``action`` and arrives on ``$default``, which hands it here. The frame
addresses the thread bound at ``$connect`` (``?thread_id=<uuid>`` in the URL; the local
stack's ``/threads/{tid}/stream/events`` binds it from the path), or the frame's own
top-level ``thread_id`` (a connection may follow several threads).

* ``subscription.subscribe`` / ``subscription.reconnect``: replay the thread log after
  ``since`` (all of it without one) to this connection, frame by frame, then register the
  subscription (:class:`~lambdagraph.store.connections.ConnectionStore`) so the worker of the
  thread's active or next run posts its live frames here (``ws.thread_fanout``). The
  registration is conditional on what the replay saw, so no frame is lost or sent twice
  across the replay/live boundary; the ``success`` response follows the replayed frames.
* ``subscription.unsubscribe``: forget it (an active run stops within one poll interval).
* Every other method goes to :meth:`ThreadStreams.command`, exactly as
  ``POST /threads/{tid}/commands`` does; its response is posted back.

Every answer is one message; a mistake is the protocol's ``error`` response, never a 5xx.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

from lambdagraph.auth.guard import Guard
from lambdagraph.engine import RUN_RECORDING_COMMANDS, parse_uuid, protocol_code
from lambdagraph.errors import LambdagraphError
from lambdagraph.protocol.agent import (
    FIRST_SEQ,
    ProtocolError,
    error,
    parse_command,
    parse_since,
    parse_subscription,
    success,
)
from lambdagraph.store import schema
from lambdagraph.store.connections import ConnectionStore, StreamSubscription
from lambdagraph.ws.sender import ConnectionSender, ManagementClient
from lambdagraph.ws.stream_frames import encode_frame, encode_response

if TYPE_CHECKING:
    from lambdagraph.auth.policy import Authorizer
    from lambdagraph.engine import RunService, ThreadStreams
    from lambdagraph.settings import Settings
    from lambdagraph.ws.routes import Request

logger = logging.getLogger(__name__)

ATTEMPTS: Final = 8
"""How often a subscribe replays and retries its registration while the thread changes."""
_MAX_SUBSCRIPTION_ID: Final = 200


class AgentHost(Protocol):
    """What the protocol handlers need of the API object (``WebSocketApi`` fits)."""

    runs: RunService
    connections: ConnectionStore
    streams: ThreadStreams | None
    authorizer: Authorizer
    settings: Settings

    def client_for(self, request: Request) -> ManagementClient:
        """The management API client of the request's stage."""
        ...


def is_protocol_frame(data: Mapping[str, Any]) -> bool:
    """Whether a frame is an Agent Streaming Protocol command (``method``, no ``action``)."""
    return "method" in data and "action" not in data


def command_id_of(data: Mapping[str, Any]) -> int | None:
    """The frame's integer ``id`` (echoed in an error), if it has one."""
    value = data.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def handle_frame(api: AgentHost, request: Request, data: Mapping[str, Any]) -> None:
    """Answer one protocol frame on the requesting connection."""
    command_id = command_id_of(data)
    try:
        command_id, method, params = parse_command(data)
        identity = request.identity
        if identity is None or not identity.user_id:
            raise ProtocolError("permission_denied", "This connection has no authenticated user")
        if api.streams is None:
            raise ProtocolError("not_supported", "The Agent Streaming Protocol is not enabled")
        if method not in RUN_RECORDING_COMMANDS:  # else the run's create transaction counts it
            await api.runs.store.limits.count_request(identity.user_id)
        thread_id = await _thread_of(api, request, data)
        guard = Guard(api.authorizer, api.runs.store, identity)
        params = await guard.agent_command(thread_id, method, params)
        handler = SUBSCRIPTION_HANDLERS.get(method)
        if handler is not None:
            response = await handler(api, request, thread_id, command_id, params)
        else:
            command = {**data, "params": params}
            response = await api.streams.command(identity.user_id, thread_id, command)
    except ProtocolError as exc:
        response = error(command_id, exc.code, exc.message)
    except LambdagraphError as exc:
        response = error(command_id, *protocol_code(exc))
    await post(api, request, encode_response(response))


def bad_frame(message: str) -> bytes:
    """The protocol's answer to a frame that is not a JSON object."""
    return encode_response(error(None, "invalid_argument", message))


async def post(api: AgentHost, request: Request, message: bytes) -> None:
    """Post one message to the requesting connection, in order, and wait for it."""
    sender = _sender(api, request)
    sender.post_bytes(message)
    await sender.close()


async def _thread_of(api: AgentHost, request: Request, data: Mapping[str, Any]) -> str:
    named = data.get("thread_id")
    if named is not None:
        if not isinstance(named, str):
            raise ProtocolError("invalid_argument", "thread_id must be a UUID string")
        try:
            return parse_uuid(named, "thread_id")
        except ValueError as exc:
            raise ProtocolError("invalid_argument", str(exc)) from None
    connection = await api.connections.get_connection(request.connection_id)
    if connection is None or connection.thread_id is None:
        raise ProtocolError(
            "invalid_argument",
            "This connection is bound to no thread: connect with ?thread_id=<uuid> in the "
            "URL, or name the thread in the frame as a top-level thread_id",
        )
    return connection.thread_id


def _sender(api: AgentHost, request: Request) -> ConnectionSender:
    return ConnectionSender(
        request.connection_id,
        api.client_for(request),
        run_id="-",
        thread_id="-",
        max_queued_bytes=1 << 62,  # a route handler posts what it has; nothing to detach
    )


async def subscribe(
    api: AgentHost,
    request: Request,
    thread_id: str,
    command_id: int,
    params: dict[str, Any],
    *,
    reconnect: bool = False,
) -> dict[str, Any]:
    """``subscription.subscribe``: replay after ``since``, then register for live frames."""
    assert api.streams is not None and request.user_id
    subscription = parse_subscription(params)
    since = parse_since(params.get("since"))
    if reconnect and since is None:
        raise ProtocolError(
            "invalid_argument", "subscription.reconnect requires a non-negative integer since"
        )
    record = StreamSubscription(
        thread_id,
        request.connection_id,
        _subscription_id(params) if reconnect else str(uuid.uuid4()),
        request.user_id,
        subscription.to_params(),
    )
    await api.streams.check_thread(request.user_id, thread_id)
    if since is not None:
        await api.streams.check_cursor(thread_id, since)
    # The log reads on without a gap from the cursor: a thread's frames start at FIRST_SEQ.
    cursor = FIRST_SEQ - 1 if since is None else since
    replayed = 0
    for _ in range(ATTEMPTS):
        thread = await api.runs.store.get_thread(request.user_id, thread_id)
        read = await api.streams.log.read_after(thread_id, cursor, skip_gaps=False)
        sender = _sender(api, request)
        for event in read.events:
            frame = event.data
            seq = frame.get("seq") if isinstance(frame, dict) else None
            if not isinstance(seq, int) or seq <= cursor:
                continue
            cursor = seq
            if subscription.matches(frame):
                sender.post_bytes(encode_frame(frame))
                replayed += 1
        await sender.close()  # replayed frames reach the client before any live one
        active = thread.get("active_run_id")
        if active:
            done = await api.connections.subscribe_active_run(record, active, cursor)
        else:
            done = await api.connections.subscribe_idle_thread(
                record, updated_at=thread["updated_at"]
            )
        if done:
            result = {"subscription_id": record.subscription_id, "replayed_events": replayed}
            return success(command_id, result, cursor if cursor >= 0 else None)
    raise ProtocolError("unknown_error", "The thread kept changing; subscribe again")


async def reconnect(
    api: AgentHost, request: Request, thread_id: str, command_id: int, params: dict[str, Any]
) -> dict[str, Any]:
    """``subscription.reconnect``: ``subscribe`` with a required ``since`` (and id)."""
    return await subscribe(api, request, thread_id, command_id, params, reconnect=True)


async def unsubscribe(
    api: AgentHost, request: Request, thread_id: str, command_id: int, params: dict[str, Any]
) -> dict[str, Any]:
    """``subscription.unsubscribe``: forget the subscription; tell the active run."""
    assert request.user_id
    subscription_id = params.get("subscription_id")
    if not isinstance(subscription_id, str) or not subscription_id:
        raise ProtocolError(
            "invalid_argument", "subscription.unsubscribe requires a subscription_id"
        )
    removed = await api.connections.unsubscribe_stream(
        thread_id, request.connection_id, subscription_id
    )
    if not removed:
        raise ProtocolError("no_such_subscription", f"Unknown subscription: {subscription_id}")
    thread = await api.runs.store.get_thread(request.user_id, thread_id)
    active = thread.get("active_run_id")
    if active:
        entry = schema.stream_entry(
            request.connection_id, subscription_id, schema.STREAM_UNSUBSCRIBED
        )
        await api.connections.announce(thread_id, active, [entry])
    return success(command_id, {}, None)


def _subscription_id(params: Mapping[str, Any]) -> str:
    value = params.get("subscription_id")
    if value is None:
        return str(uuid.uuid4())
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= _MAX_SUBSCRIPTION_ID
        or "|" in value
        or "#" in value
    ):
        raise ProtocolError(
            "invalid_argument",
            f"subscription_id must be a string of 1 to {_MAX_SUBSCRIPTION_ID} characters "
            "without | or #",
        )
    return value


SubscriptionHandler = Callable[
    [AgentHost, "Request", str, int, dict[str, Any]], Awaitable[dict[str, Any]]
]

SUBSCRIPTION_HANDLERS: Final[Mapping[str, SubscriptionHandler]] = {
    "subscription.subscribe": subscribe,
    "subscription.reconnect": reconnect,
    "subscription.unsubscribe": unsubscribe,
}
"""The methods this transport answers itself; every other goes to ``ThreadStreams``."""

__all__ = [
    "SUBSCRIPTION_HANDLERS",
    "AgentHost",
    "bad_frame",
    "handle_frame",
    "is_protocol_frame",
    "post",
]
