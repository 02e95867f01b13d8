"""The local stack in a process of its own, for benchmarks: ``python -m tests.bench.stack_server``.

Runs :func:`lambdagraph_client.local.server.serve`, what ``make dev`` runs (embedded moto), on a
free port with fresh tables and the scripted model at ``LAMBDAGRAPH_SCRIPTED_DELAY_MS``
(default 0 here), and prints its banner; SIGINT stops it. The client runs in another
process, as a user's would: a client thread inside the server's process would compete with
it for the GIL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import serve


def main() -> None:
    """Serve until SIGINT."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    suffix = uuid.uuid4().hex[:8]
    settings = Settings.from_env().replace(
        app_table=f"bench-app-{suffix}",
        checkpoint_table=f"bench-checkpoints-{suffix}",
        scripted_delay_ms=int(os.environ.get("LAMBDAGRAPH_SCRIPTED_DELAY_MS", "0")),
    )
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3"):
        os.environ.pop(name, None)  # always the stack's own embedded DynamoDB
    with contextlib.suppress(KeyboardInterrupt):
        serve(host="127.0.0.1", port=0, settings=settings)


if __name__ == "__main__":
    main()
