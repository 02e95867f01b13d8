"""Item 3: cold starts of the ``stream``, ``ws`` and ``worker`` functions (their sizes and
memory: ``footprint``, item 12).

Each sample is a fresh Python process (``cold_child.py``) that imports a function's
``functions/<name>/app.py`` (Lambda's init phase) and serves the function's first request:
for ``stream`` a streamed run of the demo graph through ASGI; for ``ws`` a ``$connect`` and
a ``run`` action (the run recorded, ``run.accepted`` posted, the worker invoked); for
``worker`` that invocation's run, executed and posted to the connection. DynamoDB is a moto
server in this process; the Lambda ``Invoke`` and management API endpoints are a small
recording server here too, so each ``ws`` sample hands its run to a ``worker`` sample.

Variants, interleaved so drift hits all alike:

* *ours*: lambdagraph as ``make build`` deploys it, the layer's bytecode compiled at build
  time (``infra/precompile.py``);
* *source*: lambdagraph as ``sam build`` alone ships it: SAM's Python builder
  drops every ``__pycache__`` and unpacks wheels without compiling, and Lambda's ``/opt``
  is read-only, so every module compiles from source at every cold start;
* *naive*: the same function in a process that first imports every dependency any function
  may need, creates its boto3 clients and compiles its graphs, as a module-level Lambda
  handler commonly does, shipped as ``sam build`` ships it;
* *floor*: only the libraries the first request cannot do without (``cold_child.FLOOR``),
  with bytecode: what no lazy import goes below.

The ``api`` and ``authorizer`` functions get their init phase measured (ours, with and
without bytecode). Ratios are of CPU seconds: on a shared machine wall time measures the
neighbours.

Bytecode is steered with ``PYTHONPYCACHEPREFIX``: a warm-up run fills a cache of every
module; the source-only variants get a copy holding only the standard library's (the
runtime's own ``/var/lang`` has its bytecode). Run alone: ``python -m tests.bench.cold_start``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3

from lambdagraph_client.local.dynamo import embedded_aws, use_fake_credentials
from lambdagraph_client.local.tables import ensure_tables
from tests.bench.rows import Row, ms, render
from tests.bench.targets import _bench_env
from tests.bench.venvs import ROOT

RUNS = 3
CHILD = Path(__file__).with_name("cold_child.py")
FUNCTIONS = ("stream", "ws", "worker")
VARIANTS = ("ours", "source", "naive", "floor")
INIT_ONLY = ("api", "authorizer")
"""Functions whose init phase alone is measured (ours, with and without bytecode)."""
# Lambda's limit for the init phase; past it the instance is restarted and init is retried.
INIT_LIMIT_SECONDS = 10.0


@dataclass
class Recorder:
    """What the functions sent to AWS beyond DynamoDB: worker invokes, connection posts."""

    invokes: list[dict[str, object]] = field(default_factory=list)
    posts: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Lambda ``Invoke`` (``InvocationType=Event``: 202) and ``POST @connections/{id}``."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with recorder.lock:
                if self.path.endswith("/invocations"):
                    recorder.invokes.append(json.loads(body))
                    status = 202
                elif "/@connections/" in self.path:
                    recorder.posts.append((self.path.rsplit("/", 1)[-1], body))
                    status = 200
                else:
                    status = 404
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def recording_endpoint() -> Iterator[tuple[str, Recorder]]:
    """A loopback server standing in for Lambda's and API Gateway's management endpoints."""
    recorder = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        server.shutdown()
        server.server_close()


def _child_env(
    tables: dict[str, str], endpoint: str, pycache: Path, *, write: bool
) -> dict[str, str]:
    """The child's environment: the function's settings, and bytecode read from (and with
    ``write``, written to) ``pycache`` only."""
    env = _bench_env(
        LAMBDAGRAPH_APP_TABLE=tables["AppTable"],
        LAMBDAGRAPH_CHECKPOINT_TABLE=tables["CheckpointsTable"],
        LAMBDAGRAPH_WORKER_FUNCTION="lambdagraph-worker",
        LAMBDAGRAPH_WS_ENDPOINT=endpoint,
        AWS_ENDPOINT_URL_LAMBDA=endpoint,
        LAMBDAGRAPH_SCRIPTED_DELAY_MS="0",
        LAMBDAGRAPH_LOG_LEVEL="WARNING",
        POWERTOOLS_TRACE_DISABLED="1",
        POWERTOOLS_METRICS_NAMESPACE="bench",
        PYTHONPYCACHEPREFIX=str(pycache),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass
class ColdStarts:
    """Runs the cold-start children against one set of tables and one recording endpoint."""

    tables: dict[str, str]
    endpoint: str
    recorder: Recorder
    cache: Path
    payloads: list[str] = field(default_factory=list)

    def one(self, function: str, variant: str, *, warm_up: bool = False) -> dict[str, float]:
        """One fresh process's timings; checks what the function sent."""
        layer = "stdlib" if variant in ("source", "naive") and not warm_up else "full"
        env = _child_env(self.tables, self.endpoint, self.cache / layer, write=warm_up)
        invokes, posts = len(self.recorder.invokes), len(self.recorder.posts)
        serves = variant != "floor" and function in FUNCTIONS
        payload = [self.payloads.pop(0)] if serves and function == "worker" else []
        spawned = time.time()
        result = subprocess.run(
            [sys.executable, str(CHILD), function,
             variant if variant in ("naive", "floor") else "ours", repr(spawned), *payload],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=180,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{function} {variant} cold start failed:\n{result.stderr[-2000:]}")
        with self.recorder.lock:
            new_posts = [body for _, body in self.recorder.posts[posts:]]
            if serves and function == "ws":
                assert len(self.recorder.invokes) == invokes + 1, "the run was not handed over"
                self.payloads.append(json.dumps(self.recorder.invokes[-1]))
                assert any(b"run.accepted" in body for body in new_posts), new_posts
            if serves and function == "worker":
                assert any(b"run.ended" in body for body in new_posts), new_posts
        return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    def warm_up(self) -> None:
        """Fill the bytecode cache (every module any variant imports), then copy its
        standard-library part for the source-only variants."""
        for function in FUNCTIONS:
            for variant in ("ours", "naive", "floor"):
                self.one(function, variant, warm_up=True)
        for function in INIT_ONLY:
            self.one(function, "ours", warm_up=True)
        stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
        source = self.cache / "full" / stdlib.relative_to(stdlib.anchor)
        shutil.copytree(source, self.cache / "stdlib" / stdlib.relative_to(stdlib.anchor))


Figures = dict[str, dict[str, dict[str, float]]]
"""function → variant → median seconds (``init``, ``total``) and CPU (``init_cpu``, ``cpu``)."""


def measure_cold_start(runs: int = RUNS) -> Figures:
    """Median timings of each function's cold start, per variant."""
    use_fake_credentials()
    with (
        embedded_aws(),
        recording_endpoint() as (endpoint, recorder),
        tempfile.TemporaryDirectory(prefix="lambdagraph-pycache-") as cache,
    ):
        suffix = uuid.uuid4().hex[:8]
        tables = {"AppTable": f"cold-app-{suffix}", "CheckpointsTable": f"cold-cp-{suffix}"}
        ensure_tables(boto3.client("dynamodb"), tables)
        starts = ColdStarts(tables, endpoint, recorder, Path(cache))
        starts.warm_up()
        samples: dict[str, dict[str, list[dict[str, float]]]] = {
            **{f: {v: [] for v in VARIANTS} for f in FUNCTIONS},
            **{f: {"ours": [], "source": []} for f in INIT_ONLY},
        }
        for _ in range(runs):
            # Each ws sample hands the next worker sample its run.
            for function, per_variant in samples.items():
                for variant, values in per_variant.items():
                    values.append(starts.one(function, variant))
    keys = ("init", "total", "init_cpu", "cpu")
    return {
        function: {
            variant: {key: statistics.median(s[key] for s in values) for key in keys}
            for variant, values in per_variant.items()
        }
        for function, per_variant in samples.items()
    }


def _seconds(value: float) -> str:
    return ms(value) if value < 1 else f"{value:.2f} s"


def _cpu(figures: dict[str, float], key: str = "cpu") -> str:
    wall = "total" if key == "cpu" else "init"
    return f"CPU {_seconds(figures[key])} (wall {_seconds(figures[wall])})"


_FIRST = {
    "stream": "first streamed run",
    "ws": "`$connect` + first `run` action",
    "worker": "first run executed",
}
INIT_TARGET_CPU = 1.5
"""Seconds of init CPU here; see README, Benchmarks item 3, for why."""


def _init_row(function: str, ours: dict[str, float], source: dict[str, float],
              floor: dict[str, float] | None) -> Row:
    return Row(
        3,
        f"`{function}` init phase (billed): process start → module loaded",
        f"{_cpu(ours, 'init_cpu')}; no bytecode: CPU {_seconds(source['init_cpu'])}",
        f"its libraries alone: CPU {_seconds(floor['init_cpu'])}" if floor else "–",
        ours["init_cpu"] / floor["init_cpu"] if floor else None,
        f"≤ {INIT_TARGET_CPU} s CPU",
        ours["init_cpu"] <= INIT_TARGET_CPU,
    )


def cold_start_rows(figures: Figures, runs: int = RUNS) -> list[Row]:
    """Per function: as deployed vs naive (CPU: the machine is shared), the same build as
    naive's, and the init phase against the function's libraries alone."""
    rows = []
    for function in FUNCTIONS:
        ours, source, naive, floor = (figures[function][v] for v in VARIANTS)
        goal = "≤ 0.6" if function != "worker" else ""
        ratio = ours["cpu"] / naive["cpu"]
        rows += [
            Row(3, f"`{function}` cold start: start → {_FIRST[function]} (median of {runs})",
                _cpu(ours), f"naive eager imports, no bytecode: {_cpu(naive)}",
                ratio, goal, ratio <= 0.6 if goal else None),
            Row(3, f"`{function}` cold start, both without bytecode (`sam build` alone)",
                _cpu(source), f"naive: CPU {_seconds(naive['cpu'])}",
                source["cpu"] / naive["cpu"]),
            _init_row(function, ours, source, floor),
        ]
    for function in INIT_ONLY:
        per_variant = figures[function]
        rows.append(_init_row(function, per_variant["ours"], per_variant["source"], None))
    return rows


def measure() -> list[Row]:
    """Item 3 rows."""
    return cold_start_rows(measure_cold_start())


if __name__ == "__main__":
    print(render(measure()))
