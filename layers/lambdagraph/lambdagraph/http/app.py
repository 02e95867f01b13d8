"""The one ASGI app: LangGraph Server's HTTP API over our store and executor.

Locally uvicorn serves it; in the cloud the streaming function serves it through the AWS
Lambda Web Adapter and the buffered ``api`` function through Mangum.

Example::

    app = create_app(store=store, executor=executor, graphs=registry,
                     authenticator=NoAuth(), settings=Settings())
    uvicorn.run(app)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

import lambdagraph
from lambdagraph import agents
from lambdagraph.auth import Authenticator, authenticator_from_settings
from lambdagraph.engine.durable import DurableRuns
from lambdagraph.engine.erase import ThreadEraser
from lambdagraph.engine.executor import GraphRegistry, RunExecutor
from lambdagraph.engine.invoker import Invoker, LambdaInvoker
from lambdagraph.engine.worker import WorkerHandler, durable_runs, handle_worker_event
from lambdagraph.http import assistants, background, runs, threads
from lambdagraph.http.context import ApiContext
from lambdagraph.http.deadline import LambdaDeadlineMiddleware
from lambdagraph.http.errors import (
    BodyLimitMiddleware,
    ServerFaultMiddleware,
    install_error_handlers,
)
from lambdagraph.http.responses import json_response
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from lambdagraph.store.checkpoint import AsyncDynamoDBSaver

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

EXPOSED_HEADERS = ["Location", "Content-Location", "X-Pagination-Total", "X-Pagination-Next"]


def create_app(
    *,
    store: AppStore,
    executor: RunExecutor,
    graphs: GraphRegistry,
    authenticator: Authenticator,
    settings: Settings,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    durable: DurableRuns | None = None,
) -> FastAPI:
    """Build the HTTP API over the given collaborators.

    Args:
        store: threads and runs.
        executor: runs the graphs; the same one serves every route.
        graphs: the graphs, each exposed as an assistant.
        authenticator: turns request headers into a user id.
        settings: heartbeat interval, body limit, CORS origins.
        checkpointer: where state and history are read; the executor's saver by default.
        durable: background runs, resumable streams and joins (their routes need it).

    Returns:
        A FastAPI app; run tasks still going at shutdown are cancelled.
    """
    saver = checkpointer if checkpointer is not None else executor.checkpointer
    eraser = durable.eraser if durable is not None else None
    if eraser is None:  # no worker machinery: erase deleted threads in this process
        eraser = ThreadEraser.from_settings(settings, store=store, checkpointer=saver, invoker=None)
    context = ApiContext(
        store=store,
        executor=executor,
        graphs=graphs,
        authenticator=authenticator,
        checkpointer=saver,
        settings=settings,
        durable=durable,
        eraser=eraser,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await context.aclose()
        await eraser.aclose()
        closer = getattr(durable.invoker if durable else None, "aclose", None)
        if closer is not None:
            await closer()  # the local invoker's background workers

    app = FastAPI(title="lambdagraph", version=lambdagraph.__version__, lifespan=lifespan)
    app.state.context = context
    install_error_handlers(app)
    app.include_router(threads.router)
    # Before runs.router: its GET /threads/{tid}/runs/{rid} must not shadow .../stream, /join.
    app.include_router(background.router)
    app.include_router(runs.router)
    app.include_router(assistants.router)
    app.add_api_route("/ok", ok, methods=["GET"], tags=["meta"])
    # Added innermost first: the body limit sits next to the routes, CORS outermost so
    # even a 413 or a 500 carries the CORS headers a browser needs to read it.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(ServerFaultMiddleware)
    app.add_middleware(LambdaDeadlineMiddleware)
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


def create_app_from_settings(
    settings: Settings | None = None,
    *,
    authenticator: Authenticator | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    worker_invoker: Callable[[WorkerHandler], Invoker] | None = None,
) -> FastAPI:
    """Build the app and everything under it from the environment (one cold start).

    Reads every ``LAMBDAGRAPH_*`` variable through :class:`Settings`; boto3 clients find
    their endpoints and credentials the usual way (``AWS_ENDPOINT_URL_DYNAMODB`` locally).

    Args:
        settings: the configuration; ``Settings.from_env()`` when omitted.
        authenticator: overrides the one ``LAMBDAGRAPH_AUTH_MODE`` names (tests).
        checkpointer: overrides the DynamoDB saver on the checkpoints table.
        worker_invoker: builds the invoker of worker runs from the worker's handler when no
            ``LAMBDAGRAPH_WORKER_FUNCTION`` is set (the local stack's ``LocalInvoker``).
    """
    settings = settings or Settings.from_env()
    store = AppStore.from_settings(settings)
    graphs = agents.GraphRegistry.from_settings(settings)
    saver = checkpointer if checkpointer is not None else default_checkpointer(settings)
    executor = RunExecutor(
        store, graphs, saver, cancel_poll_interval=settings.cancel_poll_interval
    )
    return create_app(
        store=store,
        executor=executor,
        graphs=graphs,
        authenticator=authenticator or authenticator_from_settings(settings),
        checkpointer=saver,
        settings=settings,
        durable=durable_from_settings(
            settings, store=store, executor=executor, worker_invoker=worker_invoker
        ),
    )


def durable_from_settings(
    settings: Settings,
    *,
    store: AppStore,
    executor: RunExecutor,
    worker_invoker: Callable[[WorkerHandler], Invoker] | None = None,
) -> DurableRuns:
    """Durable runs on the deployed worker function (``LAMBDAGRAPH_WORKER_FUNCTION``), else
    on ``worker_invoker(handler)`` (the local stack's in-process invoker), else without a
    worker (resumable streams and joins only)."""
    if settings.worker_function:
        invoker = LambdaInvoker(settings.worker_function)
        return durable_runs(settings, store=store, executor=executor, invoker=invoker)
    if worker_invoker is None:
        # No worker here: resumable streams and joins work, background runs do not.
        return durable_runs(settings, store=store, executor=executor, invoker=None)
    box: list[DurableRuns] = []

    async def worker(event: dict[str, Any], context: Any) -> str:
        return await handle_worker_event(box[0], event, context)

    local = worker_invoker(worker)
    box.append(durable_runs(settings, store=store, executor=executor, invoker=local))
    return box[0]


def default_checkpointer(settings: Settings) -> BaseCheckpointSaver[Any]:
    """The DynamoDB saver on ``settings.checkpoint_table`` (S3 offload to its bucket, TTL)."""
    saver: BaseCheckpointSaver[Any] = AsyncDynamoDBSaver.from_settings(settings)
    return saver
