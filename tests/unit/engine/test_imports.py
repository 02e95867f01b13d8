"""The engine stays free of the local stack and of server frameworks (STYLE item 2)."""

from __future__ import annotations

import subprocess
import sys


def test_engine_imports_no_local_stack() -> None:
    code = (
        "import sys, lambdagraph.engine.executor, lambdagraph.store.app, lambdagraph.auth;"
        "print(','.join(m for m in ('moto', 'uvicorn', 'starlette', 'lambdagraph_client.local')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
