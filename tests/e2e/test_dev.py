"""``lambdagraph dev`` as a user runs it: a process that prints its URL and serves the API."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import httpx

from tests.conftest import Tables

ROOT = Path(__file__).resolve().parents[2]


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def test_dev_serves_the_api_on_an_existing_dynamodb_endpoint(tables: Tables) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers" / "lambdagraph"),
        "LAMBDAGRAPH_APP_TABLE": f"{tables.app}-dev",
        "LAMBDAGRAPH_CHECKPOINT_TABLE": f"{tables.checkpoints}-dev",
        "LAMBDAGRAPH_SCRIPTED_DELAY_MS": "0",
        "LAMBDAGRAPH_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from lambdagraph_client.cli import main; sys.exit(main())",
         "dev", "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        printed = []
        while not any(line.startswith("Try") for line in printed):
            printed.append(lines.get(timeout=60))
        url = printed[0].split()[2]

        ok = httpx.get(f"{url}/ok", timeout=10)
        thread = httpx.post(f"{url}/threads", json={}, timeout=10)
        waited = httpx.post(
            f"{url}/threads/{thread.json()['thread_id']}/runs/wait",
            json={"assistant_id": "agent",
                  "input": {"messages": [{"role": "user", "content": "count to 3"}]}},
            timeout=30,
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)

    assert ok.json() == {"ok": True}
    assert waited.json()["messages"][-1]["content"] == "1 2 3"
    assert f"created: {tables.checkpoints}-dev, {tables.app}-dev" in printed[1]
    assert process.returncode == 0
