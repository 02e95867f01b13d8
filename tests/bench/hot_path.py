"""Profile the per-token path: graph chunk → Event → SSE bytes → uvicorn.

Serves the app (embedded DynamoDB, scripted model at delay 0) from this process's main
thread under ``cProfile`` while a client in another process streams ``count to 3000`` a few
times through ``langgraph-sdk``; prints where the event loop's time goes. DynamoDB calls run
in worker threads and the moto server in its own, so neither shows here: this is the part a
token pays for. Run: ``python -m tests.bench.hot_path [runs]``.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import logging
import pstats
import subprocess
import sys
import uuid

import uvicorn

from lambdagraph.settings import Settings
from lambdagraph.wiring import build_http_app
from lambdagraph_client.local.dynamo import embedded_aws, use_fake_credentials
from lambdagraph_client.local.server import _bind, prepare_storage
from tests.bench.targets import _bench_env
from tests.bench.venvs import ROOT

_CLIENT = """
import asyncio, sys
from langgraph_sdk import get_client
from tests.bench.timing import time_sdk_run
async def main():
    client = get_client(url=sys.argv[1])
    for _ in range(int(sys.argv[2])):
        timing = await time_sdk_run(client, "count to 3000")
        print(f"{timing.tokens_per_second:.0f} tokens/s")
asyncio.run(main())
"""


async def _serve_and_profile(runs: int, profile: cProfile.Profile) -> list[str]:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings().replace(
        app_table=f"hot-app-{suffix}", checkpoint_table=f"hot-cp-{suffix}",
        scripted_delay_ms=0,
    )
    prepare_storage(settings)
    app = build_http_app(settings)
    gc.freeze()  # as ``lambdagraph dev`` does before serving
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    sock = _bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    warm = [sys.executable, "-c", _CLIENT, url, "1"]
    await asyncio.to_thread(subprocess.run, warm, check=True, cwd=ROOT, env=_bench_env(),
                            capture_output=True)
    profile.enable()
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", _CLIENT, url, str(runs)], check=True, cwd=ROOT,
        env=_bench_env(), capture_output=True, text=True,
    )
    profile.disable()
    server.should_exit = True
    await task
    return result.stdout.split()


def profile_hot_path(runs: int = 3, top: int = 30) -> str:
    """The profile of ``runs`` streamed 3,000-token answers, as text."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    use_fake_credentials()
    profile = cProfile.Profile()
    with embedded_aws():
        speeds = asyncio.run(_serve_and_profile(runs, profile))
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats("tottime")
    out.write(f"client saw: {' '.join(speeds)}\n")
    stats.print_stats(top)
    out.write("lambdagraph's own per-token functions (cumulative):\n")
    ours = r"executor|chunks|sinks|streaming|sse|h11_impl|responses"
    stats.sort_stats("cumulative").print_stats(ours, 15)
    return out.getvalue()


if __name__ == "__main__":
    print(profile_hot_path(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
