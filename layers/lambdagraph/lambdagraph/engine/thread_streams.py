"""The Agent Streaming Protocol's service: thread commands and thread event streams.

Both transports (HTTP ``/threads/{tid}/commands`` + SSE ``/stream/events``, and the
WebSocket) call :class:`ThreadStreams`: :meth:`~ThreadStreams.command` dispatches a command
to its handler by method name, :meth:`~ThreadStreams.events` replays a thread's frames from
the thread log after ``since`` and then follows it live.

A frame's ``seq`` strictly increases per thread across runs, invocations and
continuations: the executor numbers a v2 run's frames from the thread log's last ``seq``
plus one, and a run's last flush lands before it releases the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from lambdagraph.engine.thread_hub import THREAD_HUB, Frame, ThreadHub
from lambdagraph.errors import (
    Forbidden,
    InvalidInput,
    LambdagraphError,
    NotFound,
    RateLimited,
    ThreadBusy,
    ThreadNotFound,
)
from lambdagraph.protocol.agent import (
    FIRST_SEQ,
    ProtocolError,
    Subscription,
    error,
    parse_command,
    success,
)

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from lambdagraph.engine.executor import GraphRegistry
    from lambdagraph.engine.runs import RunService
    from lambdagraph.store.events import EventLog

logger = logging.getLogger(__name__)

THREAD_BUSY: Final = (
    "Thread {thread_id} is already running a task. Wait for it to finish or choose a"
    " different multitask strategy."
)
LOG_POLL_SECONDS: Final = 0.1
"""How often a follower reads the thread log when no frame arrives in-process."""
_STATUS_CHECK_SECONDS: Final = 1.0
# How long a follower waits for the log to fill a gap in the in-process frames.
_GAP_WAIT_SECONDS: Final = 5.0
# How long a ``since`` ahead of the log may wait for the frames it names to be flushed.
_CURSOR_GRACE_SECONDS: Final = 2.0


@dataclass
class CommandAnswer:
    """What a handler found out for its response.

    Attributes:
        seq: the thread log's last ``seq``, read once the handler's run was recorded
            (``None``: :meth:`ThreadStreams.command` reads it after the handler).
    """

    seq: int | None = None


@dataclass(frozen=True)
class CommandContext:
    """What a command handler works with.

    Attributes:
        owner: the caller's user id.
        thread_id: the thread the command is addressed to.
        runs: the run service.
        graphs: the graphs runs may name.
        streams: the service itself (the thread log's last ``seq``, the hub).
        answer: what the handler found out for the response (see :class:`CommandAnswer`).
    """

    owner: str
    thread_id: str
    runs: RunService
    graphs: GraphRegistry
    streams: ThreadStreams
    answer: CommandAnswer = field(default_factory=CommandAnswer)


Handler = Callable[[CommandContext, dict[str, Any]], Awaitable[dict[str, Any]]]
"""A command handler: the command's ``params`` in, its ``result`` out; raises
:class:`~lambdagraph.protocol.agent.ProtocolError` for what the client must fix."""


class ThreadStreams:
    """Commands and event streams of threads, for every v2 transport.

    Args:
        runs: the run service (its durable machinery holds the event log).
        graphs: the graphs runs may name.
        handlers: command handlers by method name (see :data:`Handler`).
        idle_seconds: default for :meth:`events`: end a stream once the thread has had no
            run and no new frame this long (``LAMBDAGRAPH_AGENT_STREAM_IDLE_SECONDS``);
            ``None``: never.
        hub: in-process live frames (default: the process's :data:`THREAD_HUB`).
        poll_seconds: how often a follower reads the thread log while it is quiet.
        checkpointer: where the state commands read thread state and history (the
            executor's saver); ``None`` in a process that reads none (they answer
            ``not_supported``).
        checkpointer_factory: builds that saver on the first state command instead (a
            process that rarely reads state keeps the saver off its cold start).
    """

    def __init__(
        self,
        runs: RunService,
        graphs: GraphRegistry,
        *,
        handlers: Mapping[str, Handler] | None = None,
        idle_seconds: float | None = 20.0,
        hub: ThreadHub = THREAD_HUB,
        poll_seconds: float = LOG_POLL_SECONDS,
        checkpointer: BaseCheckpointSaver[Any] | None = None,
        checkpointer_factory: Callable[[], BaseCheckpointSaver[Any]] | None = None,
    ) -> None:
        self.runs = runs
        self.graphs = graphs
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.idle_seconds = idle_seconds
        self.hub = hub
        self.poll_seconds = poll_seconds
        self._checkpointer = checkpointer
        self._checkpointer_factory = checkpointer_factory
        self.log: EventLog = runs.durable.log.for_threads()

    @property
    def checkpointer(self) -> BaseCheckpointSaver[Any] | None:
        """The saver the state commands read (built by the factory on first use)."""
        if self._checkpointer is None and self._checkpointer_factory is not None:
            self._checkpointer = self._checkpointer_factory()
        return self._checkpointer

    async def last_seq(self, thread_id: str) -> int:
        """The ``seq`` of the thread's last logged frame (``0``: none yet; the first is 1)."""
        return max(await self.log.last_seq(thread_id), 0)

    async def command(
        self, owner: str, thread_id: str, command: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Run one command; the protocol's ``success`` or ``error`` response.

        Never raises for a client's mistake: a malformed command, an unknown method, a
        handler's :class:`ProtocolError` and our own errors (an unknown thread, a busy one)
        come back as ``error`` responses with the schema's codes. ``RateLimited`` (a run's
        create transaction found the user over the request limit) is raised for the
        transport, as the limit answers any other request.
        """
        raw_id = command.get("id")
        command_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        try:
            command_id, method, params = parse_command(command)
            handler = self.handlers.get(method)
            if handler is None:
                raise ProtocolError("unknown_command", f"Unknown protocol command: {method}")
            context = CommandContext(owner, thread_id, self.runs, self.graphs, self)
            result = await handler(context, params)
        except ProtocolError as exc:
            return error(command_id, exc.code, exc.message)
        except LambdagraphError as exc:
            if type(exc) is RateLimited:
                raise  # the request limit: the transport's answer (HTTP: 429, Retry-After)
            return error(command_id, *protocol_code(exc))
        # Read after the handler (or by it, once its run was recorded), not beside it: a seq
        # from before the command can name a point before the previous run's end, and the
        # client would replay that end.
        seq = context.answer.seq
        return success(command_id, result, await self.last_seq(thread_id) if seq is None else seq)

    async def check_thread(self, owner: str, thread_id: str) -> None:
        """Raise ``ThreadNotFound`` for an unknown thread or another user's."""
        await self.runs.store.get_thread(owner, thread_id)

    async def open(
        self,
        owner: str,
        thread_id: str,
        subscription: Subscription,
        since: int | None,
        *,
        idle_seconds: float | None = None,
        beside: Awaitable[None] | None = None,
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """Check the thread and the subscription and read the replay, then :meth:`events`.

        A transport answers a bad subscription with an error before it starts a stream (and
        starts the stream at once, without waiting for a first frame: the official clients
        wait for its headers before they open the next one). The thread's ownership check
        and the log read after ``since`` are made at once (one round trip, not two); the
        replay is only handed out once the check has passed.

        Args:
            beside: another check to make at the same time (the HTTP route's request count);
                its error wins over the thread's.

        Raises:
            ThreadNotFound: unknown or another user's thread.
            ProtocolError: ``invalid_argument`` for a ``since`` past the thread's last ``seq``.
        """
        # In this order: an unknown thread is the answer, not its cursor.
        checks: list[Awaitable[None]] = [] if beside is None else [beside]
        checks.append(self.check_thread(owner, thread_id))
        if since is not None and since > max(0, self.hub.last_seq(thread_id)):
            # The cursor before the replay: the replay is only complete once the log has it.
            await _all([*checks, self.check_cursor(thread_id, since)])
            checks = []
        batches = self._follow(thread_id, owner, subscription, since, idle_seconds, checks)
        try:
            first = await anext(batches)  # the checks and the replay
        except BaseException:
            await batches.aclose()
            raise
        return _after(first, batches)

    async def events(
        self,
        owner: str,
        thread_id: str,
        subscription: Subscription,
        since: int | None,
        *,
        idle_seconds: float | None = None,
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """The thread's frames matching ``subscription``: replay after ``since``, then live.

        Yields batches in ``seq`` order, and ``[]`` when nothing came for a poll (so the
        transport can send a heartbeat). Ends once the thread has had no active run and
        no new frame for ``idle_seconds`` (default: the service's; ``None`` there: never).

        Raises:
            ThreadNotFound: unknown or another user's thread (before anything is yielded).
            ProtocolError: ``invalid_argument`` for a ``since`` past the thread's last
                ``seq`` (a cursor this thread never issued).
        """
        batches = await self.open(owner, thread_id, subscription, since, idle_seconds=idle_seconds)
        try:
            async for batch in batches:
                yield batch
        finally:
            await batches.aclose()

    async def _follow(
        self,
        thread_id: str,
        owner: str,
        subscription: Subscription,
        since: int | None,
        idle_seconds: float | None,
        checks: list[Awaitable[None]],
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        idle = self.idle_seconds if idle_seconds is None else idle_seconds
        follower = _Follower(self, owner, thread_id, FIRST_SEQ - 1 if since is None else since)
        with self.hub.follow(thread_id) as (queue, recent):
            # Following before the log read: a frame published meanwhile is in the queue.
            replay_read = asyncio.ensure_future(follower.read_log())
            try:
                await _all(checks)
            except BaseException:
                replay_read.cancel()
                with contextlib.suppress(BaseException):
                    await replay_read
                raise
            replay = await replay_read
            async for frames in follower.run(queue, recent, idle, replay):
                yield [frame for frame in frames if subscription.matches(frame)]

    async def check_cursor(self, thread_id: str, since: int) -> None:
        """Refuse a ``since`` past the thread's last frame, allowing for one that is only
        live so far (in this process's hub, or not yet flushed by another process)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CURSOR_GRACE_SECONDS
        while True:
            last = max(await self.last_seq(thread_id), self.hub.last_seq(thread_id))
            if since <= last:
                return
            if loop.time() >= deadline:
                raise ProtocolError(
                    "invalid_argument",
                    f"since {since} is beyond the thread's last seq ({last}): it is not a "
                    "cursor of this thread",
                )
            await asyncio.sleep(self.poll_seconds)


async def _all(checks: list[Awaitable[None]]) -> None:
    """Await ``checks`` at once; the first one's error (in list order) is raised."""
    outcomes = await asyncio.gather(*checks, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def _after(
    first: list[dict[str, Any]], rest: AsyncGenerator[list[dict[str, Any]], None]
) -> AsyncGenerator[list[dict[str, Any]], None]:
    """``first``, then what ``rest`` yields (closing it when done)."""
    try:
        yield first
        async for batch in rest:
            yield batch
    finally:
        await rest.aclose()


def protocol_code(exc: LambdagraphError) -> tuple[str, str]:
    """The protocol's error code and message for one of our errors."""
    if isinstance(exc, NotFound):
        return "no_such_run", exc.message
    if isinstance(exc, Forbidden):
        return "permission_denied", exc.message
    if isinstance(exc, InvalidInput):
        return "invalid_argument", exc.message
    if isinstance(exc, ThreadBusy):
        # LangGraph Server 0.16.7 answers a rejected run.start so (its 409 caught as any
        # error); the message says what to do.
        return "unknown_error", THREAD_BUSY.format(thread_id=exc.thread_id)
    return "unknown_error", exc.message


def _drain(queue: asyncio.Queue[list[Frame]]) -> list[Frame]:
    """The frames of every batch already queued (a new list: batches are shared)."""
    frames: list[Frame] = []
    while not queue.empty():
        frames.extend(queue.get_nowait())
    return frames


class _Follower:
    """One subscriber's cursor over a thread: the log, the hub, idleness."""

    def __init__(self, streams: ThreadStreams, owner: str, thread_id: str, after: int) -> None:
        self.streams = streams
        self.owner = owner
        self.thread_id = thread_id
        self.after = after

    def _take(self, frames: list[Frame]) -> list[Frame]:
        fresh = [f for f in frames if isinstance(f.get("seq"), int) and f["seq"] > self.after]
        if fresh:
            self.after = fresh[-1]["seq"]
        return fresh

    async def read_log(self) -> list[Frame]:
        """The logged frames after the cursor (which moves past them)."""
        read = await self.streams.log.read_after(self.thread_id, self.after, skip_gaps=False)
        return self._take([event.data for event in read.events])

    async def _busy(self) -> bool:
        thread = await self.streams.runs.store.get_thread(self.owner, self.thread_id)
        return thread.get("status") == "busy"

    async def run(
        self,
        queue: asyncio.Queue[list[Frame]],
        recent: list[Frame],
        idle: float | None,
        replay: list[Frame],
    ) -> AsyncIterator[list[Frame]]:
        loop = asyncio.get_running_loop()
        replay = [*replay, *self._take(self._contiguous(recent))]
        # Yielded even when empty: the transport opens its stream on the first batch, so it
        # must not wait a poll for the run's first frame.
        yield replay
        last_activity = loop.time()
        last_check = -float("inf")
        while True:
            # Everything queued goes out as one batch (one SSE write, not one per frame);
            # only an empty queue costs a timed wait.
            batch = _drain(queue)
            if not batch:
                try:
                    batch = [*await asyncio.wait_for(queue.get(), self.streams.poll_seconds)]
                except TimeoutError:
                    batch = []
                batch.extend(_drain(queue))
            frames = await self._with_gap_filled(batch) if batch else await self.read_log()
            now = loop.time()
            if frames:
                last_activity = now
                yield frames
                continue
            yield []
            if idle is None:
                continue
            if now - last_check >= min(_STATUS_CHECK_SECONDS, idle / 4 or _STATUS_CHECK_SECONDS):
                last_check = now
                try:
                    if await self._busy():
                        last_activity = now
                except ThreadNotFound:
                    return  # deleted meanwhile: nothing more will come
            if now - last_activity >= idle:
                return

    def _contiguous(self, frames: list[Frame]) -> list[Frame]:
        """The recent frames that continue the cursor without a gap."""
        out: list[Frame] = []
        expected = self.after + 1
        for frame in frames:
            seq = frame.get("seq")
            if not isinstance(seq, int) or seq < expected:
                continue
            if seq > expected:
                break
            out.append(frame)
            expected += 1
        return out

    async def _with_gap_filled(self, batch: list[Frame]) -> list[Frame]:
        """In-process frames, after reading from the log any that came before them."""
        first = next((f["seq"] for f in batch if isinstance(f.get("seq"), int)), None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _GAP_WAIT_SECONDS
        frames: list[Frame] = []
        while first is not None and first > self.after + 1 and loop.time() < deadline:
            frames.extend(await self.read_log())
            if first <= self.after + 1:
                break
            await asyncio.sleep(self.streams.poll_seconds)
        if first is not None and first > self.after + 1:
            logger.warning(
                "thread %s: frames %s..%s never reached the log; skipping them",
                self.thread_id,
                self.after + 1,
                first - 1,
            )
        frames.extend(self._take(batch))
        return frames
