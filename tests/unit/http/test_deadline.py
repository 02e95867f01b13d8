"""Reading the invocation deadline the Lambda Web Adapter forwards."""

from __future__ import annotations

import json
import time

import pytest

from lambdagraph.http.deadline import parse_deadline


@pytest.mark.parametrize("key", ["deadline", "deadline_ms"])
def test_the_deadline_becomes_monotonic_seconds(key: str) -> None:
    raw = json.dumps({"request_id": "r", key: int(time.time() * 1000) + 30_000}).encode()
    deadline = parse_deadline(raw)
    assert deadline is not None and 29 < deadline - time.monotonic() <= 30


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[]", b'{"deadline": "soon"}', b'{"x": 1}', b'{"deadline": true}']
)
def test_anything_else_means_no_deadline(raw: bytes) -> None:
    assert parse_deadline(raw) is None
