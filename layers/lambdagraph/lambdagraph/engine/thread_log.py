"""The sink of a v2 run: frames numbered per thread, into the thread log and live.

The executor hands a v2 run's frames (``Event(method, frame)``) to a
:class:`ThreadFrameSink`. It stamps each with the thread's next ``seq`` (and an
``event_id``), so a frame reads ``{"type": "event", "event_id", "seq", "method",
"params"}`` as LangGraph Server sends it; then it hands the numbered events to the thread
log (one write per flush window, :class:`EventLogSink`), to the in-process
:class:`ThreadHub`, and to the live sinks, in that order.

Events that are not frames (an ``error`` a crash handler sends, a ``metadata``) are turned
into the root's ``lifecycle.failed`` or dropped: a v2 subscriber only ever sees frames.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from lambdagraph.engine.resumable import EventLogSink
from lambdagraph.engine.sinks import Sink, observe_run
from lambdagraph.engine.thread_hub import Frame, ThreadHub
from lambdagraph.protocol.agent import FIRST_SEQ
from lambdagraph.protocol.agent_events import frame
from lambdagraph.protocol.events import Event
from lambdagraph.store.events import EventLog
from lambdagraph.store.records import Run

logger = logging.getLogger(__name__)


def frame_events(frames: Sequence[Frame]) -> list[Event]:
    """Frames as the events a sink takes (numbered later by :class:`ThreadFrameSink`)."""
    return [Event(str(f["method"]), f) for f in frames]


def is_frame(data: Any) -> bool:
    """Whether an event's data is a protocol frame (not a v1 payload)."""
    return isinstance(data, dict) and data.get("type") == "event" and "params" in data


class ThreadFrameSink:
    """Numbers a v2 run's frames per thread and sends them to the log, the hub, live sinks.

    Args:
        log: the thread log (:meth:`EventLog.for_threads`).
        thread_id: the run's thread.
        start: the ``seq`` of the first frame (the thread log's last ``seq`` plus one; at
            least :data:`FIRST_SEQ`).
        hub: in-process followers of the thread.
        live: more sinks (e.g. a WebSocket fan-out); they get the numbered events.
        graph_name: the root graph's name, for a ``lifecycle.failed`` made of an ``error``.
        flush_interval: seconds frames wait before one batched log write.
        continued: the run is a continuation (a later worker invocation): the root's
            ``lifecycle.running`` its executor sends again is dropped, so subscribers see
            one continuous run.
    """

    def __init__(
        self,
        log: EventLog,
        thread_id: str,
        *,
        start: int,
        hub: ThreadHub,
        live: Sequence[Sink] = (),
        graph_name: str = "root",
        flush_interval: float = 0.1,
        continued: bool = False,
    ) -> None:
        self.thread_id = thread_id
        self.next_seq = max(start, FIRST_SEQ)
        self.hub = hub
        self.live = list(live)
        self.graph_name = graph_name
        self.continued = continued
        self.log_sink = EventLogSink(log, thread_id, flush_interval=flush_interval)

    async def send(self, events: Sequence[Event]) -> None:
        frames = [f for event in events if (f := self._frame_of(event)) is not None]
        if not frames:
            return
        numbered: list[Frame] = []
        for raw in frames:
            seq = self.next_seq
            self.next_seq += 1
            numbered.append({"type": "event", "event_id": str(seq), "seq": seq, **_body(raw)})
        out = [Event(str(f["method"]), f, str(f["seq"])) for f in numbered]
        await self.log_sink.send(out)
        self.hub.publish(self.thread_id, numbered)
        for sink in self.live:
            await sink.send(out)

    def _frame_of(self, event: Event) -> Frame | None:
        if self.continued and _is_root_running(event.data):
            self.continued = False
            return None
        if is_frame(event.data):
            frame_data: Frame = event.data
            return frame_data
        if event.event == "error" and isinstance(event.data, dict):
            message = event.data.get("message") or event.data.get("error") or "Run failed"
            data = {"event": "failed", "graph_name": self.graph_name, "error": str(message)}
            return frame("lifecycle", [], data)
        return None

    async def observe(self, run: Run) -> None:
        """Pass the polled run item on to live sinks that observe it (new WebSocket
        subscribers of the thread)."""
        await observe_run(self.live, run)

    async def flush(self) -> None:
        """Write every buffered frame to the thread log now."""
        await self.log_sink.flush()

    async def close(self) -> None:
        await self.log_sink.close()
        self.hub.forget(self.thread_id)
        for sink in self.live:
            try:
                await sink.close()
            except Exception:
                logger.warning("A live sink failed to close", exc_info=True)


def _is_root_running(data: Any) -> bool:
    if not is_frame(data) or data["method"] != "lifecycle":
        return False
    params = data["params"]
    return not params.get("namespace") and (params.get("data") or {}).get("event") == "running"


def _body(raw: Frame) -> Frame:
    return {"method": raw["method"], "params": raw["params"]}
