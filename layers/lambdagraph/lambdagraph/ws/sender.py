"""Posting to one WebSocket connection through the API Gateway management API.

A :class:`ConnectionSender` buffers a connection's events in a :class:`Batcher`, flushes
after a short window (50 ms by default) or as soon as a batch is full, and posts messages in
order from one background task, so the run that produces the events never waits on API
Gateway. ``post_to_connection`` is a blocking boto3 call and runs in a worker thread.

* ``LimitExceededException`` (429, throttling) and transport errors: retried with
  exponential backoff and jitter, then the message is dropped and logged.
* ``GoneException`` (410): the client left. The sender stops, drops what it still holds and
  reports the connection through ``on_gone`` (the fan-out removes it from the run and the
  connection table); the run goes on for everyone else.
* A slow consumer (slow posts, or a burst larger than the posts drain): the queue is bounded
  (``max_queued_bytes``). Above it :meth:`ConnectionSender.wait_for_room` makes the producer
  wait, at most ``max_wait`` seconds; if the queue is still over its bound then, the sender
  detaches: it drops what it holds, reports the connection through ``on_detach`` and posts a
  last ``error`` message (``slow_consumer``) telling the client to ``subscribe`` again
  ``after`` the last event id it has. The event log keeps everything; the run goes on.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from lambdagraph import aws
from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event
from lambdagraph.store.dynamo import error_code
from lambdagraph.ws.batching import DEFAULT_BATCH_BYTES, Batcher
from lambdagraph.ws.stream_frames import TextDelta, encode_frame

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
else:
    ApiGatewayManagementApiClient = Any

logger = logging.getLogger(__name__)

GONE: Final = "GoneException"
DEFAULT_MAX_QUEUED_BYTES: Final = 1024 * 1024
"""Bytes of messages one connection may have waiting (32 full frames)."""
DEFAULT_MAX_WAIT: Final = 5.0
"""Seconds the producer waits for a connection over its bound before detaching it."""
THROTTLED: Final = frozenset({"LimitExceededException", "TooManyRequestsException"})


class ManagementClient(Protocol):
    """The one method of boto3's ``apigatewaymanagementapi`` client the sender uses."""

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> Any:
        """Send ``Data`` as one message to the connection."""
        ...


def management_client(endpoint_url: str) -> ApiGatewayManagementApiClient:
    """A boto3 management API client for a WebSocket API stage.

    Args:
        endpoint_url: ``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`` in the
            cloud (or a custom domain), ``http://127.0.0.1:8000/ws`` on the local stack;
            botocore appends ``/@connections/{id}``.
    """
    return aws.client("apigatewaymanagementapi", endpoint_url=endpoint_url)


OnGone = Callable[[str], Awaitable[None]]


def slow_consumer(run_id: str, max_queued_bytes: int) -> ws.ErrorMessage:
    """The last message a connection detached as too slow receives."""
    return ws.error(
        "slow_consumer",
        f"This connection fell more than {max_queued_bytes} bytes of messages behind run "
        f"{run_id} and no longer receives its events; the run goes on. Send "
        f'{{"action": "subscribe", "run_id": "{run_id}", "after": "<the last event id you '
        f'received>"}} to get every later event.',
        run_id=run_id,
    )


def sender_bounds(max_queued_bytes: int | None, max_wait: float | None) -> dict[str, Any]:
    """:class:`ConnectionSender` keyword arguments for the bounds given (``None``: its default)."""
    given = (("max_queued_bytes", max_queued_bytes), ("max_wait", max_wait))
    return {name: value for name, value in given if value is not None}


class ConnectionSender:
    """Batches and posts one connection's messages, in order, off the producer's path.

    Args:
        connection_id: the API Gateway connection id.
        client: a management API client (boto3's, or a fake in tests).
        run_id: the run whose events are sent.
        thread_id: its thread.
        window: seconds a buffered event may wait for company before it is posted.
        batch_bytes: cut batches before this many bytes (one 32 KB frame by default).
        max_message_bytes: API Gateway's message limit (128 KB).
        retries: attempts after the first for a throttled or failed post.
        backoff: base delay in seconds, doubled per retry (with jitter).
        on_gone: awaited once with the connection id when API Gateway reports it gone.
        max_queued_bytes: bound on the bytes of messages waiting to be posted.
        max_wait: seconds :meth:`wait_for_room` waits before it detaches the connection.
        on_detach: awaited once with the connection id when the sender detaches it as too
            slow, before the ``slow_consumer`` message is posted.
    """

    def __init__(
        self,
        connection_id: str,
        client: ManagementClient,
        *,
        run_id: str,
        thread_id: str,
        window: float = 0.05,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        max_message_bytes: int = ws.MESSAGE_BYTES,
        retries: int = 6,
        backoff: float = 0.05,
        on_gone: OnGone | None = None,
        max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
        max_wait: float = DEFAULT_MAX_WAIT,
        on_detach: OnGone | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.client = client
        self.window = window
        self.retries = retries
        self.backoff = backoff
        self.on_gone = on_gone
        self.batcher = Batcher(
            run_id, thread_id, batch_bytes=batch_bytes, max_message_bytes=max_message_bytes
        )
        self.max_queued_bytes = max_queued_bytes
        self.max_wait = max_wait
        self.on_detach = on_detach
        self.gone = False
        self.detached = False
        self.posts = 0
        self.dropped = 0
        self.queued_bytes = 0  # waiting in the queue or being posted
        self._room = asyncio.Event()
        self._room.set()
        self._queue: asyncio.Queue[bytes | TextDelta | None] = asyncio.Queue()
        self._delta: TextDelta | None = None  # the last queued message, while it can grow
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def has_room(self) -> bool:
        """Whether the queue is within ``max_queued_bytes`` (or the sender stopped)."""
        return self._room.is_set() or self.stopped

    @property
    def stopped(self) -> bool:
        """Whether the sender takes no more events (gone, detached or closed)."""
        return self.gone or self.detached or self._closed

    def add(self, events: Sequence[Event]) -> None:
        """Buffer events; they are posted within ``window`` seconds (sooner when a batch fills).

        Never waits: a producer that must not outrun the connection awaits
        :meth:`wait_for_room` after adding.
        """
        if self.stopped or not events:
            return
        self._enqueue(self.batcher.add(events))
        if len(self.batcher) and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.window, self._flush_buffer)

    def post(self, message: Any) -> None:
        """Queue one envelope (``run.ended``, ``error``…) after everything buffered so far."""
        if self.stopped:
            return
        self._flush_buffer()
        self._enqueue([ws.encode(message)])

    def post_bytes(self, message: bytes) -> None:
        """Queue one pre-encoded message after everything buffered so far (a protocol frame)."""
        if self.stopped:
            return
        self._flush_buffer()
        self._enqueue([message])

    def post_frame(self, frame: Mapping[str, Any]) -> None:
        """Queue one protocol frame as its own message, after everything so far.

        A text ``content-block-delta`` that continues the delta still waiting in the queue
        (while an earlier post is in flight) is folded into it: one frame carrying both
        texts and this frame's ``seq``/``event_id``. Nothing waits for company: a frame
        is only merged with what is already queued.
        """
        if self.stopped:
            return
        self._flush_buffer()
        waiting = self._delta
        if waiting is not None and waiting.absorb(frame):
            self.queued_bytes += waiting.grown
            if self.queued_bytes > self.max_queued_bytes:
                self._room.clear()
            return
        delta = TextDelta.of(frame)
        if delta is None:
            self._enqueue([encode_frame(frame)])
            return
        self._enqueue([delta])
        self._delta = delta

    async def wait_for_room(self) -> None:
        """Wait while the queue is over ``max_queued_bytes``; detach a consumer that stays there.

        Returns at once in the usual case (the queue under its bound). Otherwise waits up to
        ``max_wait`` seconds for the posts to catch up, then detaches the connection.
        """
        if self.has_room:
            return
        try:
            await asyncio.wait_for(self._room.wait(), self.max_wait)
        except TimeoutError:
            if not self._room.is_set() and not self.stopped:
                await self._detach()

    async def close(self) -> None:
        """Post what is buffered, wait for every queued message, and stop."""
        if self._closed:
            return
        self._flush_buffer()
        self._closed = True
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task

    def _flush_buffer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._enqueue(self.batcher.drain())

    def _enqueue(self, messages: Sequence[bytes | TextDelta]) -> None:
        if not messages or self.gone or self.detached:
            return
        self._delta = None  # whatever follows it in the queue: the delta can grow no more
        for message in messages:
            self._queue.put_nowait(message)
            self.queued_bytes += len(message)
        if self.queued_bytes > self.max_queued_bytes:
            self._room.clear()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._drain_queue(), name=f"ws-post-{self.connection_id}"
            )

    async def _drain_queue(self) -> None:
        while True:
            message = await self._queue.get()
            if message is None:
                return
            size = len(message)
            if isinstance(message, TextDelta):
                if message is self._delta:
                    self._delta = None  # being posted now: it takes no more text
                message = message.encode()
            if not self.gone:
                await self._post(message)
            self.queued_bytes -= size
            if self.queued_bytes <= self.max_queued_bytes:
                self._room.set()

    async def _post(self, message: bytes) -> None:
        for attempt in range(self.retries + 1):
            try:
                await asyncio.to_thread(
                    self.client.post_to_connection, ConnectionId=self.connection_id, Data=message
                )
                self.posts += 1
                return
            except ClientError as exc:
                code = error_code(exc)
                if code == GONE:
                    await self._mark_gone()
                    return
                if code not in THROTTLED:
                    logger.error(
                        "post_to_connection failed (%s); message dropped",
                        code,
                        extra={"connection_id": self.connection_id, "bytes": len(message)},
                    )
                    self.dropped += 1
                    return
            except BotoCoreError:
                logger.warning(
                    "post_to_connection failed; retrying",
                    extra={"connection_id": self.connection_id},
                    exc_info=True,
                )
            if attempt < self.retries:
                await asyncio.sleep(self.backoff * 2**attempt * (0.5 + random.random()))
        logger.error(
            "post_to_connection still throttled after %d retries; message dropped",
            self.retries,
            extra={"connection_id": self.connection_id, "bytes": len(message)},
        )
        self.dropped += 1

    async def _detach(self) -> None:
        """Drop what is buffered and queued, report the connection, post ``slow_consumer``."""
        self.detached = True
        logger.warning(
            "slow WebSocket consumer detached",
            extra={"connection_id": self.connection_id, "queued_bytes": self.queued_bytes},
        )
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.batcher.drain()
        self._drop_queued()
        if self.on_detach is not None:
            try:
                await self.on_detach(self.connection_id)
            except Exception:
                logger.warning(
                    "could not unsubscribe a slow connection",
                    extra={"connection_id": self.connection_id},
                    exc_info=True,
                )
        if self.gone:
            return
        message = ws.encode(slow_consumer(self.batcher.run_id, self.max_queued_bytes))
        self._queue.put_nowait(message)  # past the bound: the client must learn why it stopped
        self.queued_bytes += len(message)

    def _drop_queued(self) -> None:
        """Forget the messages not yet being posted (keeping the stop marker)."""
        self._delta = None
        while not self._queue.empty():
            message = self._queue.get_nowait()
            if message is None:
                self._queue.put_nowait(None)
                break
            self.queued_bytes -= len(message)
        self._room.set()

    async def _mark_gone(self) -> None:
        self.gone = True
        logger.info("connection gone", extra={"connection_id": self.connection_id})
        self._drop_queued()  # the client left: what is queued cannot arrive
        if self.on_gone is not None:
            try:
                await self.on_gone(self.connection_id)
            except Exception:
                logger.warning(
                    "could not remove a gone connection",
                    extra={"connection_id": self.connection_id},
                    exc_info=True,
                )
