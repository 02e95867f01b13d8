"""The one ASGI app: LangGraph Server's HTTP API over our store and executor.

Locally uvicorn serves it; in the cloud the streaming function serves it through the AWS
Lambda Web Adapter and the buffered ``api`` function through Mangum.

Example::

    app = create_app(store=store, runs=service, graphs=registry, checkpointer=saver,
                     eraser=eraser, authenticator=NoAuth(), settings=Settings())
    uvicorn.run(app)

:mod:`lambdagraph.wiring` builds every collaborator from ``Settings``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

import lambdagraph
from lambdagraph.auth import Authenticator
from lambdagraph.auth.policy import AllowAll, Authorizer
from lambdagraph.engine import (
    COMMANDS,
    GraphRegistry,
    RunService,
    ThreadEraser,
    ThreadStreams,
)
from lambdagraph.http import a2a, agent_stream, agui, assistants, background, crons, threads
from lambdagraph.http import runs as run_routes
from lambdagraph.http import store as store_routes
from lambdagraph.http.chat_page import install_chat_page
from lambdagraph.http.context import ApiContext
from lambdagraph.http.deadline import LambdaDeadlineMiddleware
from lambdagraph.http.errors import (
    BodyLimitMiddleware,
    ServerFaultMiddleware,
    install_error_handlers,
)
from lambdagraph.http.info import info
from lambdagraph.http.limits import RATE_LIMIT
from lambdagraph.http.openapi import COMMON_ERRORS, error_responses, install_openapi
from lambdagraph.http.responses import json_response
from lambdagraph.observability.tracing import ObservabilityMiddleware
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

EXPOSED_HEADERS = ["Location", "Content-Location", "X-Pagination-Total", "X-Pagination-Next"]


def create_app(
    *,
    store: AppStore,
    runs: RunService,
    graphs: GraphRegistry,
    authenticator: Authenticator,
    settings: Settings,
    checkpointer: BaseCheckpointSaver[Any],
    eraser: ThreadEraser,
    authorizer: Authorizer | None = None,
) -> FastAPI:
    """Build the HTTP API over the given collaborators.

    Args:
        store: threads (the thread routes read and write them).
        runs: the run service every run route adapts to.
        graphs: the graphs, each exposed as an assistant.
        authenticator: turns request headers into a user id.
        settings: heartbeat interval, body limit, CORS origins.
        checkpointer: where state and history are read (the executor's saver).
        eraser: deletes threads (``DELETE /threads/{tid}``) and erases what they owned.
        authorizer: judges each action (default: everything the caller owns is allowed).

    Returns:
        A FastAPI app; run and erase tasks still going at shutdown are cancelled.
    """
    context = ApiContext(
        store=store,
        runs=runs,
        graphs=graphs,
        authenticator=authenticator,
        checkpointer=checkpointer,
        settings=settings,
        eraser=eraser,
        authorizer=authorizer or AllowAll(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await eraser.aclose()
        await runs.aclose()

    app = FastAPI(title="lambdagraph", version=lambdagraph.__version__, lifespan=lifespan)
    app.state.context = context
    app.state.thread_streams = ThreadStreams(
        runs,
        graphs,
        handlers=COMMANDS,
        idle_seconds=settings.agent_stream_idle_seconds or None,
        checkpointer=checkpointer,
    )
    install_error_handlers(app)
    install_openapi(app)
    common = error_responses(*COMMON_ERRORS)
    limited = [RATE_LIMIT]  # per-user requests per minute (http/limits.py)
    # Before threads.router: POST /threads/{tid}/commands and .../stream/events are its own.
    # It counts its requests itself (a run.start in its run's create transaction).
    app.include_router(agent_stream.router, responses=common)
    app.include_router(threads.router, responses=common, dependencies=limited)
    app.include_router(crons.router, responses=common, dependencies=limited)
    # Before run_routes.router: its GET /threads/{tid}/runs/{rid} must not shadow .../stream, /join.
    app.include_router(background.router, responses=common, dependencies=limited)
    app.include_router(run_routes.router, responses=common, dependencies=limited)
    app.include_router(assistants.router, responses=common, dependencies=limited)
    app.include_router(store_routes.router, responses=common, dependencies=limited)
    app.include_router(agui.router, responses=common, dependencies=limited)
    app.include_router(a2a.router, responses=common, dependencies=limited)
    # The body limit and Content-Length check guard every route, even this one.
    app.add_api_route(
        "/ok", ok, methods=["GET"], tags=["meta"], responses=error_responses(400, 413)
    )
    app.add_api_route(
        "/info", info, methods=["GET"], tags=["meta"], responses=error_responses(400, 413)
    )
    install_chat_page(app)  # GET /, /chat/*: outside the schema, no user data
    # Added innermost first: the body limit sits next to the routes, CORS outermost so
    # even a 413 or a 500 carries the CORS headers a browser needs to read it.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(ServerFaultMiddleware)
    app.add_middleware(LambdaDeadlineMiddleware)
    app.add_middleware(ObservabilityMiddleware)
    origins = [o.strip() for o in settings.cors_allow_origins.split(",") if o.strip()]
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials="*" not in origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
    )
    return app


async def ok() -> Response:
    """Health check, as LangGraph Server answers it."""
    return json_response({"ok": True})
