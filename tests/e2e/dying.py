"""A local stack in a child process that a test kills mid-run, as a Lambda instance dies."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from lambdagraph.store.leases import RunLeases
from tests.conftest import Tables
from tests.e2e.conftest import DEADLINE

ROOT = Path(__file__).resolve().parents[2]
Process = asyncio.subprocess.Process


@asynccontextmanager
async def stack_process(script: str, tables: Tables) -> AsyncIterator[tuple[Process, str]]:
    """Run ``script`` (given the tables as JSON in ``argv[1]``) in a child process.

    Yields the process and the URL the script prints first; the process is killed on exit
    if the test has not killed it already.
    """
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "lambdagraph"), str(ROOT)]),
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        json.dumps(dataclasses.asdict(tables)),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        url = (await asyncio.wait_for(server.stdout.readline(), DEADLINE)).decode().strip()
        assert "://" in url, f"the server process did not start: {url!r}"
        yield server, url
    finally:
        await kill(server)


async def kill(server: Process) -> None:
    """Kill the process (SIGKILL: no shutdown code runs) and reap it."""
    if server.returncode is None:
        server.kill()
        await server.wait()


async def lease_lapsed(leases: RunLeases, run_id: str) -> None:
    """Return once the run's lease has lapsed: its process is dead, so nobody renews it."""
    deadline = time.monotonic() + DEADLINE
    while True:
        lease = await leases.get(run_id)
        assert lease is not None, "the run never took a lease"
        if lease["lease_until"] < time.time():
            return
        assert time.monotonic() < deadline, "the dead process's lease never lapsed"
        await asyncio.sleep(min(0.2, lease["lease_until"] - time.time() + 0.01))
