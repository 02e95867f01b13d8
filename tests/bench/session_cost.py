"""Item 8: Lambda GB-seconds of a chat session, SSE on the function URL vs the WebSocket API.

A real session on the local stack through the SDK's thread stream, once per transport:
:data:`TURNS` turns on one thread, each a :data:`ANSWER` at :data:`DELAY_MS` ms per token (a
fast hosted model), each followed by the user's think time. As an app would with the Python
SDK, every turn opens ``client.threads.stream(thread_id, ...)``, starts the run, reads the
answer, and keeps the session open while the user thinks; the next turn closes it. (One
session across turns does not work after an idle end: the SDK treats the server's clean end
of a stream as final, so the next turn's subscriptions get nothing.)

Every HTTP request and WebSocket is recorded (:mod:`tests.bench.recorders`). What Lambda
bills, each invocation rounded up to the millisecond, times its function's ``MemorySize``
from ``template.yaml``:

* SSE: every request to the ``stream`` function (function URL) — commands, and each SSE
  stream from its request until its end, which after a run is the server's idle end.
* WebSocket: the SDK sends commands as HTTP requests (``api`` function) and events over the
  socket: a ``$connect``, a ``$default`` invocation per client frame and a ``$disconnect``
  per socket (``ws`` function); a socket open with nothing to say costs no Lambda time.
* Both: the ``worker`` executing each run (from ``run.start`` sent to its terminal
  ``lifecycle`` event received: an upper bound).

The session runs with a 1 s idle end and 2 s of think time, so every idle end happens for
real; the *typical* session replaces each stream's idle tail with the default idle end
(``agent_stream_idle_seconds``) or the typical think time (:data:`THINK_TYPICAL`), whichever
comes first, keeping the measured overshoot. Durations are the client's view over loopback
against the embedded DynamoDB: upper bounds of the handlers' own time.
Run alone: ``python -m tests.bench.session_cost``.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import httpx
from langgraph_sdk.client import LangGraphClient

from lambdagraph.settings import Settings
from lambdagraph_client.local.template import load_template
from tests.bench.recorders import Recording, RecordingTransport, Span, recording_connect
from tests.bench.rows import Row, render
from tests.bench.targets import Served, local_stack
from tests.bench.timing import ASSISTANT, delta_text, user_input

if TYPE_CHECKING:
    from langgraph_sdk._async.stream import AsyncThreadStream

Transport = Literal["sse", "websocket"]
TURNS = 3
ANSWER = "count to 100"
DELAY_MS = 20
IDLE_REAL = 1.0
THINK_REAL = 2.0
THINK_TYPICAL = 30.0
TURN_TIMEOUT_SECONDS = 30.0
# Which function serves what, deployed (template.yaml's logical ids).
FUNCTIONS = {"sse": "StreamFunction", "command-ws": "ApiFunction", "ws": "WsFunction",
             "worker": "WorkerFunction"}


@dataclass(frozen=True)
class Turn:
    """One turn's moments: ``run.start`` sent, terminal lifecycle received, session closed."""

    start: float
    end: float
    closed: float


@dataclass(frozen=True)
class Session:
    """A recorded session."""

    transport: Transport
    turns: list[Turn]
    recording: Recording


async def run_session(served: Served, transport: Transport) -> Session:
    """One chat session on a new thread; see the module docstring."""
    recording = Recording()
    http = httpx.AsyncClient(base_url=served.url, transport=RecordingTransport(recording),
                             headers=dict(served.headers),
                             timeout=httpx.Timeout(5.0, read=300.0))
    turns: list[Turn] = []
    thread_id: str | None = None
    async with LangGraphClient(http) as client:
        for _ in range(TURNS):
            async with client.threads.stream(
                thread_id, assistant_id=ASSISTANT, transport=transport,
                headers=served.headers,
            ) as thread:
                if transport == "websocket":
                    # The SDK's transport takes a ``connect``; the session builds its own.
                    thread._transport._connect = recording_connect(recording)  # type: ignore[union-attr]
                thread_id = thread.thread_id
                start = time.perf_counter()
                await asyncio.wait_for(_one_turn(thread), TURN_TIMEOUT_SECONDS)
                end = time.perf_counter()
                await asyncio.sleep(THINK_REAL)
            turns.append(Turn(start, end, time.perf_counter()))
    return Session(transport, turns, recording)


async def _one_turn(thread: AsyncThreadStream) -> None:
    await thread.run.start(input=user_input(ANSWER))
    tokens = 0
    async for event in thread.subscribe(["messages"]):
        # The WebSocket sender may fold text deltas queued behind a post into one frame:
        # count the answer's numbers ("1", " 2", ...), not the frames.
        tokens += len(delta_text(event).split())
    if tokens < 100:
        raise RuntimeError(f"a turn streamed {tokens} of 100 tokens")


def memory_mb(logical_id: str) -> int:
    """A function's ``MemorySize`` in ``template.yaml`` (else ``Globals``, else SAM's 128)."""
    document = load_template()
    own = document["Resources"][logical_id].get("Properties", {}).get("MemorySize")
    shared = document.get("Globals", {}).get("Function", {}).get("MemorySize")
    return int(own if own is not None else shared if shared is not None else 128)


def gb_seconds(seconds: float, function: str) -> float:
    """What Lambda bills for one invocation: rounded up to the ms, times memory in GB."""
    return memory_mb(function) / 1024 * math.ceil(seconds * 1000) / 1000


def _typical_seconds(span: Span, turns: list[Turn], idle: float) -> float:
    """A stream's duration with its idle tail at ``idle`` and think time THINK_TYPICAL."""
    turn = next((t for t in turns if t.start <= span.start <= t.closed), None)
    if turn is None or span.end is None or span.end <= turn.end:
        return span.seconds
    tail = span.end - turn.end
    typical_tail = min(idle + max(0.0, tail - IDLE_REAL), THINK_TYPICAL) if span.eof \
        else THINK_TYPICAL  # the client closed it: the server never ended it
    return (turn.end - span.start) + typical_tail


@dataclass(frozen=True)
class Bill:
    """GB-seconds by function group, invocations, and what API Gateway counts."""

    worker: float
    front: float  # SSE: the stream function; WebSocket: the ws and api functions
    invocations: int
    ws_messages: int

    @property
    def total(self) -> float:
        """All Lambda GB-seconds of the session."""
        return self.worker + self.front


def bill(session: Session, *, typical: bool, idle: float) -> Bill:
    """The session's Lambda bill, as measured or as the typical session."""
    worker = sum(gb_seconds(t.end - t.start, FUNCTIONS["worker"]) for t in session.turns)
    rec = session.recording
    if session.transport == "sse":
        front = sum(gb_seconds(s.seconds, FUNCTIONS["sse"]) for s in rec.of("command"))
        for span in rec.of("stream", "request"):
            seconds = _typical_seconds(span, session.turns, idle) if typical else span.seconds
            front += gb_seconds(seconds, FUNCTIONS["sse"])
        count = len(rec.of("command", "stream", "request"))
        return Bill(worker, front, count + len(session.turns), 0)
    front = sum(gb_seconds(s.seconds, FUNCTIONS["command-ws"])
                for s in rec.of("command", "request"))
    connects, frames = rec.of("$connect"), rec.of("frame")
    answered = [s.seconds for s in frames if s.end is not None] or [0.0]
    closes = [s.seconds for s in rec.of("$disconnect") if s.end is not None]
    # API Gateway calls $disconnect for every socket, also one the server closed.
    disconnect = statistics.median(closes or [s.seconds for s in connects] or [0.0])
    handled = [s.seconds for s in connects]
    handled += [s.seconds if s.end is not None else statistics.median(answered) for s in frames]
    handled += [disconnect] * len(connects)
    front += sum(gb_seconds(seconds, FUNCTIONS["ws"]) for seconds in handled)
    count = len(rec.of("command", "request")) + len(handled) + len(session.turns)
    return Bill(worker, front, count, len(frames) + rec.ws_messages_received)


def measure_sessions() -> dict[Transport, Session | str]:
    """One recorded session per transport on a local stack with a short idle end."""
    results: dict[Transport, Session | str] = {}
    env = {"LAMBDAGRAPH_AGENT_STREAM_IDLE_SECONDS": str(IDLE_REAL)}
    with local_stack(delay_ms=DELAY_MS, env=env) as served:
        for transport in ("sse", "websocket"):
            try:
                results[transport] = asyncio.run(run_session(served, transport))
            except Exception as exc:  # noqa: BLE001 - the row says why; the other still runs
                results[transport] = f"not measured: {type(exc).__name__}: {exc}"[:200]
    return results


def _cell(result: Bill | str) -> str:
    return result if isinstance(result, str) else f"{result.total:.2f} GB-s"


def rows(sessions: dict[Transport, Session | str]) -> list[Row]:
    """Item 8 rows: the WebSocket session against the SSE one, typical and as measured."""
    idle = Settings().agent_stream_idle_seconds
    shape = f"{TURNS} turns of 100 tokens at {1000 // DELAY_MS} tokens/s"
    out: list[Row] = []
    for typical in (True, False):
        bills: dict[Transport, Bill | str] = {
            t: s if isinstance(s, str) else bill(s, typical=typical, idle=idle)
            for t, s in sessions.items()
        }
        ws, sse = bills["websocket"], bills["sse"]
        both = isinstance(ws, Bill) and isinstance(sse, Bill)
        when = (f"typical: {THINK_TYPICAL:.0f} s think time, {idle:.0f} s idle end" if typical
                else f"as run: {THINK_REAL:.0f} s think time, {IDLE_REAL:.0f} s idle end")
        out.append(Row(8, f"Lambda GB-s per chat session ({shape}; {when})",
                       f"WebSocket API: {_cell(ws)}", f"SSE on the function URL: {_cell(sse)}",
                       ws.total / sse.total if both else None))  # type: ignore[union-attr]
        if typical and both:
            assert isinstance(ws, Bill) and isinstance(sse, Bill)
            out.append(Row(
                8, "of which: worker (runs) / front (SSE: stream function; WebSocket: ws "
                   "handlers + HTTP commands); invocations",
                f"{ws.worker:.2f} / {ws.front:.3f} GB-s; {ws.invocations}",
                f"SSE: {sse.worker:.2f} / {sse.front:.2f} GB-s; {sse.invocations}"))
            out.append(Row(8, "API Gateway WebSocket messages per session (client frames + "
                              "server messages)", str(ws.ws_messages)))
    return out


def measure() -> list[Row]:
    """Item 8 rows."""
    return rows(measure_sessions())


if __name__ == "__main__":
    print(render(measure()))
