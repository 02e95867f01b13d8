"""Run the template's entry points in separate processes, as Lambda would.

Both the quick checks (the repository's package on ``PYTHONPATH``) and the packaging check
(only what ``sam build`` produced, in a clean virtualenv) go through here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROBE = Path(__file__).with_name("probe_handler.py")
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Nothing here may reach AWS: any call that tries fails fast on a closed port.
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_MAX_ATTEMPTS": "1",
}


def process_env(
    function_env: Mapping[str, str], *, python_path: str, bin_dir: str | None = None
) -> dict[str, str]:
    """A minimal environment: the function's variables, fake credentials, our paths only."""
    path = os.environ.get("PATH", "/usr/bin:/bin")
    env = {
        "PATH": f"{bin_dir}:{path}" if bin_dir else path,
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": python_path,
        "PYTHONDONTWRITEBYTECODE": "1",
        **FAKE_AWS,
        **function_env,
    }
    return env


def probe(
    python: str, code_dir: Path, handler: str, env: Mapping[str, str], event: Path | None = None
) -> dict[str, Any]:
    """Import (and invoke with ``event``) a handler in a fresh ``python``; its JSON report."""
    args = [python, str(PROBE), str(code_dir), handler] + ([str(event)] if event else [])
    done = subprocess.run(
        args, env=dict(env), capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode == 0, f"{handler} in {code_dir} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_script(
    script: Path, env: Mapping[str, str], port: int
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``run.sh`` as the Web Adapter would (AWS_LWA_PORT set); stop it afterwards."""
    process = subprocess.Popen(
        ["/bin/bash", str(script)],
        env={**env, "AWS_LWA_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_ok(
    process: subprocess.Popen[bytes], port: int, deadline_seconds: float = 60
) -> dict[str, Any]:
    """Poll ``GET /ok`` like the adapter's readiness check until it answers; its JSON body."""
    deadline = time.monotonic() + deadline_seconds
    url = f"http://127.0.0.1:{port}/ok"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"run.sh exited with {process.returncode}:\n{stderr[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())  # type: ignore[no-any-return]
        except OSError:
            time.sleep(0.1)  # readiness polling, as the adapter itself does
    raise AssertionError(f"{url} did not answer within {deadline_seconds} s")


def current_python() -> str:
    return sys.executable
