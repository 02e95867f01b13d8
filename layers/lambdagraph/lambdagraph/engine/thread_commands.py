"""The run commands of the Agent Streaming Protocol: ``run.start`` and ``input.respond``.

Each is a :data:`~lambdagraph.engine.thread_streams.Handler`: it turns the command's
params into the one validated run request and hands it to the run service with
``protocol="v2"``; the run executes in a worker and its frames reach the thread log.
Cancelling is the run API's (``POST /threads/{tid}/runs/{rid}/cancel``), as the official
clients do it; a cancelled v2 run ends with the root ``lifecycle.interrupted``.

As LangGraph Server (langgraph-api 0.16.7): the thread is created on the first
``run.start``; a ``run.start`` with input on a thread waiting at an interrupt resumes it
with that input; ``input.respond`` answers pending interrupts by id (``no_such_interrupt``
for another id, ``no_such_run`` when the thread waits for nothing), in one resumed run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

from pydantic import ValidationError

from lambdagraph.engine.agent_commands import run_start_strategy
from lambdagraph.engine.requests import RunRequest, describe_errors
from lambdagraph.engine.thread_streams import CommandContext, Handler
from lambdagraph.errors import AssistantNotFound, ThreadNotFound
from lambdagraph.protocol.agent import ProtocolError
from lambdagraph.store.records import Thread

NOTHING_TO_RESPOND: Final = "No interrupted run is bound to this thread."
# The input.requested frame is streamed before its run records the thread interrupted.
SETTLE_SECONDS: Final = 5.0
_SETTLE_POLL: Final = 0.05


def _request(body: dict[str, Any]) -> RunRequest:
    try:
        return RunRequest.model_validate({k: v for k, v in body.items() if v is not None})
    except ValidationError as exc:
        raise ProtocolError("invalid_argument", describe_errors(exc.errors())) from None


def _checkpoint_id(config: object) -> str | None:
    if not isinstance(config, Mapping):
        return None
    configurable = config.get("configurable")
    value = configurable.get("checkpoint_id") if isinstance(configurable, Mapping) else None
    return value if isinstance(value, str) and value else None


async def _thread(ctx: CommandContext) -> Thread | None:
    try:
        return await ctx.runs.store.get_thread(ctx.owner, ctx.thread_id)
    except ThreadNotFound:
        return None


async def _settled_thread(ctx: CommandContext) -> Thread | None:
    """The thread once its run (if any) has recorded how it ended, waiting a little."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    thread = await _thread(ctx)
    while thread is not None and thread.get("status") == "busy" and loop.time() < deadline:
        await asyncio.sleep(_SETTLE_POLL)
        thread = await _thread(ctx)
    return thread


def pending_interrupt_ids(thread: Thread | None) -> set[str]:
    """The ids of the interrupts the thread waits on (none unless it is ``interrupted``)."""
    if thread is None or thread.get("status") != "interrupted":
        return set()
    return {
        str(entry["id"])
        for entries in (thread.get("interrupts") or {}).values()
        for entry in entries or ()
        if isinstance(entry, Mapping) and entry.get("id") is not None
    }


async def _start(
    ctx: CommandContext, body: dict[str, Any], *, thread_missing: bool = False
) -> dict[str, Any]:
    """Record the run, read the thread log's last ``seq`` (the response's), hand it over.

    The ``seq`` is read once the run is recorded, so it is never before the previous run's
    end when the run holds the thread; the worker of a run recorded ``running`` is handed the
    ``seq`` after it as its first frame's (one read of the log, not two).
    """
    request = _request(body)
    ctx.runs.need_worker()
    try:
        run = await ctx.runs.create(
            ctx.owner,
            request,
            thread_id=ctx.thread_id,
            protocol="v2",
            thread_missing=thread_missing,
        )
    except AssistantNotFound as exc:
        raise ProtocolError("invalid_argument", exc.message) from None
    last = await ctx.streams.last_seq(ctx.thread_id)
    first = last + 1 if run["status"] == "running" else None
    await ctx.runs.hand_to_worker(run, reserved=True, first_seq=first)
    ctx.answer.seq = last
    return {"run_id": run["run_id"]}


async def run_start(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    """``run.start``: start a run on the thread (creating it), or resume it with input."""
    assistant_id = params.get("assistant_id")
    if not isinstance(assistant_id, str) or not assistant_id:
        raise ProtocolError("invalid_argument", "run.start requires an assistant_id.")
    config = params.get("config")
    if config is not None and not isinstance(config, Mapping):
        raise ProtocolError("invalid_argument", "run.start config must be an object.")
    body: dict[str, Any] = {
        "assistant_id": assistant_id,
        "input": params.get("input"),
        "config": config,
        "metadata": params.get("metadata"),
        "checkpoint_id": _checkpoint_id(config),
        "multitask_strategy": run_start_strategy(params),
        "if_not_exists": "create",
    }
    thread_missing = False
    if body["input"] is not None:
        thread = await _thread(ctx)
        thread_missing = thread is None  # then the run creates it without a failed start
        if pending_interrupt_ids(thread):
            body["command"] = {"resume": body.pop("input")}
    return await _start(ctx, body, thread_missing=thread_missing)


def _respond_entries(params: Mapping[str, Any]) -> list[tuple[str, list[str], Any]]:
    raw = params.get("responses")
    if raw is None:
        raw = [params]
    elif not isinstance(raw, list) or not raw:
        raise ProtocolError("invalid_argument", "input.respond requires at least one response.")
    entries: list[tuple[str, list[str], Any]] = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise ProtocolError("invalid_argument", "input.respond responses must be objects.")
        interrupt_id = entry.get("interrupt_id")
        if not isinstance(interrupt_id, str) or not interrupt_id:
            raise ProtocolError("invalid_argument", "input.respond requires an interrupt_id.")
        namespace = entry.get("namespace", [])
        if not isinstance(namespace, list) or not all(isinstance(s, str) for s in namespace):
            raise ProtocolError(
                "invalid_argument", "input.respond requires namespace to be a list of strings."
            )
        entries.append((interrupt_id, namespace, entry.get("response")))
    return entries


async def input_respond(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    """``input.respond``: answer the thread's pending interrupts (one resumed run)."""
    entries = _respond_entries(params)
    thread = await _settled_thread(ctx)
    pending = pending_interrupt_ids(thread)
    if thread is None or not pending:
        raise ProtocolError("no_such_run", NOTHING_TO_RESPOND)
    for interrupt_id, _, _ in entries:
        if interrupt_id not in pending:
            raise ProtocolError(
                "no_such_interrupt", f"Unknown or already-consumed interrupt: {interrupt_id}"
            )
    metadata = thread.get("metadata") or {}
    assistant_id = metadata.get("assistant_id") or metadata.get("graph_id")
    if not isinstance(assistant_id, str):
        raise ProtocolError("no_such_run", NOTHING_TO_RESPOND)
    command: dict[str, Any] = {"resume": {iid: response for iid, _, response in entries}}
    for key in ("update", "goto"):
        if params.get(key) is not None:
            command[key] = params[key]
    body = {
        "assistant_id": assistant_id,
        "command": command,
        "config": params.get("config"),
        "metadata": params.get("metadata"),
    }
    await _start(ctx, body)
    return {}


HANDLERS: Final[dict[str, Handler]] = {"run.start": run_start, "input.respond": input_respond}
"""This module's handlers by method name (the lead merges them with the other slices')."""
