"""Invoking the worker function asynchronously: a protocol with a cloud and a local face.

Routes and the worker itself (for continuations) hand payloads to an :class:`Invoker`; in
the cloud that is :class:`LambdaInvoker` (``InvocationType="Event"``), on the local stack
``lambdagraph_client.local.invoker.LocalInvoker`` runs the handler in the background.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

from lambdagraph import aws
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


class ContinuePayload(TypedDict):
    """Pick a ``running`` run up from its last checkpoint as attempt ``attempt``."""

    kind: Literal["continue"]
    owner: str
    thread_id: str
    run_id: str
    attempt: int


class ErasePayload(TypedDict):
    """Erase everything a deleted (tombstoned) thread owned (see ``engine.erase``)."""

    kind: Literal["erase"]
    owner: str
    thread_id: str


WorkerPayload = RunPayload | ContinuePayload | ErasePayload


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
