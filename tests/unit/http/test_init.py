"""The http package's public surface, and what importing it drags in."""

from __future__ import annotations

import subprocess
import sys

import lambdagraph.http


def test_exported_names_resolve() -> None:
    assert lambdagraph.http.__all__ == ["create_app"]  # building from settings: wiring
    for name in lambdagraph.http.__all__:
        assert callable(getattr(lambdagraph.http, name))


def test_importing_the_app_pulls_in_no_local_stack_code() -> None:
    code = (
        "import sys, lambdagraph.http.app; "
        "print(sorted(m for m in ('moto', 'uvicorn', 'lambdagraph_client.local') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"


def test_the_ag_ui_library_loads_on_the_first_ag_ui_request_not_at_cold_start() -> None:
    code = "import sys, lambdagraph.http.app; print('ag_ui' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "False"


def test_the_a2a_library_loads_on_the_first_a2a_request_not_at_cold_start() -> None:
    code = "import sys, lambdagraph.http.app; print('a2a' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "False"
