"""The WebSocket routes: ``$connect``, ``$disconnect``, ``$default`` and the four actions.

:data:`ROUTES` maps API Gateway's ``routeKey`` to a handler; :meth:`WebSocketApi.handle`
dispatches through it. Action handlers answer by posting to the connection (API Gateway
forwards nothing a handler returns unless a route response is configured); a failing action
answers an ``error`` message and the connection stays open. Nothing here ever posts from
``$connect``: API Gateway reports a connection gone until ``$connect`` has returned.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from lambdagraph.errors import RunNotFound
from lambdagraph.protocol import ws
from lambdagraph.store.events import parse_event_id
from lambdagraph.store.records import ACTIVE_RUN_STATUSES
from lambdagraph.ws.actions import (
    Action,
    CancelAction,
    PingAction,
    RunAction,
    SubscribeAction,
    parse_action,
    parse_body,
    request_id_of,
)
from lambdagraph.store.connections import RunRef
from lambdagraph.ws.errors import ActionError, error_message

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent

    from lambdagraph.ws.api import WebSocketApi

logger = logging.getLogger(__name__)

OK: Final = {"statusCode": 200}


@dataclass(frozen=True)
class Request:
    """One API Gateway WebSocket event, with what every route needs from it."""

    event: APIGatewayWebSocketEvent
    connection_id: str
    user_id: str | None

    @property
    def endpoint(self) -> str:
        """The management API endpoint of the stage this event came through."""
        context = self.event.request_context
        return f"https://{context.domain_name}/{context.stage}"


Route = Callable[["WebSocketApi", Request], Awaitable[dict[str, Any]]]


async def connect(api: WebSocketApi, request: Request) -> dict[str, Any]:
    """``$connect``: record the connection of the user the authorizer vouched for."""
    if not request.user_id:
        logger.warning("connect without an authorizer user id; refusing")
        return {"statusCode": 401}
    await api.connections.put_connection(request.connection_id, request.user_id)
    return OK


async def disconnect(api: WebSocketApi, request: Request) -> dict[str, Any]:
    """``$disconnect`` (best effort): forget the connection; runs drop it on their next post."""
    await api.connections.delete_connection(request.connection_id)
    return OK


async def default(api: WebSocketApi, request: Request) -> dict[str, Any]:
    """``$default`` and every action route: parse the frame and run its action."""
    request_id = None
    try:
        data = parse_body(request.event.decoded_body)
        request_id = request_id_of(data)
        action = parse_action(data)
        if not request.user_id:
            raise ActionError("unauthorized", "This connection has no authenticated user")
        await ACTIONS[type(action)](api, request, action)
    except Exception as exc:  # noqa: BLE001 - every failure becomes an error frame
        await api.reply(request, error_message(exc, request_id=request_id))
    return OK


async def unknown_route(api: WebSocketApi, request: Request) -> dict[str, Any]:
    """A route key this function does not know: say so on the connection."""
    route = request.event.request_context.route_key
    await api.reply(request, ws.error("unknown_route", f"No handler for route {route!r}"))
    return OK


async def run(api: WebSocketApi, request: Request, action: Action) -> None:
    """``run``: record the run (once per ``request_id``), answer, then hand it to a worker."""
    assert isinstance(action, RunAction) and request.user_id
    accepted = await api.record_run(request.user_id, request.connection_id, action)
    await api.reply(
        request, ws.run_accepted(action.request_id, accepted.run_id, accepted.thread_id)
    )
    if accepted.run is not None:  # a repeated request_id started nothing new
        await api.starter.start_background(accepted.run)


async def cancel(api: WebSocketApi, request: Request, action: Action) -> None:
    """``cancel``: flag the run; its worker ends it and sends ``run.ended`` to subscribers."""
    assert isinstance(action, CancelAction) and request.user_id
    ref = await _owned_run(api, request.user_id, action.run_id)
    run = await api.store.cancel_run(ref.owner, ref.thread_id, ref.run_id)
    prefix = f"{request.connection_id}#"
    if run["status"] not in ACTIVE_RUN_STATUSES:
        await api.reply(request, ws.run_ended(ref.run_id, run["status"]))
    elif not any(entry.startswith(prefix) for entry in run.get("subscribers") or ()):
        final = await api.store.wait_for_run(
            ref.owner, ref.thread_id, ref.run_id, timeout=api.cancel_wait_seconds
        )
        await api.reply(request, ws.run_ended(ref.run_id, final["status"]))


async def subscribe(api: WebSocketApi, request: Request, action: Action) -> None:
    """``subscribe``: every event after ``after``, then live ones, then ``run.ended``."""
    assert isinstance(action, SubscribeAction) and request.user_id
    ref = await _owned_run(api, request.user_id, action.run_id)
    after = -1 if action.after is None else parse_event_id(str(action.after))
    if await api.connections.subscribe(ref, request.connection_id, after):
        return  # the run's worker picks the subscriber up within one poll interval
    await api.replay_finished(request, ref, after)


async def ping(api: WebSocketApi, request: Request, action: Action) -> None:
    """``ping``: ``pong``."""
    assert isinstance(action, PingAction)
    await api.reply(request, ws.pong())


async def _owned_run(api: WebSocketApi, user_id: str, run_id: str) -> RunRef:
    ref = await api.connections.get_run(run_id)
    if ref is None or ref.owner != user_id:
        raise RunNotFound(run_id)
    return ref


ACTIONS: Final[Mapping[type, Callable[[WebSocketApi, Request, Action], Awaitable[None]]]] = {
    RunAction: run,
    CancelAction: cancel,
    SubscribeAction: subscribe,
    PingAction: ping,
}

ROUTES: Final[Mapping[str, Route]] = {
    "$connect": connect,
    "$disconnect": disconnect,
    "$default": default,
    "run": default,
    "cancel": default,
    "subscribe": default,
    "ping": default,
}
"""``routeKey`` → handler. Action routes parse the frame like ``$default`` does."""

__all__ = ["ROUTES", "Request"]
