"""Worker payload parsing."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from lambdagraph.engine.invoker import parse_payload
from lambdagraph.errors import InvalidInput


def test_parses_run_and_continue_payloads() -> None:
    run = parse_payload({"kind": "run", "owner": "o", "thread_id": "t", "run_id": "r", "x": 1})
    assert run == {"kind": "run", "owner": "o", "thread_id": "t", "run_id": "r"}
    cont = parse_payload(
        {"kind": "continue", "owner": "o", "thread_id": "t", "run_id": "r", "attempt": 3}
    )
    assert cont["kind"] == "continue" and cont["attempt"] == 3
    erase = parse_payload({"kind": "erase", "owner": "o", "thread_id": "t", "run_id": "x"})
    assert erase == {"kind": "erase", "owner": "o", "thread_id": "t"}
    # What the deployed schedule sends (template.yaml's ThreadExpirySweep), and nothing else.
    assert parse_payload({"kind": "sweep", "owner": "o"}) == {"kind": "sweep"}


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"kind": "other", "owner": "o", "thread_id": "t", "run_id": "r"},
        {"kind": "run", "owner": "o", "thread_id": 5, "run_id": "r"},
        {"kind": "continue", "owner": "o", "thread_id": "t", "run_id": "r", "attempt": 1},
        {"kind": "erase", "owner": "o"},
        {"kind": "erase", "owner": "o", "thread_id": ["t"]},
        {"kind": "continue", "owner": "o", "thread_id": "t", "run_id": "r"},
    ],
)
def test_rejects_anything_else(event: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        parse_payload(event)


def test_durable_runs_and_the_worker_import_no_local_stack() -> None:
    code = (
        "import sys, lambdagraph.engine.durable, lambdagraph.engine.worker,"
        " lambdagraph.store.events;"
        "print(','.join(m for m in ('moto', 'uvicorn', 'starlette', 'lambdagraph_client.local')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
