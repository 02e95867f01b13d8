"""SSE and wait bodies: frames in order, heartbeats while quiet, on_gone only for early exits."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from lambdagraph.engine.results import RunResult
from lambdagraph.engine.sinks import QueueSink
from lambdagraph.http.streaming import response_sink, sse_body, wait_body
from lambdagraph.protocol.events import Event
from lambdagraph.settings import Settings

pytestmark = pytest.mark.timeout(10)


def _sink(max_events: int = 100, wait_seconds: float = 5.0) -> QueueSink:
    return QueueSink(max_events=max_events, wait_seconds=wait_seconds)


async def _collect(body: object) -> list[bytes]:
    return [chunk async for chunk in body]  # type: ignore[attr-defined]


async def test_sse_body_writes_every_event_then_ends_without_calling_on_gone() -> None:
    sink = _sink()
    gone: list[bool] = []
    await sink.send([Event("metadata", {"run_id": "r"}), Event("values", {"x": 1})])
    await sink.close()

    chunks = await _collect(sse_body(sink, heartbeat=5, on_gone=lambda: gone.append(True)))

    assert b"".join(chunks) == (
        b'event: metadata\ndata: {"run_id":"r"}\n\nevent: values\ndata: {"x":1}\n\n'
    )
    assert gone == []
    assert sink.detached


async def test_sse_body_sends_heartbeat_comments_while_the_run_is_quiet() -> None:
    sink = _sink()
    body = sse_body(sink, heartbeat=0.01)

    first = await anext(body)
    await sink.send([Event("values", {})])
    await sink.close()
    rest = await _collect(body)

    assert first == b": heartbeat\n\n"
    assert rest[-1] == b"event: values\ndata: {}\n\n"


async def test_sse_body_closed_early_detaches_and_reports_the_client_gone() -> None:
    sink = _sink()
    gone: list[bool] = []
    await sink.send([Event("metadata", {"run_id": "r"})])
    body = sse_body(sink, heartbeat=5, on_gone=lambda: gone.append(True))

    await anext(body)
    await body.aclose()  # what Starlette does when the client disconnects

    assert gone == [True]
    await sink.send([Event("values", {})])
    assert sink.queue.empty()  # a detached sink drops further events


async def test_sse_body_cancelled_while_waiting_still_runs_its_cleanup() -> None:
    sink = _sink()
    gone = asyncio.Event()
    body = sse_body(sink, heartbeat=5, on_gone=gone.set)

    task = asyncio.ensure_future(anext(body))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert gone.is_set()
    assert sink.detached


async def test_wait_body_returns_last_values_after_newline_keepalives() -> None:
    sink = _sink()
    body = wait_body(sink, heartbeat=0.01, fallback=_no_fallback)

    assert await anext(body) == b"\n"
    await sink.send([Event("values", {"n": 1}), Event("values", {"n": 2})])
    await sink.close()
    rest = await _collect(body)

    assert orjson.loads(b"".join(rest)) == {"n": 2}


async def test_wait_body_sends_newlines_while_events_keep_coming() -> None:
    sink = _sink(max_events=1000)

    async def steady_run() -> None:
        for n in range(20):  # an event every 10 ms for 0.2 s: never a 50 ms pause
            await sink.send([Event("values", {"n": n})])
            await asyncio.sleep(0.01)
        await sink.close()

    producer = asyncio.ensure_future(steady_run())
    chunks = await _collect(wait_body(sink, heartbeat=0.05, fallback=_no_fallback))
    await producer

    assert b"\n" in chunks[:-1]  # the wire heard from the response, not from the run
    assert orjson.loads(b"".join(chunks)) == {"n": 19}


async def test_wait_body_uses_the_fallback_when_the_run_sent_no_values() -> None:
    sink = _sink()
    await sink.close()

    async def fallback() -> object:
        return {"from": "state"}

    chunks = await _collect(wait_body(sink, heartbeat=5, fallback=fallback))

    assert orjson.loads(b"".join(chunks)) == {"from": "state"}


@pytest.mark.parametrize(
    ("resumable", "stateless", "points_to"),
    [
        (True, False, "Location header with Last-Event-ID"),
        (False, False, "Content-Location header"),
        # A stateless run's records go with its thread: no header to point to, rejoin or not.
        (True, True, None),
        (False, True, None),
    ],
)
async def test_a_detached_slow_client_is_told_where_the_rest_of_its_run_is(
    resumable: bool, stateless: bool, points_to: str | None
) -> None:
    settings = Settings(stream_queue_events=1, slow_consumer_seconds=0.01)
    sink = response_sink(settings, resumable=resumable, stateless=stateless)
    await sink.send([Event("values", {"n": 1}), Event("values", {"n": 2})])

    batch = await sink.take(0)

    assert batch is not None and batch[-1] is None
    notice = batch[-2]
    assert notice is not None and notice.data["error"] == "SlowConsumer"
    if points_to is None:
        assert "header" not in notice.data["message"]
    else:
        assert points_to in notice.data["message"]


def test_run_result_prefers_interrupts_and_reports_errors() -> None:
    interrupted = RunResult()
    interrupted.absorb(Event("values", {"messages": []}))
    interrupted.absorb(Event("updates", {"__interrupt__": [{"value": 1, "id": "a"}]}))
    failed = RunResult()
    failed.absorb(Event("values", {"messages": []}))
    failed.absorb(Event("error", {"error": "ValueError", "message": "bad"}))

    assert interrupted.body() == {"__interrupt__": [{"value": 1, "id": "a"}]}
    assert failed.body() == {"__error__": {"error": "ValueError", "message": "bad"}}


async def _no_fallback() -> object:
    raise AssertionError("fallback not expected")
