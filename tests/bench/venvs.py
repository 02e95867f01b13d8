"""Virtualenvs for the peers the benchmarks compare against, created on first use.

The peers (``langgraph-checkpoint-aws``, ``langgraph-cli[inmem]``) are never dependencies of
lambdagraph: each gets a virtualenv of its own in the repository root (ignored by git),
with our exact ``langgraph`` and ``langgraph-checkpoint`` pinned so both sides run the same
graph runtime. A stamp file records what was installed, so later runs skip pip entirely.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_STAMP = ".bench-installed"


class PeerUnavailable(RuntimeError):
    """A peer could not be installed or started; the message says exactly why."""


def runtime_pins() -> list[str]:
    """Our graph runtime's exact versions, so a peer measures the same LangGraph."""
    return [
        f"langgraph=={version('langgraph')}",
        f"langgraph-checkpoint=={version('langgraph-checkpoint')}",
        f"langchain-core=={version('langchain-core')}",
    ]


def venv_ready(directory: Path, requirements: Sequence[str]) -> bool:
    """Whether ``directory`` already holds ``requirements`` (so :func:`ensure_venv` skips pip)."""
    stamp = directory / _STAMP
    return (directory / "bin" / "python").exists() and stamp.exists() and (
        stamp.read_text() == "\n".join(requirements)
    )


def ensure_venv(directory: Path, requirements: Sequence[str]) -> Path:
    """The python of a virtualenv holding ``requirements``, created and installed if needed.

    Args:
        directory: where the virtualenv lives, e.g. ``ROOT / ".venv-bench-peer"``.
        requirements: pip requirement strings.

    Returns:
        The virtualenv's ``bin/python``.

    Raises:
        PeerUnavailable: the virtualenv or the install failed (pip's last words included,
            e.g. no network to reach the package index).
    """
    python = directory / "bin" / "python"
    if venv_ready(directory, requirements):
        return python
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             *requirements],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise PeerUnavailable(f"could not create {directory.name}: {exc}") from exc
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR")] or lines or ["no output"]
        raise PeerUnavailable(f"pip could not install {requirements[0]}: {errors[-1].strip()}")
    (directory / _STAMP).write_text("\n".join(requirements))
    return python
