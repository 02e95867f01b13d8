"""The public surface of ``lambdagraph.ws`` and what importing it pulls in."""

from __future__ import annotations

import subprocess
import sys

from lambdagraph import ws


def test_every_public_name_is_exported() -> None:
    assert len(set(ws.__all__)) == len(ws.__all__)
    for name in ws.__all__:
        assert getattr(ws, name) is not None


def test_the_ws_function_path_needs_no_local_stack() -> None:
    names = ("lambdagraph_client.websocket", "lambdagraph_client.local", "moto", "uvicorn")
    code = (
        "import sys, lambdagraph.ws, lambdagraph.protocol.ws;"
        f"print(sorted(m for m in {names!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
