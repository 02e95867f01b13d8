"""AG-UI over HTTP: ``POST /ag-ui/{assistant_id}`` takes a ``RunAgentInput`` and streams
AG-UI events as SSE.

An adapter over the run service like the run routes: the body becomes one
:class:`~lambdagraph.engine.RunRequest` on the AG-UI thread (created when new), the run service
runs it (same durability, cancel, auth and limits), and :class:`~lambdagraph.protocol.agui.
AguiStream` encodes what it streams with ``ag-ui-protocol``'s types and ``EventEncoder``.
A malformed input, a thread id that is not a UUID or a resume of an interrupt the thread does
not wait on is a 422 before anything streams; an unknown assistant a 404; a busy thread a
409. A client that closes the stream (``HttpAgent.abortRun``) cancels the run.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response, StreamingResponse

from lambdagraph.engine import QueueSink, RunRequest, describe_errors
from lambdagraph.errors import InvalidInput, NotFound
from lambdagraph.http.context import Access, ApiContext, Ctx, valid_id
from lambdagraph.http.openapi import stream_responses
from lambdagraph.http.runs import launch_run
from lambdagraph.http.streaming import stream_headers
from lambdagraph.protocol.codec import loads
from lambdagraph.protocol.sse import encode_comment
from lambdagraph.store.records import Run

if TYPE_CHECKING:
    from ag_ui.core import RunAgentInput
    from ag_ui.encoder import EventEncoder

    from lambdagraph.protocol.agui import AguiStream

router = APIRouter(tags=["ag-ui"])

MEDIA_TYPE = "text/event-stream"
"""What ``ag-ui-protocol``'s ``EventEncoder`` writes (its SSE encoding)."""


async def parse_input(request: Request) -> RunAgentInput:
    """The body as a ``RunAgentInput`` (422 naming the bad fields when it is not one)."""
    from ag_ui.core import RunAgentInput  # lazy: cold start (~120 ms of generated models)

    payload = loads(await request.body())
    try:
        body = RunAgentInput.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput(f"Invalid RunAgentInput: {describe_errors(exc.errors())}") from None
    valid_id(body.thread_id, "threadId")
    return body


async def _waiting_interrupts(context: ApiContext, owner: str, thread_id: str) -> set[str]:
    try:
        thread = await context.store.get_thread(owner, thread_id)
    except NotFound:
        return set()
    return {
        str(item.get("id"))
        for items in (thread.get("interrupts") or {}).values()
        for item in items
        if isinstance(item, dict)
    }


async def run_request(
    context: ApiContext, owner: str, assistant_id: str, body: RunAgentInput
) -> RunRequest:
    """The run an AG-UI input asks for: new messages as input, or a resume of the thread's
    interrupts; the client's tools, context and forwarded props reach the graph in
    ``config.configurable["ag_ui"]``."""
    from lambdagraph.protocol.agui import STREAM_MODES, resume_value, run_input  # lazy: cold start

    fields: dict[str, Any] = {}
    if body.resume:
        waiting = await _waiting_interrupts(context, owner, body.thread_id)
        fields["command"] = {"resume": resume_value(body.resume, waiting)}
    else:
        graph_input = run_input(body)
        if graph_input is None:
            raise InvalidInput("RunAgentInput has no new message, no state and no resume")
        fields["input"] = graph_input
    extras = {
        "tools": [tool.model_dump(by_alias=True) for tool in body.tools or ()],
        "context": [item.model_dump(by_alias=True) for item in body.context or ()],
        "forwarded_props": body.forwarded_props,
        "run_id": body.run_id,
    }
    try:
        return RunRequest.model_validate(
            {
                "assistant_id": assistant_id,
                **fields,
                "stream_mode": list(STREAM_MODES),
                "config": {"configurable": {"ag_ui": extras}},
                "if_not_exists": "create",
                "multitask_strategy": "reject",
                "on_disconnect": "cancel",
            }
        )
    except ValidationError as exc:
        raise InvalidInput(describe_errors(exc.errors())) from None


@router.post(
    "/ag-ui/{assistant_id}", response_class=StreamingResponse, responses=stream_responses(404, 409)
)
async def run_agent(
    assistant_id: str, request: Request, context: Ctx, guard: Access
) -> Response:
    """Run the assistant on the AG-UI thread and stream AG-UI events as SSE."""
    from lambdagraph.protocol.agui import AguiStream  # lazy: cold start

    body = await parse_input(request)
    owner = guard.identity.user_id
    run_body = await run_request(context, owner, assistant_id, body)
    run, sink, on_gone = await launch_run(context, guard, body.thread_id, run_body)
    translator = AguiStream(body.thread_id, body.run_id)
    return StreamingResponse(
        agui_body(context, owner, run, body, sink, translator, on_gone),
        media_type=MEDIA_TYPE,
        headers=stream_headers(run),
    )


async def agui_body(
    context: ApiContext,
    owner: str,
    run: Run,
    body: RunAgentInput,
    sink: QueueSink,
    translator: AguiStream,
    on_gone: Callable[[], None] | None,
) -> AsyncGenerator[bytes, None]:
    """AG-UI frames for the run: ``RUN_STARTED``, the translated events, and the run's
    close (``RUN_FINISHED`` or ``RUN_ERROR``), with ``: heartbeat`` comments while quiet."""
    from ag_ui.encoder import EventEncoder  # lazy: cold start

    encoder = EventEncoder()
    finished = False
    heartbeat = context.settings.heartbeat_seconds
    try:
        yield _encode(encoder, translator.start(run["run_id"], body))
        while not finished:
            batch = await sink.take(heartbeat)
            if batch is None:
                yield encode_comment("heartbeat")
                continue
            events = []
            for event in batch:
                if event is None:
                    finished = True
                    break
                events += translator.translate(event)
            if events:
                yield _encode(encoder, events)
        ended = await context.runs.get(owner, run["thread_id"], run["run_id"])
        yield _encode(encoder, translator.finish(cancelled=ended.get("status") == "interrupted"))
    finally:
        sink.detach()
        if not finished and on_gone is not None:
            on_gone()


def _encode(encoder: EventEncoder, events: list[Any]) -> bytes:
    return "".join(encoder.encode(event) for event in events).encode()
