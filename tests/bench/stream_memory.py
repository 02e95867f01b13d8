"""The ``stream`` function's memory high-water mark over one 1,000-token run.

The function starts as Lambda starts it: ``functions/stream/run.sh`` (which execs uvicorn on
``app:app``) in a fresh process, with the layer's package on ``PYTHONPATH``, configured as
deployed (``jwt`` auth, both per-user limits, EMF metrics on stdout) and the scripted model at
delay 0. DynamoDB, S3 and the token issuer are a local stack in this process
(``running_stack(local_issuer=True)``), so none of them counts in the function's memory.
Once ``/ok`` answers (the Web Adapter's readiness check: init is over) the process's
``VmHWM`` and ``VmRSS`` are read from ``/proc``; then one streamed run on a new thread,
``count to 1000`` through ``POST /threads/{id}/runs/stream`` (``messages-tuple``), and they
are read again. ``VmHWM`` is the peak resident set: what ``MemorySize`` must cover.

The resident set is split into file-backed mappings of compiled libraries (``*.so``: their
size depends on the architecture) and the rest (the Python heap: the same objects and
pointer size on arm64), which is how the arm64 figure is estimated from the layer's wheels.
The Bedrock model (the template's default ``Model``) is not called; what its imports add
is measured in another fresh process that imports the app and builds the model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from lambdagraph.settings import Settings
from lambdagraph_client.local.oidc import request_token
from lambdagraph_client.local.server import running_stack
from tests.bench.targets import AS_DEPLOYED, BENCH_USER, _bench_env, _stop, _wait_ok, free_port
from tests.bench.venvs import ROOT

FUNCTION = ROOT / "functions" / "stream"
ANSWER = "count to 1000"
TOKENS = 1000


@dataclass(frozen=True)
class Memory:
    """One process's memory at one moment, in bytes.

    Attributes:
        hwm: ``VmHWM``, the peak resident set so far.
        rss: ``VmRSS``, the resident set now.
        libraries: resident bytes of file-backed ``*.so`` mappings, by file.
        cpu: seconds of CPU the process has used (user + system).
    """

    hwm: int
    rss: int
    libraries: Mapping[str, int]
    cpu: float

    @property
    def library_total(self) -> int:
        """Resident bytes of compiled libraries."""
        return sum(self.libraries.values())


def read_memory(pid: int) -> Memory:
    """``pid``'s ``VmHWM``, ``VmRSS`` and per-library resident bytes (Linux ``/proc``)."""
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        status[key] = value.strip()
    libraries: dict[str, int] = {}
    current = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            current = fields[5] if len(fields) > 5 and ".so" in fields[5] else ""
        elif current and fields and fields[0] == "Rss:":
            libraries[current] = libraries.get(current, 0) + int(fields[1]) * 1024
    kib = {key: int(status[key].split()[0]) * 1024 for key in ("VmHWM", "VmRSS")}
    # /proc/PID/stat: utime and stime are the 14th and 15th fields, after "(comm)".
    ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]
    cpu = sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")
    return Memory(kib["VmHWM"], kib["VmRSS"], libraries, cpu)


def _function_env(stack_env: Mapping[str, str], port: int) -> dict[str, str]:
    env = _bench_env(
        **AS_DEPLOYED,
        **stack_env,
        AWS_LWA_PORT=str(port),
        LAMBDAGRAPH_MODEL="scripted",
        LAMBDAGRAPH_SCRIPTED_DELAY_MS="0",
        LAMBDAGRAPH_LOG_LEVEL="WARNING",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env["PYTHONPATH"] = str(ROOT / "layers" / "lambdagraph")  # the layer alone, as /opt/python
    return env


def _stream_run(url: str, token: str) -> int:
    """One ``count to 1000`` run on a new thread; returns the tokens received."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "assistant_id": "agent", "stream_mode": ["messages-tuple"],
        "input": {"messages": [{"role": "user", "content": ANSWER}]},
    }
    tokens = 0
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        thread = client.post("/threads", json={}).raise_for_status().json()
        with client.stream("POST", f"/threads/{thread['thread_id']}/runs/stream", json=body) as r:
            r.raise_for_status()
            event = ""
            for line in r.iter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event == "messages":
                    chunk = json.loads(line.removeprefix("data:"))[0]
                    tokens += bool(chunk.get("content"))
                elif line.startswith("data:") and event == "error":
                    raise RuntimeError(f"the run failed: {line[:300]}")
    return tokens


_BEDROCK_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import app
from lambdagraph.agents.bedrock import create_bedrock_model
status = lambda: {l.split(":")[0]: int(l.split()[1]) * 1024
                  for l in open("/proc/self/status") if l.startswith(("VmHWM", "VmRSS"))}
before = status()
model = create_bedrock_model("us.anthropic.claude-haiku-4-5-20251001-v1:0")
print(json.dumps({"before": before, "after": status()}))
"""


def _bedrock_imports(env: Mapping[str, str]) -> int:
    """Bytes of peak resident memory that building the Bedrock model adds to an initialised
    function (a fresh process: the app, then ``create_bedrock_model``; no call is made)."""
    result = subprocess.run(
        [sys.executable, "-c", _BEDROCK_CHILD, str(FUNCTION)],
        env=dict(env), cwd=FUNCTION, capture_output=True, text=True, timeout=120, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the Bedrock import probe failed:\n{result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return int(figures["after"]["VmHWM"] - figures["before"]["VmHWM"])


@dataclass(frozen=True)
class StreamMemory:
    """The stream function's memory over one run: after init, after the run."""

    init: Memory
    after_run: Memory
    tokens: int
    bedrock_imports: int


def measure_stream_memory() -> StreamMemory:
    """Start the function in a fresh process, stream one 1,000-token run, read its memory."""
    suffix = uuid.uuid4().hex[:8]
    settings = Settings.from_env().replace(
        app_table=f"mem-app-{suffix}", checkpoint_table=f"mem-cp-{suffix}"
    )
    with running_stack(settings=settings, local_issuer=True, embedded=True) as stack:
        assert stack.issuer is not None
        stack_env = {
            "AWS_ENDPOINT_URL_DYNAMODB": stack.dynamodb_endpoint,
            "AWS_ENDPOINT_URL_S3": stack.dynamodb_endpoint,
            "LAMBDAGRAPH_APP_TABLE": stack.settings.app_table,
            "LAMBDAGRAPH_CHECKPOINT_TABLE": stack.settings.checkpoint_table,
            "LAMBDAGRAPH_CHECKPOINT_BUCKET": stack.settings.checkpoint_bucket or "",
            "LAMBDAGRAPH_JWT_ISSUER": stack.issuer.url,
            "LAMBDAGRAPH_JWT_AUDIENCE": stack.issuer.audience,
        }
        port = free_port()
        env = _function_env(stack_env, port)
        log = Path(tempfile.mkdtemp(prefix="bench-memory-")) / "stream.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                ["bash", str(FUNCTION / "run.sh")], env=env, cwd=FUNCTION,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=out,
                start_new_session=True,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ok(url, process, log)
            init = read_memory(process.pid)
            tokens = _stream_run(url, request_token(stack.url, BENCH_USER))
            after = read_memory(process.pid)
        finally:
            _stop(process)
            shutil.rmtree(log.parent, ignore_errors=True)
        bedrock = _bedrock_imports(env)
    return StreamMemory(init, after, tokens, bedrock)


_ABI = re.compile(r"(cpython-3\d+|abi3)-?(x86_64|aarch64)?-linux-gnu")


def _layer_key(path: str) -> str | None:
    """A compiled library's path inside a layer, without Python version or machine
    (``pydantic_core/_pydantic_core.ABI.so``); None outside ``site-packages``."""
    _, found, inside = path.partition("/site-packages/")
    return _ABI.sub("ABI", inside) if found else None


def library_ratios(x86: Path, arm: Path) -> dict[str, float]:
    """arm64 bytes / x86_64 bytes of each compiled library in two builds of the layer."""
    def sizes(root: Path) -> dict[str, int]:
        found = {}
        for library in root.rglob("*.so*"):
            key = _layer_key(f"/site-packages/{library.relative_to(root).as_posix()}")
            if key and library.is_file():
                found[key] = library.stat().st_size
        return found

    x86_sizes, arm_sizes = sizes(x86), sizes(arm)
    return {k: arm_sizes[k] / v for k, v in x86_sizes.items() if k in arm_sizes and v}


def arm64_estimate(memory: Memory, ratios: Mapping[str, float]) -> int:
    """``memory.hwm`` with each resident layer library scaled to its arm64 build's size.

    The heap (Python objects, 8-byte pointers on both) is taken as the same; libraries of
    the runtime itself (libpython, libc, OpenSSL) and any without an arm64 counterpart in the
    layer count unchanged.
    """
    change = 0.0
    for path, resident in memory.libraries.items():
        key = _layer_key(path)
        if key is not None and key in ratios:
            change += resident * (ratios[key] - 1)
    return int(memory.hwm + change)


if __name__ == "__main__":
    figures = measure_stream_memory()
    print(figures.init.hwm / 2**20, figures.after_run.hwm / 2**20, figures.tokens,
          figures.after_run.library_total / 2**20, figures.bedrock_imports / 2**20)
