"""The local stack in a process of its own, for benchmarks: ``python -m tests.bench.stack_server``.

Starts :func:`lambdagraph.local.server.running_stack` (embedded moto, fresh tables, the
scripted model at ``LAMBDAGRAPH_SCRIPTED_DELAY_MS``, default 0 here), prints its URL on one
line, and serves until its standard input closes. The client runs in another process, as a
user's would: a client thread inside the server's process would compete with it for the GIL.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import uuid

from lambdagraph.local.server import running_stack
from lambdagraph.settings import Settings


def main() -> None:
    """Serve until stdin closes."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    suffix = uuid.uuid4().hex[:8]
    settings = dataclasses.replace(
        Settings.from_env(),
        app_table=f"bench-app-{suffix}",
        checkpoint_table=f"bench-checkpoints-{suffix}",
        scripted_delay_ms=int(os.environ.get("LAMBDAGRAPH_SCRIPTED_DELAY_MS", "0")),
    )
    with running_stack(settings=settings, embedded=True) as stack:
        print(stack.url, flush=True)  # noqa: T201 - the parent reads it
        sys.stdin.read()


if __name__ == "__main__":
    main()
