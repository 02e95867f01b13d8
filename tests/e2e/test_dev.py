"""``lambdagraph dev`` as a user runs it: a process that prints its URL and serves the API."""

from __future__ import annotations

import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import httpx
import pytest

from lambdagraph_client.cli import main
from tests.conftest import Tables

ROOT = Path(__file__).resolve().parents[2]
VENV_SCRIPT = ROOT / ".venv" / "bin" / "lambdagraph"


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
        printed: list[str] = []
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _banner(process: subprocess.Popen[str]) -> list[str]:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    printed: list[str] = []
    while not printed or not printed[-1].startswith("Try"):
        line = lines.get(timeout=60)
        if printed or line.startswith("HTTP API"):  # make echoes its command first
            printed.append(line)
    printed.append(lines.get(timeout=10))  # the second Try line, over WebSocket
    return printed


def _dev_env(tables: Tables, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        LAMBDAGRAPH_APP_TABLE=f"{tables.app}-dev",
        LAMBDAGRAPH_CHECKPOINT_TABLE=f"{tables.checkpoints}-dev",
        LAMBDAGRAPH_SCRIPTED_DELAY_MS="0",
        **extra,
    )
    return env


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


@pytest.mark.skipif(not VENV_SCRIPT.exists(), reason="make dev runs the repository's .venv")
def test_make_dev_port_serves_there_and_its_banner_shows_commands_that_work(
    tables: Tables,
) -> None:
    port = _free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "dev", f"PORT={port}"], cwd=ROOT, env=_dev_env(tables),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        printed = _banner(process)
        url = f"http://127.0.0.1:{port}"
        docs = httpx.get(f"{url}/docs", timeout=10)
        openapi = httpx.get(f"{url}/openapi.json", timeout=10)
        try_sse = shlex.split(printed[-2].removeprefix("Try"))
        try_ws = shlex.split(printed[-1])
        chat_sse = subprocess.run(
            try_sse, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
        )
        chat_ws = subprocess.run(
            [*try_ws[:-1], "--yes", try_ws[-1]], cwd=ROOT, capture_output=True, text=True,
            timeout=60, check=False,
        )
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)

    banner = "".join(printed)
    assert printed[0].split()[2] == url
    assert f"Docs       {url}/docs  (OpenAPI: {url}/openapi.json)" in banner
    assert f"ws://127.0.0.1:{port}/ws" in banner
    assert "Offload    s3://lambdagraph-checkpoints" in banner
    assert try_sse[:4] == [".venv/bin/lambdagraph", "chat", "--url", url]
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert openapi.json()["paths"]
    assert chat_sse.returncode == 0, chat_sse.stderr
    assert "The weather in Paris is" in chat_sse.stdout
    assert chat_ws.returncode == 0, chat_ws.stderr
    assert "Email sent to bob@example.com." in chat_ws.stdout


def test_a_taken_port_is_named_with_how_to_pick_another(
    tables: Tables, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _dev_env(tables).items():
        if name.startswith("LAMBDAGRAPH_"):
            monkeypatch.setenv(name, value)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        status = main(["dev", "--port", str(port)])

    err = capsys.readouterr().err
    assert status == 2
    assert f"Cannot listen on 127.0.0.1:{port}: Address already in use" in err
    assert f"make dev PORT={port + 1}" in err and f"lambdagraph dev --port {port + 1}" in err


GRAPH_MODULE = '''
from typing import TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    text: str


def shout(state: State) -> State:
    return {"text": state["text"].upper() + "!"}


graph = StateGraph(State).add_node("shout", shout).add_edge(START, "shout").add_edge("shout", END)
'''


def test_dev_serves_a_graph_module_from_the_current_directory(
    tables: Tables, tmp_path: Path
) -> None:
    (tmp_path / "my_graph.py").write_text(GRAPH_MODULE)
    script = Path(sys.executable).parent / "lambdagraph"  # the console script, as users run it
    process = subprocess.Popen(
        [str(script), "dev", "--port", "0"], cwd=tmp_path,
        env=_dev_env(tables, LAMBDAGRAPH_GRAPHS="mine=my_graph:graph"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = _banner(process)[0].split()[2]
        waited = httpx.post(
            f"{url}/runs/wait", json={"assistant_id": "mine", "input": {"text": "hi"}}, timeout=30
        )
    finally:
        _stop(process)

    assert waited.status_code == 200, waited.text
    assert waited.json() == {"text": "HI!"}
