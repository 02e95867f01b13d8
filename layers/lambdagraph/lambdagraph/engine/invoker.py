"""Invoking the worker function asynchronously: a protocol with a cloud and a local face.

Routes and the worker itself (for continuations) hand payloads to an :class:`Invoker`; in
the cloud that is :class:`LambdaInvoker` (``InvocationType="Event"``), on the local stack
``lambdagraph_client.local.invoker.LocalInvoker`` runs the handler in the background.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal, NotRequired, Protocol, TypedDict

from lambdagraph import aws
from lambdagraph.errors import InvalidInput
from lambdagraph.protocol.sse import dumps

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
else:
    LambdaClient = Any


class RunPayload(TypedDict):
    """Start a recorded run (``pending``): the first attempt."""

    kind: Literal["run"]
    owner: str
    thread_id: str
    run_id: str
    first_seq: NotRequired[int]
    """A v2 run recorded ``running``: the ``seq`` of its first frame (the thread log's last
    plus one, read once the run held the thread), so the worker need not read it again."""


class ContinuePayload(TypedDict):
    """Pick a ``running`` run up from its last checkpoint as attempt ``attempt``."""

    kind: Literal["continue"]
    owner: str
    thread_id: str
    run_id: str
    attempt: int
    started_at: NotRequired[float]
    """When attempt 1 started executing (epoch seconds): the run's time limit counts from it."""


class ErasePayload(TypedDict):
    """Erase everything a deleted (tombstoned) thread owned (see ``engine.erase``)."""

    kind: Literal["erase"]
    owner: str
    thread_id: str


class CronPayload(TypedDict):
    """Fire a cron: start its background run (EventBridge Scheduler or the local scheduler)."""

    kind: Literal["cron"]
    owner: str
    cron_id: str


class SweepPayload(TypedDict):
    """Handle the threads whose TTL ran out (``ThreadEraser.sweep_expired``); the
    deployed schedule sends it every few minutes."""

    kind: Literal["sweep"]


WorkerPayload = RunPayload | ContinuePayload | ErasePayload | CronPayload | SweepPayload


class Invoker(Protocol):
    """Starts the worker function without waiting for it."""

    async def invoke(self, payload: WorkerPayload) -> None:
        """Hand ``payload`` to a new worker invocation; returns once it is accepted."""
        ...


class LambdaInvoker:
    """Invokes the deployed worker function with ``InvocationType="Event"``.

    Args:
        function_name: name or ARN of the worker function.
        client: a boto3 Lambda client; one is built when omitted.
    """

    def __init__(self, function_name: str, *, client: LambdaClient | None = None) -> None:
        self.function_name = function_name
        self.client = client if client is not None else aws.client("lambda")

    async def invoke(self, payload: WorkerPayload) -> None:
        await asyncio.to_thread(
            self.client.invoke,
            FunctionName=self.function_name,
            InvocationType="Event",
            Payload=dumps(payload),
        )


def parse_payload(event: dict[str, Any]) -> WorkerPayload:
    """Read a worker invocation's payload; ``InvalidInput`` for anything else."""
    kind = event.get("kind")
    if kind == "sweep":
        return SweepPayload(kind="sweep")
    if kind == "erase" and all(isinstance(event.get(f), str) for f in ("owner", "thread_id")):
        return ErasePayload(kind="erase", owner=event["owner"], thread_id=event["thread_id"])
    if kind == "cron" and all(isinstance(event.get(f), str) for f in ("owner", "cron_id")):
        return CronPayload(kind="cron", owner=event["owner"], cron_id=event["cron_id"])
    fields = ("owner", "thread_id", "run_id")
    if kind not in ("run", "continue") or not all(isinstance(event.get(f), str) for f in fields):
        raise InvalidInput(f"Not a worker payload: kind={kind!r}")
    if kind == "run":
        run = RunPayload(
            kind="run", owner=event["owner"], thread_id=event["thread_id"], run_id=event["run_id"]
        )
        first_seq = event.get("first_seq")
        if isinstance(first_seq, int) and not isinstance(first_seq, bool) and first_seq >= 1:
            run["first_seq"] = first_seq
        return run
    attempt = event.get("attempt")
    if not isinstance(attempt, int) or attempt < 2:
        raise InvalidInput(f"A continuation needs an attempt >= 2, got {attempt!r}")
    payload = ContinuePayload(
        kind="continue",
        owner=event["owner"],
        thread_id=event["thread_id"],
        run_id=event["run_id"],
        attempt=attempt,
    )
    started_at = event.get("started_at")
    if isinstance(started_at, (int, float)) and not isinstance(started_at, bool):
        payload["started_at"] = float(started_at)
    return payload
