"""What the benchmarks measure: our local stack, ``langgraph dev``, and the graph in-process.

Servers run in processes of their own on free loopback ports and are stopped (their own
process group, by id) when the block ends. All three serve the same graph: the demo agent
with the scripted model at delay 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from langgraph.checkpoint.memory import InMemorySaver

from lambdagraph.agents import ScriptedChatModel, build_agent_graph
from lambdagraph_client.local.oidc import request_token
from tests.bench.venvs import ROOT, PeerUnavailable, ensure_venv, runtime_pins

LGDEV_VENV = ROOT / ".venv-bench-lgdev"
# Pinned so the figures are reproducible; these are the versions measured in the README.
LGDEV_REQUIREMENTS = ["langgraph-cli[inmem]==0.4.40", "langgraph-api==0.16.7"]
# What the served graphs import beyond LangGraph, at our versions: the demo graph
# lambdagraph.settings; the SDK integration graphs (tests/e2e/agent) langchain and deepagents.
_GRAPH_NEEDS = [
    f"{name}=={version(name)}" for name in ("pydantic-settings", "langchain", "deepagents")
]
_START_TIMEOUT = 120.0
_STOP_TIMEOUT = 15.0
# The graph module langgraph dev serves: the same demo graph, the same scripted model.
_GRAPH_MODULE = """\
from lambdagraph.agents.demo import build_agent_graph
from lambdagraph.agents.scripted import ScriptedChatModel

graph = build_agent_graph(ScriptedChatModel(delay_ms=0))
"""


# lambdagraph as it is deployed (issue 18): `jwt` auth against the local issuer, both per-user
# limits on (high enough that no benchmark is refused; each costs its writes), metrics on (the
# local stack always collects its EMF metrics, as a deployed function always prints them).
AS_DEPLOYED = {
    "LAMBDAGRAPH_AUTH_MODE": "jwt",
    "LAMBDAGRAPH_MAX_ACTIVE_RUNS_PER_USER": "1000",
    "LAMBDAGRAPH_REQUESTS_PER_MINUTE_PER_USER": "1000000",
}
BENCH_USER = "bench"


@dataclass(frozen=True)
class Served:
    """A server the benchmark started: where it listens, its process id, and what a client
    sends with each request (our stack: a bearer token of the local issuer)."""

    name: str
    url: str
    pid: int
    headers: Mapping[str, str] = field(default_factory=dict)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # the group this benchmark started
        except ProcessLookupError:
            return
    try:
        process.wait(_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(_STOP_TIMEOUT)


def _wait_ok(url: str, process: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            # The cause (e.g. a GraphLoadError) comes before uvicorn's "startup failed".
            errors = [line for line in lines if "Error:" in line]
            last = (errors or [line for line in lines if line.strip()] or ["no output"])[-1]
            raise PeerUnavailable(f"the server exited with {process.returncode}: {last.strip()}")
        try:
            if httpx.get(f"{url}/ok", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise PeerUnavailable(f"the server did not answer /ok within {_START_TIMEOUT:.0f} s")


def _bench_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    path = [str(ROOT / "layers" / "lambdagraph"), str(ROOT)]
    env["PYTHONPATH"] = os.pathsep.join([*path, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@contextmanager
def local_stack(delay_ms: int = 0, env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """Our local stack as ``make dev`` runs it (embedded DynamoDB included), in its own process.

    Configured as deployed (:data:`AS_DEPLOYED`; ``env`` may override it); the yielded
    :class:`Served` carries the bearer token of :data:`BENCH_USER` when auth is ``jwt``.

    Args:
        delay_ms: the scripted model's pause between chunks.
        env: more environment for the stack, e.g. ``LAMBDAGRAPH_*`` settings.
    """
    config = {**AS_DEPLOYED, **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.stack_server"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_bench_env(**config, LAMBDAGRAPH_SCRIPTED_DELAY_MS=str(delay_ms)),
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()  # "HTTP API   http://127.0.0.1:PORT  (...)"
        if not banner.startswith("HTTP API"):
            raise RuntimeError(f"the local stack did not start: {banner!r}")
        url = banner.split()[2]
        _wait_ok(url, process, Path(os.devnull))
        headers = {}
        if config.get("LAMBDAGRAPH_AUTH_MODE") == "jwt":
            headers["Authorization"] = f"Bearer {request_token(url, BENCH_USER)}"
        yield Served("lambdagraph", url, process.pid, headers)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # what Ctrl-C does to `make dev`
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _stop(process)


def _offline_env(venv: Path) -> dict[str, str]:
    """langgraph dev's environment: no tracing, no telemetry, and no way out.

    A proxy that refuses every connection makes any outbound call fail at once instead of
    hanging; loopback stays direct.
    """
    env = _bench_env(
        LANGSMITH_TRACING="false",
        LANGCHAIN_TRACING_V2="false",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    for key in ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "LANGGRAPH_API_KEY"):
        env.pop(key, None)
    return env


def lgdev_requirements() -> list[str]:
    """What ``langgraph dev``'s virtualenv holds (:func:`venv_ready` tells if it is built)."""
    return [*LGDEV_REQUIREMENTS, *runtime_pins(), *_GRAPH_NEEDS]


def _graph_module(graphs: Mapping[str, str]) -> str:
    """The served module: ``graph`` and each extra graph (name → ``"package.module:attr"``)."""
    lines = [_GRAPH_MODULE]
    for name, target in graphs.items():
        module, _, attr = target.partition(":")
        lines.append(f"from {module} import {attr} as {name}\n")
    return "".join(lines)


@contextmanager
def langgraph_dev(graphs: Mapping[str, str] | None = None) -> Iterator[Served]:
    """``langgraph dev`` serving the demo graph, from its own virtualenv.

    Args:
        graphs: more graphs to serve, name → ``"package.module:attr"`` importable from the
            repository root (the compatibility suite serves its own next to ``agent``).

    Raises:
        PeerUnavailable: it could not be installed (e.g. offline) or did not start.
    """
    python = ensure_venv(LGDEV_VENV, lgdev_requirements())
    extra = dict(graphs or {})
    with tempfile.TemporaryDirectory(prefix="bench-lgdev-") as tmp:
        workdir = Path(tmp)
        (workdir / "graph.py").write_text(_graph_module(extra))
        served = {"agent": "./graph.py:graph"} | {name: f"./graph.py:{name}" for name in extra}
        config = {"dependencies": ["."], "graphs": served}
        (workdir / "langgraph.json").write_text(json.dumps(config))
        port = free_port()
        log = workdir / "server.log"
        command = [
            str(python.parent / "langgraph"), "dev", "--no-browser", "--no-reload",
            "--host", "127.0.0.1", "--port", str(port), "--config", "langgraph.json",
            "--server-log-level", "WARNING",
        ]
        with log.open("w") as out:
            process = subprocess.Popen(
                command, cwd=workdir, env=_offline_env(python.parent.parent), stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ok(url, process, log)
            yield Served("langgraph dev", url, process.pid)
        finally:
            _stop(process)


def inprocess_graph() -> Any:
    """The demo graph with the scripted model at delay 0 and an in-memory saver: the limit."""
    return build_agent_graph(ScriptedChatModel(delay_ms=0)).copy(
        update={"checkpointer": InMemorySaver()}
    )
