"""``LANGGRAPH_STRICT_MSGPACK=true``: typed state survives interrupt and resume.

The flag is read when LangGraph is imported, so the graph runs in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Tables

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("face", ["sync", "async"])
def test_dataclass_and_pydantic_state_survive_resume(tables: Tables, face: str) -> None:
    env = {
        **os.environ,
        "LANGGRAPH_STRICT_MSGPACK": "true",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.store._strict_msgpack_run",
            tables.checkpoints,
            face,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), result.stderr[-3000:]
