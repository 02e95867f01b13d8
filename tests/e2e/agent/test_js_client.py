"""The official JS client's thread stream (``@langchain/langgraph-sdk``) from Node.

``tests/js/thread_stream.mjs`` drives one approval flow through ``client.threads.stream``
over SSE and prints what it saw; ``make test`` installs its packages with ``npm ci``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

_JS = Path(__file__).parents[2] / "js"
_DEADLINE = 60


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (the JS client needs Node 20 or later)")
    if not (_JS / "node_modules" / "@langchain" / "langgraph-sdk").is_dir():
        pytest.skip("the JS client is not installed: make js (npm ci in tests/js)")
    return node


def _thread_stream(server: str, assistant_id: str, message: str) -> dict[str, Any]:
    result = subprocess.run(
        [_node(), "thread_stream.mjs", server, assistant_id, message],
        cwd=_JS, capture_output=True, text=True, timeout=_DEADLINE, check=False,
    )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return seen


def test_the_js_thread_stream_streams_asks_and_resumes(server: str) -> None:
    seen = _thread_stream(server, "demo", "send an email to bob@example.com")

    assert {"lifecycle", "input.requested", "messages", "values"} <= set(seen["methods"])
    assert seen["interrupts"][0]["action"] == "send_email"
    assert seen["interrupts"][0]["args"]["to"] == "bob@example.com"
    assert seen["text"] == "Email sent to bob@example.com."
    assert [m["type"] for m in seen["messages"]] == ["human", "ai", "tool", "ai"]
    assert seen["messages"][-1]["text"] == "Email sent to bob@example.com."
