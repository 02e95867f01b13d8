"""The bounded queue between a run and its HTTP response: no wait while there is room, a
bounded wait when the consumer lags, then a clear end for a consumer that stays behind."""

from __future__ import annotations

import asyncio

import pytest

from lambdagraph.engine.sinks import SLOW_CONSUMER, QueueSink
from lambdagraph.errors import ConfigurationError
from lambdagraph.protocol.events import Event

pytestmark = pytest.mark.timeout(10)


def _events(count: int, start: int = 0) -> list[Event]:
    return [Event("messages", [{"content": str(n)}, {}]) for n in range(start, start + count)]


async def test_send_never_waits_while_the_queue_has_room() -> None:
    sink = QueueSink(max_events=3, wait_seconds=60)

    sending = asyncio.ensure_future(sink.send(_events(3)))
    await asyncio.sleep(0)  # one loop turn: a send that awaited anything would still be pending

    assert sending.done()
    assert await sink.take(0) == _events(3)


async def test_a_full_queue_holds_the_run_until_the_consumer_takes_events() -> None:
    sink = QueueSink(max_events=2, wait_seconds=60)
    sending = asyncio.ensure_future(sink.send(_events(5)))
    await asyncio.sleep(0)
    assert not sending.done()  # two queued, the third waits for room

    taken: list[Event | None] = []
    while not sending.done() or not sink.queue.empty():
        taken.extend(await sink.take(60) or [])
    await sink.close()
    taken.extend(await sink.take(60) or [])

    assert taken == [*_events(5), None]
    assert not sink.too_slow


async def test_a_consumer_that_stays_behind_is_detached_with_a_notice_and_the_end() -> None:
    sink = QueueSink(max_events=2, wait_seconds=0.01)

    await sink.send(_events(5))  # returns although nobody reads: the run goes on
    await sink.send(_events(3, start=5))
    await sink.close()

    assert sink.too_slow and sink.detached
    # What was still queued is dropped: the consumer learns at once that it fell behind.
    assert await sink.take(0) == [SLOW_CONSUMER, None]
    assert sink.queue.empty()


async def test_the_notice_is_the_one_given() -> None:
    notice = Event("error", {"error": "SlowConsumer", "message": "rejoin"})
    sink = QueueSink(max_events=1, wait_seconds=0.01, slow_notice=notice)

    await sink.send(_events(2))

    assert await sink.take(0) == [notice, None]


async def test_a_consumer_leaving_releases_a_waiting_run_at_once() -> None:
    sink = QueueSink(max_events=1, wait_seconds=60)
    sending = asyncio.ensure_future(sink.send(_events(3)))
    await asyncio.sleep(0)
    assert not sending.done()

    sink.detach()
    await sending

    assert not sink.too_slow
    assert await sink.take(0) == _events(1)  # only what was queued before it left


async def test_take_waits_for_the_first_event_or_reports_silence() -> None:
    sink = QueueSink(max_events=10, wait_seconds=1)

    assert await sink.take(0.01) is None
    taking = asyncio.ensure_future(sink.take(60))
    await sink.send(_events(1))

    assert await taking == _events(1)


def test_a_queue_without_room_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        QueueSink(max_events=0, wait_seconds=1)
