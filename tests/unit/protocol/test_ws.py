"""WebSocket envelopes: the shapes DESIGN §4 documents."""

from __future__ import annotations

import orjson

from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event


def test_events_envelope_from_encoded_items() -> None:
    items = [
        ws.event_item(Event("metadata", {"run_id": "r"}, "0")),
        ws.event_item(Event("values", [1], "1")),
    ]
    raw = ws.events_message("r", "t", items)
    assert orjson.loads(raw) == {
        "v": 1,
        "type": "events",
        "run_id": "r",
        "thread_id": "t",
        "events": [
            {"id": "0", "event": "metadata", "data": {"run_id": "r"}},
            {"id": "1", "event": "values", "data": [1]},
        ],
    }
    assert len(raw) == ws.events_overhead("r", "t", 2) + sum(len(i) for i in items)


def test_answers() -> None:
    assert ws.run_accepted("q", "r", "t") == {
        "v": 1,
        "type": "run.accepted",
        "request_id": "q",
        "run_id": "r",
        "thread_id": "t",
    }
    assert ws.run_ended("r", "interrupted") == {
        "v": 1,
        "type": "run.ended",
        "run_id": "r",
        "status": "interrupted",
        "usage": None,
    }
    totals = {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4, "cost_usd": 0.1}
    assert ws.run_ended("r", "success", totals)["usage"] == totals
    assert ws.error("bad_request", "no", request_id="q") == {
        "v": 1,
        "type": "error",
        "code": "bad_request",
        "message": "no",
        "request_id": "q",
    }
    assert ws.error("x", "y") == {"v": 1, "type": "error", "code": "x", "message": "y"}
    assert orjson.loads(ws.encode(ws.pong())) == {"v": 1, "type": "pong"}
