"""A2A over HTTP: JSON-RPC 2.0 at ``POST /a2a/{assistant_id}`` and the agent card at
``GET /.well-known/agent-card.json?assistant_id=``.

An adapter over the run service like the AG-UI route: ``a2a-sdk``'s ``JsonRpcDispatcher``
parses the envelope and the params (A2A 1.0 method names, and 0.3's through its compat
layer, chosen by the ``A2A-Version`` header as the spec's versioning section says) and calls
:class:`RunTasks`, which turns each method into run-service calls:

* a task is a run (its id: ``<context id>.<run id>``, so it is found without an index);
  the ``contextId`` is the thread; a message on an ``input-required`` task resumes its
  interrupt (the resume run belongs to the same task);
* runs are resumable and survive the client (``tasks/resubscribe`` replays the log);
* an unknown task and another user's task are the same ``TaskNotFound``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from lambdagraph.auth.guard import Guard
from lambdagraph.engine import QueueSink, RunRequest, describe_errors
from lambdagraph.errors import AssistantNotFound, LambdagraphError, NotFound, ThreadBusy
from lambdagraph.http.context import Access, ApiContext, Ctx
from lambdagraph.http.errors import status_for
from lambdagraph.http.openapi import error_responses
from lambdagraph.http.responses import json_response
from lambdagraph.http.runs import launch_run
from lambdagraph.store.records import FINAL_RUN_STATUSES, Run, Thread

if TYPE_CHECKING:
    from a2a.server.context import ServerCallContext
    from a2a.types import Message, Task, TaskState

    from lambdagraph.protocol.a2a import A2aEvent, A2aStream

logger = logging.getLogger(__name__)
router = APIRouter(tags=["a2a"])

TASK_KEY = "a2a_task"
"""Run metadata naming the task a resume run continues."""


def task_id_of(run: Run) -> str:
    """The A2A task id of the run that started a task."""
    return f"{run['thread_id']}.{run['run_id']}"


def _canonical(text: str) -> str | None:
    """``text`` as the canonical UUID the other routes key threads and runs by (``urn:``,
    braces and upper case allowed, as ``http.context.valid_id`` allows); None if no UUID."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


INTERNAL_ERROR: Final = "Internal error"
"""The whole message of a -32603 (a2a-sdk would send the exception's text)."""

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _internal(exc: Exception) -> Exception:
    from a2a.utils.errors import A2AError, InternalError  # lazy: cold start

    if isinstance(exc, A2AError):
        return exc
    logger.exception("A2A handler failed")
    return InternalError(message=INTERNAL_ERROR)


def sealed(method: _Method) -> _Method:
    """An SDK-facing method whose unexpected errors reach the client as a bare -32603:
    logged here, never their text (the SDK's dispatcher writes ``str(exc)``)."""
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def stream(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
            try:
                async for item in method(*args, **kwargs):
                    yield item
            except Exception as exc:  # noqa: BLE001 - sealed: see the docstring
                raise _internal(exc) from None

        return stream  # type: ignore[return-value]

    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - sealed: see the docstring
            raise _internal(exc) from None

    return call  # type: ignore[return-value]


def _split_task_id(task_id: str) -> tuple[str, str] | None:
    thread_part, _, run_part = task_id.partition(".")
    thread_id, run_id = _canonical(thread_part), _canonical(run_part)
    return (thread_id, run_id) if thread_id is not None and run_id is not None else None


def _task_key(task_id: str) -> str:
    """``task_id`` in the canonical spelling tasks are recorded and answered by."""
    ids = _split_task_id(task_id)
    return ".".join(ids) if ids is not None else task_id


@dataclasses.dataclass(frozen=True)
class TaskRuns:
    """What a task's state is read from: its latest run and its thread, read together."""

    run: Run
    thread: Thread
    newest: bool
    """Whether ``run`` is the thread's newest run (only then can its interrupt be the task's)."""


class RunTasks:
    """``a2a-sdk``'s ``RequestHandler`` over the run service, for one caller and assistant.

    Built per request (the SDK class is imported lazily: the stream function's cold start
    does not pay for it) by :func:`request_handler`.
    """

    def __init__(self, context: ApiContext, guard: Guard, assistant_id: str) -> None:
        self.context = context
        self.guard = guard
        self.owner = guard.identity.user_id
        self.assistant_id = assistant_id

    # --- tasks ------------------------------------------------------------------------

    async def read_task(self, task_id: str) -> TaskRuns:
        """The task's latest run (its first, or the newest resume) with its thread, or
        ``TaskNotFound``: the thread and its newest runs are read once, for the whole call."""
        from a2a.utils.errors import TaskNotFoundError  # lazy: cold start

        ids = _split_task_id(task_id)
        if ids is None:
            raise TaskNotFoundError(message=f"Task {task_id} not found")
        thread_id, run_id = ids
        task_id = _task_key(task_id)
        try:
            await self.guard.read_run(thread_id)
            thread, runs = await self.context.runs.thread_runs(self.owner, thread_id, limit=100)
            ours = [
                run
                for run in runs
                if run["run_id"] == run_id or (run.get("metadata") or {}).get(TASK_KEY) == task_id
            ]
            first = next((run for run in ours if run["run_id"] == run_id), None)
            if first is None:  # older than the newest 100 runs, or none
                first = await self.context.runs.get(self.owner, thread_id, run_id)
            if (first.get("metadata") or {}).get(TASK_KEY) not in (None, task_id):
                raise NotFound("not a task's first run")
        except LambdagraphError:
            # Unknown, another user's, or hidden by an auth handler: the same answer.
            raise TaskNotFoundError(message=f"Task {task_id} not found") from None
        latest = ours[0] if ours else first
        return TaskRuns(latest, thread, newest=bool(runs) and runs[0]["run_id"] == latest["run_id"])

    def state_of(self, task: TaskRuns) -> TaskState:
        """The task state its latest run stands for."""
        from a2a.types import TaskState  # lazy: cold start

        from lambdagraph.protocol.a2a import RUN_STATES  # lazy: cold start

        run, thread = task.run, task.thread
        if run.get("cancel"):
            return TaskState.TASK_STATE_CANCELED
        if run["status"] == "success":
            waiting = thread.get("status") == "interrupted" and thread.get("interrupts")
            if waiting and task.newest:
                return TaskState.TASK_STATE_INPUT_REQUIRED
        return RUN_STATES.get(run["status"], TaskState.TASK_STATE_FAILED)

    async def snapshot(self, task_id: str, task: TaskRuns) -> Task:
        """The task now: its state, and its answer from the thread's messages."""
        from a2a.types import TaskState

        from lambdagraph.http.state import read_values  # lazy: cold start
        from lambdagraph.protocol.a2a import A2aStream, agent_message, interrupt_parts, status

        state = self.state_of(task)
        stream = A2aStream(task_id, task.thread["thread_id"])
        try:
            values = await read_values(self.context, self.owner, task.thread)
        except NotFound:  # deleted meanwhile
            values = {}
        messages = values.get("messages") if isinstance(values, dict) else None
        if state == TaskState.TASK_STATE_COMPLETED and isinstance(messages, list) and messages:
            last = messages[-1]
            last = last if isinstance(last, dict) else getattr(last, "model_dump", dict)()
            if last.get("type") == "ai" and last.get("content"):
                stream.texts[str(last.get("id"))] = str(last.get("content"))
        result = stream.task(state)
        if state == TaskState.TASK_STATE_INPUT_REQUIRED:
            interrupts = task.thread.get("interrupts") or {}
            pending = [i for items in interrupts.values() for i in items]
            message = agent_message(task_id, task.thread["thread_id"], interrupt_parts(pending))
            result.status.CopyFrom(status(state, message))
        return result

    # --- the SDK's RequestHandler methods ----------------------------------------------

    @sealed
    async def on_get_task(self, params: Any, context: ServerCallContext) -> Task | None:
        return await self.snapshot(_task_key(params.id), await self.read_task(params.id))

    @sealed
    async def on_cancel_task(self, params: Any, context: ServerCallContext) -> Task | None:
        from a2a.utils.errors import TaskNotCancelableError  # lazy: cold start

        task = await self.read_task(params.id)
        run = task.run
        if run["status"] in FINAL_RUN_STATUSES:
            raise TaskNotCancelableError(message=f"Task {params.id} has ended ({run['status']})")
        try:
            await self.guard.cancel_run(run["thread_id"], run["run_id"], "interrupt")
            run = await self.context.runs.cancel_active(self.owner, run["thread_id"], run["run_id"])
        except LambdagraphError:
            raise TaskNotCancelableError(message=f"Task {params.id} has ended") from None
        return await self.snapshot(_task_key(params.id), dataclasses.replace(task, run=run))

    @sealed
    async def on_message_send(self, params: Any, context: ServerCallContext) -> Task:
        from a2a.types import TaskState  # lazy: cold start

        run, sink, stream = await self._launch(params)
        if params.configuration.return_immediately:
            sink.detach()
            return stream.task(TaskState.TASK_STATE_WORKING, [params.message])
        events = [event async for event in self._events(run, sink, stream)]
        final = events[-1]
        task = stream.task(final.status.state, [params.message])
        task.status.CopyFrom(final.status)
        return task

    @sealed
    async def on_message_send_stream(
        self, params: Any, context: ServerCallContext
    ) -> AsyncGenerator[A2aEvent, None]:
        from a2a.types import TaskState  # lazy: cold start

        run, sink, stream = await self._launch(params)
        yield stream.task(TaskState.TASK_STATE_WORKING, [params.message])
        async for event in self._events(run, sink, stream):
            yield event

    @sealed
    async def on_subscribe_to_task(
        self, params: Any, context: ServerCallContext
    ) -> AsyncGenerator[A2aEvent, None]:
        from a2a.utils.errors import UnsupportedOperationError  # lazy: cold start

        from lambdagraph.protocol.a2a import TERMINAL, A2aStream

        current = await self.read_task(params.id)
        task = await self.snapshot(_task_key(params.id), current)
        if task.status.state in TERMINAL:
            raise UnsupportedOperationError(message=f"Task {params.id} has ended")
        yield task
        run = current.run
        if run["status"] in FINAL_RUN_STATUSES:
            return
        stream = A2aStream(_task_key(params.id), run["thread_id"])
        async for batch in self.context.runs.follow(run, -1):
            for event in batch:
                for translated in stream.translate(event):
                    yield translated
        ended = await self.context.runs.get(self.owner, run["thread_id"], run["run_id"])
        for translated in stream.finish(ended["status"]):
            yield translated

    async def on_list_tasks(self, params: Any, context: ServerCallContext) -> Any:
        return await self._unsupported("tasks/list")

    async def on_get_extended_agent_card(self, params: Any, context: ServerCallContext) -> Any:
        return await self._unsupported("the extended agent card")

    async def on_create_task_push_notification_config(self, *args: Any) -> Any:
        return await self._no_push()

    on_get_task_push_notification_config = on_create_task_push_notification_config
    on_list_task_push_notification_configs = on_create_task_push_notification_config
    on_delete_task_push_notification_config = on_create_task_push_notification_config

    async def _unsupported(self, what: str) -> Any:
        from a2a.utils.errors import UnsupportedOperationError  # lazy: cold start

        raise UnsupportedOperationError(message=f"This agent does not serve {what}")

    async def _no_push(self) -> Any:
        from a2a.utils.errors import PushNotificationNotSupportedError  # lazy: cold start

        raise PushNotificationNotSupportedError(message="Push notifications are not supported")

    # --- running ---------------------------------------------------------------------

    async def _launch(self, params: Any) -> tuple[Run, QueueSink, A2aStream]:
        from a2a.types import TaskState  # lazy: cold start
        from a2a.utils.errors import (  # lazy: cold start
            InvalidParamsError,
            UnsupportedOperationError,
        )

        from lambdagraph.protocol.a2a import STREAM_MODES, A2aStream

        message = params.message
        if not message.parts:
            raise InvalidParamsError(message="message.parts: at least one part is required")
        fields: dict[str, Any]
        metadata: dict[str, Any] = {"a2a_message_id": message.message_id}
        if message.task_id:
            task = await self.read_task(message.task_id)
            run = task.run
            if message.context_id and _canonical(message.context_id) != run["thread_id"]:
                raise InvalidParamsError(message="message.contextId is not the task's context")
            state = self.state_of(task)
            if state != TaskState.TASK_STATE_INPUT_REQUIRED:
                name = TaskState.Name(state).removeprefix("TASK_STATE_").lower()
                raise UnsupportedOperationError(
                    message=f"Task {message.task_id} is {name}, not waiting for input"
                )
            thread_id, task_id = run["thread_id"], _task_key(message.task_id)
            fields = {"command": {"resume": _resume_value(message)}, "if_not_exists": "reject"}
            metadata[TASK_KEY] = task_id
        else:
            context = _canonical(message.context_id) if message.context_id else str(uuid.uuid4())
            if context is None:
                raise InvalidParamsError(message="message.contextId: not a context of this agent")
            thread_id, task_id = context, ""
            exists = bool(message.context_id)
            fields = {
                "input": {"messages": [_human_message(message)]},
                "if_not_exists": "reject" if exists else "create",
            }
        try:
            body = RunRequest.model_validate(
                {
                    "assistant_id": self.assistant_id,
                    **fields,
                    "stream_mode": list(STREAM_MODES),
                    "stream_resumable": True,
                    "metadata": metadata,
                    "multitask_strategy": "reject",
                    "on_disconnect": "continue",
                }
            )
        except ValidationError as exc:
            raise InvalidParamsError(message=describe_errors(exc.errors())) from None
        try:
            run, sink, _ = await launch_run(self.context, self.guard, thread_id, body)
        except ThreadBusy:
            raise UnsupportedOperationError(
                message=f"Context {thread_id} is busy with another task: wait for it or cancel it"
            ) from None
        except AssistantNotFound:
            raise InvalidParamsError(message=f"Assistant {self.assistant_id} not found") from None
        except NotFound:
            raise InvalidParamsError(message=f"Context {thread_id} not found") from None
        except LambdagraphError as exc:
            if status_for(exc) >= 500:
                raise  # a fault of ours (sealed: a bare -32603), not the client's params
            raise InvalidParamsError(message=exc.message) from None
        return run, sink, A2aStream(task_id or task_id_of(run), thread_id)

    async def _events(
        self, run: Run, sink: QueueSink, stream: A2aStream
    ) -> AsyncGenerator[A2aEvent, None]:
        finished = False
        try:
            while not finished:
                batch = await sink.take(self.context.settings.heartbeat_seconds)
                for event in batch or ():
                    if event is None:
                        finished = True
                        break
                    for translated in stream.translate(event):
                        yield translated
            ended = await self.context.runs.get(self.owner, run["thread_id"], run["run_id"])
            for translated in stream.finish(ended["status"]):
                yield translated
        finally:
            sink.detach()


def _parts_text(message: Message) -> str:
    return "\n".join(part.text for part in message.parts if part.HasField("text"))


def _human_message(message: Message) -> dict[str, Any]:
    from a2a.utils.errors import ContentTypeNotSupportedError  # lazy: cold start

    if any(not part.HasField("text") for part in message.parts):
        raise ContentTypeNotSupportedError(message="Only text parts start a task on this agent")
    return {"type": "human", "content": _parts_text(message), "id": message.message_id or None}


def _resume_value(message: Message) -> Any:
    from google.protobuf.json_format import MessageToDict  # lazy: cold start

    for part in message.parts:
        if part.HasField("data"):
            return MessageToDict(part.data)
    return _parts_text(message)


def request_handler(context: ApiContext, guard: Guard, assistant_id: str) -> Any:
    """The SDK ``RequestHandler`` for one request (``RunTasks`` registered as one)."""
    from a2a.server.request_handlers.request_handler import RequestHandler  # lazy: cold start

    RequestHandler.register(RunTasks)
    return RunTasks(context, guard, assistant_id)


@router.post("/a2a/{assistant_id}", responses={200: {"description": "JSON-RPC response or SSE"}})
async def a2a_rpc(assistant_id: str, request: Request, context: Ctx, guard: Access) -> Response:
    """A2A JSON-RPC: ``message/send``, ``message/stream``, ``tasks/get``, ``tasks/cancel``,
    ``tasks/resubscribe`` (and their A2A 1.0 names with ``A2A-Version: 1.0``)."""
    from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher  # lazy: cold start

    dispatcher = JsonRpcDispatcher(
        request_handler(context, guard, assistant_id), enable_v0_3_compat=True
    )
    return await dispatcher.handle_requests(request)


@router.get("/.well-known/agent-card.json", responses=error_responses(404))
async def agent_card(
    request: Request, context: Ctx, guard: Access, assistant_id: str = Query()
) -> Response:
    """The agent card of one assistant (its A2A endpoint, skills and security)."""
    from lambdagraph.http.a2a_card import build_card  # lazy: cold start

    return json_response(await build_card(request, context, guard, assistant_id))


